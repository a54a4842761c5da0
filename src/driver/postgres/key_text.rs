//! The text of a key field of a binary COPY tuple, for an error that must
//! name a key value (a key the source sent twice) where only the binary
//! stream is at hand: the types the upsert merge orders by (see
//! `binary_key`), printed as PostgreSQL prints them.

use chrono::{Duration, NaiveDate};

/// `bytes` (one field, in binary) of a column of type `type_name` (as
/// `format_type` prints it) as PostgreSQL's text; `None` for a type or a
/// form this does not read.
pub fn key_text(type_name: &str, bytes: &[u8]) -> Option<String> {
    // `timestamp(3) without time zone` → `timestamp without time zone`.
    let base = match type_name.split_once('(') {
        Some((head, rest)) => format!("{head}{}", rest.split_once(')').map_or("", |r| r.1)),
        None => type_name.to_owned(),
    };
    let base = base.trim();
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)?;
    match (base, bytes.len()) {
        ("smallint", 2) => Some(i16::from_be_bytes(bytes.try_into().ok()?).to_string()),
        ("integer", 4) => Some(i32::from_be_bytes(bytes.try_into().ok()?).to_string()),
        ("bigint", 8) => Some(i64::from_be_bytes(bytes.try_into().ok()?).to_string()),
        ("date", 4) => match i32::from_be_bytes(bytes.try_into().ok()?) {
            i32::MAX => Some("infinity".into()),
            i32::MIN => Some("-infinity".into()),
            days => Some(
                epoch
                    .checked_add_signed(Duration::days(days.into()))?
                    .to_string(),
            ),
        },
        ("timestamp without time zone" | "timestamp with time zone", 8) => {
            let zone = if base == "timestamp with time zone" {
                "+00"
            } else {
                ""
            };
            match i64::from_be_bytes(bytes.try_into().ok()?) {
                i64::MAX => Some("infinity".into()),
                i64::MIN => Some("-infinity".into()),
                micros => {
                    let at = epoch
                        .and_hms_opt(0, 0, 0)?
                        .checked_add_signed(Duration::microseconds(micros))?;
                    let text = at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
                    let text = text.trim_end_matches('0').trim_end_matches('.');
                    Some(format!("{text}{zone}"))
                }
            }
        }
        ("uuid", 16) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            Some(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        ("numeric", n) if n >= 8 => numeric_text(bytes),
        _ => None,
    }
}

/// A numeric's binary form (ndigits, weight, sign, dscale, base-10000
/// digits) as its decimal text.
fn numeric_text(b: &[u8]) -> Option<String> {
    let word = |i: usize| Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]));
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16 as i32;
    let sign = word(4)?;
    let dscale = word(6)? as usize;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits)
        .map(|i| word(8 + 2 * i))
        .collect::<Option<_>>()?;
    let digit = |power: i32| {
        let i = weight - power;
        if i < 0 || i as usize >= digits.len() {
            0
        } else {
            digits[i as usize]
        }
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        out.push_str(&digit(weight).to_string());
        for power in (0..weight).rev() {
            out.push_str(&format!("{:04}", digit(power)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut power = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(power)));
            power -= 1;
        }
        fraction.truncate(dscale);
        out.push('.');
        out.push_str(&fraction);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::key_text;
    use crate::driver::postgres::binary_key::numeric_binary;

    #[test]
    fn prints_each_key_type_as_postgresql_does() {
        assert_eq!(key_text("integer", &7i32.to_be_bytes()).unwrap(), "7");
        assert_eq!(key_text("bigint", &(-5i64).to_be_bytes()).unwrap(), "-5");
        assert_eq!(key_text("smallint", &3i16.to_be_bytes()).unwrap(), "3");
        assert_eq!(
            key_text("date", &(-1i32).to_be_bytes()).unwrap(),
            "1999-12-31"
        );
        let micros: i64 = 86_400_000_000 + 1_500_000;
        assert_eq!(
            key_text("timestamp(3) without time zone", &micros.to_be_bytes()).unwrap(),
            "2000-01-02 00:00:01.5"
        );
        assert_eq!(
            key_text("timestamp with time zone", &0i64.to_be_bytes()).unwrap(),
            "2000-01-01 00:00:00+00"
        );
        let uuid: Vec<u8> = (0u8..16).collect();
        assert_eq!(
            key_text("uuid", &uuid).unwrap(),
            "00010203-0405-0607-0809-0a0b0c0d0e0f"
        );
        for n in ["0", "12.50", "-0.0001", "123456789.123", "10000", "NaN"] {
            let b = numeric_binary(n).unwrap();
            assert_eq!(key_text("numeric(20,4)", &b).as_deref(), Some(n), "{n}");
        }
        assert_eq!(key_text("text", b"x"), None);
    }
}
