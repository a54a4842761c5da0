//! Stored SQLite values to driver [`Value`]s and back. SQLite types values,
//! not columns, so every conversion here is written to lose nothing: a value
//! that does not fit its column's kind travels as what it is stored as.

use crate::driver::{ColumnKind, Value};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

/// A stored value as a [`Value`] of `kind`, or as its storage class when it
/// does not fit (text in an INTEGER column stays text).
pub fn to_value(kind: ColumnKind, v: ValueRef<'_>) -> Value {
    use ColumnKind as K;
    match (kind, v) {
        (_, ValueRef::Null) => Value::Null,
        (K::Int, ValueRef::Integer(i)) => Value::Int(i),
        (K::Float, ValueRef::Real(f)) => Value::Float(f),
        (K::Float, ValueRef::Integer(i)) => Value::Float(i as f64),
        (K::Float, ValueRef::Text(b"NaN")) => Value::Float(f64::NAN),
        (K::Numeric, ValueRef::Integer(i)) => Value::Numeric(i.to_string()),
        // Display of f64 is the shortest text that reads back as the same number.
        (K::Numeric, ValueRef::Real(f)) if f.is_finite() => Value::Numeric(f.to_string()),
        (K::Numeric, ValueRef::Text(t)) => match std::str::from_utf8(t) {
            Ok(s) if is_decimal(s) => Value::Numeric(s.to_owned()),
            _ => stored(v),
        },
        (K::Bool, ValueRef::Integer(i @ (0 | 1))) => Value::Bool(i == 1),
        (K::Bool, ValueRef::Text(t)) => match parse_bool(t) {
            Some(b) => Value::Bool(b),
            None => stored(v),
        },
        (K::Date, ValueRef::Text(t)) => text_as(t, v, |s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .map(Value::Date)
        }),
        (K::Timestamp, ValueRef::Text(t)) => {
            text_as(t, v, |s| parse_timestamp(s).map(Value::Timestamp))
        }
        (K::TimestampTz, ValueRef::Text(t)) => {
            text_as(t, v, |s| parse_timestamptz(s).map(Value::TimestampTz))
        }
        (K::Json, ValueRef::Text(t)) => match std::str::from_utf8(t) {
            Ok(s) => Value::Json(s.to_owned()),
            Err(_) => stored(v),
        },
        (K::Json, ValueRef::Integer(i)) => Value::Json(i.to_string()),
        (K::Json, ValueRef::Real(f)) if f.is_finite() => Value::Json(f.to_string()),
        _ => stored(v),
    }
}

/// The value as its storage class says (text that is not UTF-8 stays bytes).
fn stored(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_owned()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

fn text_as(t: &[u8], v: ValueRef<'_>, parse: impl FnOnce(&str) -> Option<Value>) -> Value {
    std::str::from_utf8(t)
        .ok()
        .and_then(parse)
        .unwrap_or_else(|| stored(v))
}

fn parse_bool(t: &[u8]) -> Option<bool> {
    match t.to_ascii_lowercase().as_slice() {
        b"1" | b"t" | b"true" => Some(true),
        b"0" | b"f" | b"false" => Some(false),
        _ => None,
    }
}

/// `[-+]digits[.digits][e[-+]digits]`, the forms every database reads as a decimal.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// `YYYY-MM-DD HH:MM[:SS[.f]]`, with a space or a `T`.
pub fn parse_timestamp(s: &str) -> Option<NaiveDateTime> {
    NAIVE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A timestamp with `Z` or a `±HH[:MM]` offset, or without one (read as UTC).
pub fn parse_timestamptz(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(naive) = s.strip_suffix(['Z', 'z']).and_then(parse_timestamp) {
        return Some(naive.and_utc());
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    parse_timestamp(s).map(|n| n.and_utc())
}

/// How a timestamp is stored: `YYYY-MM-DD HH:MM:SS[.fff[fff]]`, sortable as text.
pub fn format_timestamp(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.f").to_string()
}

/// How a timestamp with time zone is stored: in UTC, suffixed `+00:00`.
pub fn format_timestamptz(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.f+00:00").to_string()
}

/// A [`Value`] bound as a statement parameter.
pub struct Bind<'a>(pub &'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as Owned;
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Owned(Owned::Null),
            Value::Bool(b) => ToSqlOutput::Owned(Owned::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Owned(Owned::Integer(*i)),
            // SQLite stores a NaN REAL as NULL: keep it as the text `NaN`,
            // which REAL affinity leaves alone and every reader parses.
            Value::Float(f) if f.is_nan() => ToSqlOutput::Borrowed(ValueRef::Text(b"NaN")),
            Value::Float(f) => ToSqlOutput::Owned(Owned::Real(*f)),
            Value::Numeric(s) | Value::Text(s) | Value::Json(s) => {
                ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes()))
            }
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            Value::Date(d) => ToSqlOutput::Owned(Owned::Text(d.format("%Y-%m-%d").to_string())),
            Value::Timestamp(t) => ToSqlOutput::Owned(Owned::Text(format_timestamp(t))),
            Value::TimestampTz(t) => ToSqlOutput::Owned(Owned::Text(format_timestamptz(t))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_kind_or_stay_as_stored() {
        use ColumnKind as K;
        assert_eq!(
            to_value(K::Numeric, ValueRef::Real(12.5)),
            Value::Numeric("12.5".into())
        );
        assert_eq!(
            to_value(K::Numeric, ValueRef::Text(b"12.50")),
            Value::Numeric("12.50".into())
        );
        assert_eq!(
            to_value(K::Int, ValueRef::Text(b"abc")),
            Value::Text("abc".into())
        );
        assert_eq!(to_value(K::Bool, ValueRef::Integer(1)), Value::Bool(true));
        assert_eq!(to_value(K::Bool, ValueRef::Integer(7)), Value::Int(7));
        assert_eq!(
            to_value(K::Text, ValueRef::Text(&[0xff, 0x00])),
            Value::Bytes(vec![0xff, 0])
        );
        let t = to_value(K::Timestamp, ValueRef::Text(b"2024-02-29T13:14:15.25"));
        assert_eq!(
            t,
            Value::Timestamp(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .unwrap()
                    .and_hms_milli_opt(13, 14, 15, 250)
                    .unwrap()
            )
        );
        assert_eq!(
            to_value(K::Timestamp, ValueRef::Text(b"yesterday")),
            Value::Text("yesterday".into())
        );
        let tz = to_value(K::TimestampTz, ValueRef::Text(b"2024-01-01 02:00:00+02:00"));
        let Value::TimestampTz(tz) = tz else {
            panic!("{tz:?}")
        };
        assert_eq!(format_timestamptz(&tz), "2024-01-01 00:00:00+00:00");
        assert!(
            is_decimal("-1.5e3") && is_decimal(".5") && !is_decimal("1.2.3") && !is_decimal("e5")
        );
    }

    #[test]
    fn timestamps_store_as_sortable_text() {
        let t = parse_timestamp("2024-01-02 03:04:05").unwrap();
        assert_eq!(format_timestamp(&t), "2024-01-02 03:04:05");
        let t = parse_timestamp("2024-01-02 03:04:05.123456").unwrap();
        assert_eq!(format_timestamp(&t), "2024-01-02 03:04:05.123456");
    }
}
