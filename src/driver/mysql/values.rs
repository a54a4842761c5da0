//! Values across the MySQL text protocol: reading decodes the bytes of a
//! column by its [`ColumnKind`]; writing renders a [`Value`] as an SQL
//! literal for multi-row `INSERT`s (the literal forms below need backslash
//! escapes on, which the session's `sql_mode` guarantees).

use crate::driver::render::{iso_date, iso_micros};
use crate::driver::{ColumnKind, Value, WritePlan};
use chrono::{NaiveDate, NaiveDateTime};
use std::fmt::Write;

/// Why a value cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// `0000-00-00` or a date with a zero month or day: no other database
    /// can hold it, so the row goes to the reject file.
    ZeroDate(String),
    /// A `TINYINT(1)` (read as a boolean) holding neither 0 nor 1: as a
    /// boolean it would change, so the row goes to the reject file.
    NotBoolean(String),
    /// Anything else that does not parse as its column's kind.
    Bad(String),
}

/// The value of one column read in text form (`None`: SQL NULL).
pub fn decode(kind: ColumnKind, raw: Option<&[u8]>) -> Result<Value, Unreadable> {
    match kind {
        ColumnKind::Bytes | ColumnKind::Numeric | ColumnKind::Text | ColumnKind::Json => {
            decode_owned(kind, raw.map(<[u8]>::to_vec))
        }
        _ => raw.map_or(Ok(Value::Null), |r| scalar(kind, r)),
    }
}

/// As [`decode`], taking the bytes the client read: text and bytes become
/// the value without a copy (the rows of a table scan come this way).
pub fn decode_owned(kind: ColumnKind, raw: Option<Vec<u8>>) -> Result<Value, Unreadable> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let text = |raw: Vec<u8>| {
        String::from_utf8(raw).map_err(|_| Unreadable::Bad("the text is not valid UTF-8".into()))
    };
    Ok(match kind {
        ColumnKind::Bytes => Value::Bytes(raw),
        ColumnKind::Numeric => Value::Numeric(text(raw)?),
        ColumnKind::Text => Value::Text(text(raw)?),
        ColumnKind::Json => Value::Json(text(raw)?),
        _ => return scalar(kind, &raw),
    })
}

/// A value of a kind that is not carried as text or bytes.
fn scalar(kind: ColumnKind, raw: &[u8]) -> Result<Value, Unreadable> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| Unreadable::Bad("the text is not valid UTF-8".into()))?;
    let bad = |what: &str| Unreadable::Bad(format!("{text:?} is not a valid {what}"));
    Ok(match kind {
        ColumnKind::Bool => match text {
            "0" => Value::Bool(false),
            "1" => Value::Bool(true),
            _ if text.parse::<i64>().is_ok() => return Err(Unreadable::NotBoolean(text.into())),
            _ => return Err(bad("boolean")),
        },
        ColumnKind::Int => Value::Int(text.parse().map_err(|_| bad("integer"))?),
        ColumnKind::Float => Value::Float(text.parse().map_err(|_| bad("number"))?),
        ColumnKind::Date => Value::Date(date(text)?),
        ColumnKind::Timestamp => Value::Timestamp(datetime(text)?),
        ColumnKind::TimestampTz => Value::TimestampTz(datetime(text)?.and_utc()),
        ColumnKind::Bytes | ColumnKind::Numeric | ColumnKind::Text | ColumnKind::Json => {
            unreachable!("carried as text or bytes")
        }
    })
}

fn is_zero_date(text: &str) -> bool {
    let d = text.get(..10).unwrap_or(text);
    d.starts_with("0000") || d.get(5..7) == Some("00") || d.get(8..10) == Some("00")
}

/// The number in `digits` (all ASCII digits, at most 9 of them).
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
    })
}

/// `YYYY-MM-DD`, as the server prints every date.
fn fast_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]`, as the server prints every `DATETIME`
/// and `TIMESTAMP` (the fraction has the column's 1 to 6 digits).
fn fast_datetime(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() < 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', f @ ..] => digits(f)? * 10u32.pow(9 - f.len() as u32),
        _ => return None,
    };
    fast_date(&b[..10])?.and_hms_nano_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
        nanos,
    )
}

fn date(text: &str) -> Result<NaiveDate, Unreadable> {
    if is_zero_date(text) {
        return Err(Unreadable::ZeroDate(text.to_owned()));
    }
    fast_date(text.as_bytes())
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .ok_or_else(|| Unreadable::Bad(format!("{text:?} is not a valid date")))
}

fn datetime(text: &str) -> Result<NaiveDateTime, Unreadable> {
    if is_zero_date(text) {
        return Err(Unreadable::ZeroDate(text.to_owned()));
    }
    fast_datetime(text.as_bytes())
        .or_else(|| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok())
        .ok_or_else(|| Unreadable::Bad(format!("{text:?} is not a valid date and time")))
}

/// Appends `v` as an SQL literal. Floats that MySQL cannot store (NaN,
/// infinities) and decimals that are not plain numbers are errors.
pub fn literal(out: &mut String, v: &Value) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("NULL"),
        Value::Text(s) | Value::Json(s) => quoted(out, s),
        Value::Bytes(b) if b.is_empty() => out.push_str("''"),
        Value::Bytes(b) => {
            out.push_str("X'");
            hex(out, b);
            out.push('\'');
        }
        Value::Date(_) | Value::Timestamp(_) | Value::TimestampTz(_) => {
            out.push('\'');
            unquoted(out, v)?;
            out.push('\'');
        }
        _ => unquoted(out, v)?,
    }
    Ok(())
}

/// Appends `v` as the text MySQL reads it from (no quotes, no escapes):
/// `1`/`0` for booleans, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC for times,
/// text as it is. NULL and bytes have no such form.
pub fn unquoted(out: &mut String, v: &Value) -> Result<(), String> {
    match v {
        Value::Bool(b) => out.push(if *b { '1' } else { '0' }),
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f:e}");
        }
        Value::Float(f) => {
            return Err(format!(
                "{f} cannot be stored in MySQL (no NaN or infinity)"
            ))
        }
        Value::Numeric(n) => out.push_str(plain_decimal(n)?),
        Value::Text(s) | Value::Json(s) => out.push_str(s),
        Value::Date(d) => match iso_date(*d) {
            Some(b) => out.push_str(std::str::from_utf8(&b).expect("ASCII")),
            None => {
                let _ = write!(out, "{}", d.format("%Y-%m-%d"));
            }
        },
        Value::Timestamp(t) => datetime_text(out, *t),
        Value::TimestampTz(t) => datetime_text(out, t.naive_utc()),
        Value::Null | Value::Bytes(_) => unreachable!("NULL and bytes are written by the caller"),
    }
    Ok(())
}

/// `n` when it is a plain number MySQL reads as a decimal.
pub fn plain_decimal(n: &str) -> Result<&str, String> {
    let plain = n.bytes().any(|b| b.is_ascii_digit())
        && n.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
    if plain {
        Ok(n)
    } else {
        Err(format!("the decimal {n:?} cannot be stored in MySQL"))
    }
}

/// `YYYY-MM-DD HH:MM:SS.ffffff`.
fn datetime_text(out: &mut String, t: NaiveDateTime) {
    match iso_micros(t) {
        Some(b) => out.push_str(std::str::from_utf8(&b).expect("ASCII")),
        None => {
            let _ = write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f"));
        }
    }
}

/// Appends `bytes` as hexadecimal digits.
pub fn hex(out: &mut String, bytes: &[u8]) {
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
}

/// A row must hold one value per column of the plan.
pub fn check_width(server: &str, plan: &WritePlan, values: &[Value]) -> crate::driver::Result<()> {
    if values.len() == plan.columns.len() {
        return Ok(());
    }
    Err(crate::driver::DriverError::other(format!(
        "{server}: table {}: a row has {} values for {} columns",
        plan.table,
        values.len(),
        plan.columns.len()
    )))
}

/// A string literal with MySQL's backslash escapes.
pub fn quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\x1a' => out.push_str("\\Z"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// A quoted identifier: `` `name` `` with backticks doubled.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_dates_are_their_own_failure() {
        for z in [
            "0000-00-00",
            "2024-00-10",
            "2024-03-00",
            "0000-00-00 00:00:00",
        ] {
            let kind = if z.len() > 10 {
                ColumnKind::Timestamp
            } else {
                ColumnKind::Date
            };
            assert_eq!(
                decode(kind, Some(z.as_bytes())),
                Err(Unreadable::ZeroDate(z.into()))
            );
        }
        assert_eq!(
            decode(ColumnKind::Bool, Some(b"2")),
            Err(Unreadable::NotBoolean("2".into()))
        );
        assert_eq!(decode(ColumnKind::Bool, Some(b"1")), Ok(Value::Bool(true)));
        assert_eq!(
            decode(ColumnKind::Timestamp, Some(b"2024-03-01 10:11:12.500000")),
            Ok(Value::Timestamp(
                NaiveDate::from_ymd_opt(2024, 3, 1)
                    .unwrap()
                    .and_hms_micro_opt(10, 11, 12, 500_000)
                    .unwrap()
            ))
        );
    }

    #[test]
    fn dates_and_times_read_as_chrono_reads_them() {
        for t in [
            "2024-03-01 10:11:12",
            "2024-03-01 10:11:12.5",
            "2024-03-01 10:11:12.123",
            "2024-02-29 23:59:59.999999",
            "9999-12-31 23:59:59.000001",
            "1000-01-01 00:00:00.000000",
        ] {
            let want = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f").unwrap();
            assert_eq!(
                decode(ColumnKind::Timestamp, Some(t.as_bytes())),
                Ok(Value::Timestamp(want)),
                "{t}"
            );
        }
        assert_eq!(
            decode(ColumnKind::Date, Some(b"2024-02-29")),
            Ok(Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()))
        );
        for bad in ["2023-02-29", "2024-13-01", "x", "2024-03-01 24:00:00"] {
            let kind = if bad.len() > 10 {
                ColumnKind::Timestamp
            } else {
                ColumnKind::Date
            };
            assert!(
                matches!(decode(kind, Some(bad.as_bytes())), Err(Unreadable::Bad(_))),
                "{bad}"
            );
        }
        assert_eq!(
            decode_owned(ColumnKind::Text, Some(b"caf\xc3\xa9".to_vec())),
            Ok(Value::Text("caf\u{e9}".into()))
        );
        assert!(matches!(
            decode_owned(ColumnKind::Text, Some(vec![0xff])),
            Err(Unreadable::Bad(_))
        ));
    }

    #[test]
    fn literals_escape_what_mysql_interprets() {
        let mut s = String::new();
        literal(&mut s, &Value::Text("a'b\\c\n\0".into())).unwrap();
        assert_eq!(s, r"'a\'b\\c\n\0'");
        s.clear();
        literal(&mut s, &Value::Bytes(vec![0, 255])).unwrap();
        assert_eq!(s, "X'00ff'");
        s.clear();
        assert!(literal(&mut s, &Value::Numeric("1); DROP TABLE x".into())).is_err());
        assert!(literal(&mut s, &Value::Float(f64::NAN)).is_err());
    }
}
