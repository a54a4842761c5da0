//! Rows of [`Value`]s as COPY text format, for when the binary passthrough
//! does not apply (another source dialect, or a target column of a wider
//! type): tab-separated, `\N` for NULL, backslash escapes, ISO dates.

use crate::driver::render::{self, push_digits, push_int};
use crate::driver::Value;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use std::io::Write;

/// Appends `s` with COPY text escapes (`\\`, `\t`, `\n`, `\r`).
pub fn push_escaped(buf: &mut Vec<u8>, s: &[u8]) {
    render::push_escaped(buf, s, false);
}

fn push_date(buf: &mut Vec<u8>, d: NaiveDate) -> bool {
    let y = d.year();
    let bc = y <= 0;
    let year = if bc { 1 - y } else { y };
    push_digits(buf, year as u64, 4);
    buf.push(b'-');
    push_digits(buf, d.month().into(), 2);
    buf.push(b'-');
    push_digits(buf, d.day().into(), 2);
    bc
}

fn push_time(buf: &mut Vec<u8>, t: NaiveTime) {
    push_digits(buf, t.hour().into(), 2);
    buf.push(b':');
    push_digits(buf, t.minute().into(), 2);
    buf.push(b':');
    push_digits(buf, t.second().into(), 2);
    // A leap second shows as nanosecond >= 1e9; PostgreSQL has none.
    let micros = (t.nanosecond() % 1_000_000_000) / 1000;
    if micros != 0 {
        buf.push(b'.');
        push_digits(buf, micros.into(), 6);
    }
}

fn push_float(buf: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if f.is_infinite() {
        buf.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        // Display is the shortest text that reads back as the same f64.
        let _ = write!(buf, "{f}");
    }
}

/// Appends one value in COPY text format.
pub fn push_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => buf.extend_from_slice(b"\\N"),
        Value::Bool(b) => buf.push(if *b { b't' } else { b'f' }),
        Value::Int(i) => push_int(buf, *i),
        Value::Float(f) => push_float(buf, *f),
        Value::Numeric(s) | Value::Text(s) | Value::Json(s) => push_escaped(buf, s.as_bytes()),
        Value::Bytes(b) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            buf.reserve(3 + b.len() * 2);
            buf.extend_from_slice(b"\\\\x");
            for byte in b {
                buf.push(HEX[(byte >> 4) as usize]);
                buf.push(HEX[(byte & 15) as usize]);
            }
        }
        Value::Date(d) => {
            if push_date(buf, *d) {
                buf.extend_from_slice(b" BC");
            }
        }
        Value::Timestamp(t) => {
            let bc = push_date(buf, t.date());
            buf.push(b' ');
            push_time(buf, t.time());
            if bc {
                buf.extend_from_slice(b" BC");
            }
        }
        Value::TimestampTz(t) => {
            let n = t.naive_utc();
            let bc = push_date(buf, n.date());
            buf.push(b' ');
            push_time(buf, n.time());
            buf.extend_from_slice(b"+00");
            if bc {
                buf.extend_from_slice(b" BC");
            }
        }
    }
}

/// Appends one row: `prefix` (an already encoded first field, e.g. the
/// branch, with its tab) and the values, tab-separated, then a newline.
pub fn push_row(buf: &mut Vec<u8>, prefix: &[u8], values: &[Value]) {
    buf.extend_from_slice(prefix);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        push_value(buf, v);
    }
    buf.push(b'\n');
}

/// The encoded first field for `branch`, tab included.
pub fn branch_prefix(branch: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(branch.len() + 1);
    push_escaped(&mut p, branch.as_bytes());
    p.push(b'\t');
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDateTime, Utc};

    fn enc(v: Value) -> String {
        let mut b = Vec::new();
        push_value(&mut b, &v);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn escapes_text() {
        assert_eq!(
            enc(Value::Text("a\tb\nc\rd\\e 'f' \"g\" ü".into())),
            "a\\tb\\nc\\rd\\\\e 'f' \"g\" ü"
        );
        assert_eq!(enc(Value::Null), "\\N");
        assert_eq!(enc(Value::Text("\\N".into())), "\\\\N");
    }

    #[test]
    fn encodes_scalars() {
        assert_eq!(enc(Value::Bool(true)), "t");
        assert_eq!(enc(Value::Int(-42)), "-42");
        assert_eq!(enc(Value::Float(0.1)), "0.1");
        assert_eq!(enc(Value::Float(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(enc(Value::Numeric("12.50".into())), "12.50");
        assert_eq!(enc(Value::Bytes(vec![0, 0xab, 0x10])), "\\\\x00ab10");
    }

    #[test]
    fn encodes_dates_and_times() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(enc(Value::Date(d)), "2024-02-29");
        assert_eq!(
            enc(Value::Date(NaiveDate::from_ymd_opt(0, 1, 1).unwrap())),
            "0001-01-01 BC"
        );
        let t = NaiveDateTime::parse_from_str("2024-01-02 03:04:05.000120", "%Y-%m-%d %H:%M:%S%.f")
            .unwrap();
        assert_eq!(enc(Value::Timestamp(t)), "2024-01-02 03:04:05.000120");
        let whole =
            NaiveDateTime::parse_from_str("2024-01-02 03:04:05", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(enc(Value::Timestamp(whole)), "2024-01-02 03:04:05");
        let tz: DateTime<Utc> = DateTime::from_naive_utc_and_offset(t, Utc);
        assert_eq!(enc(Value::TimestampTz(tz)), "2024-01-02 03:04:05.000120+00");
    }

    #[test]
    fn dates_far_from_now() {
        let d = NaiveDate::from_ymd_opt(12, 3, 4).unwrap();
        assert_eq!(enc(Value::Date(d)), "0012-03-04");
        assert_eq!(
            enc(Value::Date(NaiveDate::from_ymd_opt(-44, 3, 15).unwrap())),
            "0045-03-15 BC"
        );
        let far = NaiveDate::from_ymd_opt(200_000, 1, 2).unwrap();
        assert_eq!(enc(Value::Date(far)), "200000-01-02");
    }

    #[test]
    fn rows() {
        let mut b = Vec::new();
        push_row(&mut b, &branch_prefix("lmp"), &[Value::Int(1), Value::Null]);
        assert_eq!(b, b"lmp\t1\t\\N\n");
    }
}
