//! Numbers, dates and times as ASCII text straight into a byte buffer, and
//! text with its escapes. The text paths (COPY text into PostgreSQL,
//! `LOAD DATA` into MySQL) render a few values of these kinds in every row;
//! through `write!` and chrono's format strings that was the largest part
//! of their CPU time.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

/// Appends `s` with the escapes both text load formats share (backslash,
/// tab, newline, carriage return), and NUL as `\0` when `nul` is set
/// (MySQL's `LOAD DATA`; PostgreSQL's text never holds NUL).
pub fn push_escaped(buf: &mut Vec<u8>, s: &[u8], nul: bool) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 if nul => b"\\0",
            _ => continue,
        };
        buf.extend_from_slice(&s[start..i]);
        buf.extend_from_slice(esc);
        start = i + 1;
    }
    buf.extend_from_slice(&s[start..]);
}

/// Appends `n` in decimal, at least `width` digits (zero-padded).
pub fn push_digits(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    while n > 0 || tmp.len() - i < width.clamp(1, 20) {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `i` in decimal, as `{i}` prints it.
pub fn push_int(buf: &mut Vec<u8>, i: i64) {
    if i < 0 {
        buf.push(b'-');
    }
    push_digits(buf, i.unsigned_abs(), 1);
}

/// Writes `n` as exactly `out.len()` digits.
fn fixed(out: &mut [u8], mut n: u32) {
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `YYYY-MM-DD`, for years 0 to 9999 (`None` outside them).
pub fn iso_date(d: NaiveDate) -> Option<[u8; 10]> {
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    let mut out = *b"0000-00-00";
    fixed(&mut out[0..4], year);
    fixed(&mut out[5..7], d.month());
    fixed(&mut out[8..10], d.day());
    Some(out)
}

/// `YYYY-MM-DD HH:MM:SS.ffffff` (what chrono's `%Y-%m-%d %H:%M:%S%.6f`
/// prints), for years 0 to 9999 and no leap second (`None` otherwise).
pub fn iso_micros(t: NaiveDateTime) -> Option<[u8; 26]> {
    let nanos = t.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let mut out = *b"0000-00-00 00:00:00.000000";
    out[..10].copy_from_slice(&iso_date(t.date())?);
    fixed(&mut out[11..13], t.hour());
    fixed(&mut out[14..16], t.minute());
    fixed(&mut out[17..19], t.second());
    fixed(&mut out[20..26], nanos / 1000);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_print_as_display_does() {
        for i in [0, 7, -7, 10, 99, 100, i64::MAX, i64::MIN, 1_000_000_007] {
            let mut b = Vec::new();
            push_int(&mut b, i);
            assert_eq!(b, i.to_string().as_bytes());
        }
        let mut b = Vec::new();
        push_digits(&mut b, 7, 4);
        push_digits(&mut b, 12345, 2);
        assert_eq!(b, b"000712345");
    }

    #[test]
    fn dates_and_times_print_as_chrono_prints_them() {
        let f = "%Y-%m-%d %H:%M:%S%.6f";
        for t in [
            "0000-01-01 00:00:00.000000",
            "0012-03-04 05:06:07.000008",
            "2024-02-29 23:59:59.999999",
            "9999-12-31 23:59:59.500000",
        ] {
            let v = NaiveDateTime::parse_from_str(t, f).unwrap();
            assert_eq!(iso_micros(v).unwrap(), t.as_bytes(), "{t}");
            assert_eq!(v.format(f).to_string(), t);
            assert_eq!(iso_date(v.date()).unwrap(), t.as_bytes()[..10]);
        }
        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert_eq!(iso_date(far), None);
        assert_eq!(iso_date(NaiveDate::from_ymd_opt(-1, 1, 1).unwrap()), None);
    }
}
