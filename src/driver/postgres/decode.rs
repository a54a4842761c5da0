//! Rows of a PostgreSQL source as driver [`Value`]s, for targets that do not
//! take the binary passthrough. Every column is selected cast to its kind's
//! type ([`decode_cast`]) and read in binary.
//!
//! Dates and timestamps are read from their binary form here rather than by
//! chrono's decoder, which refuses `infinity`, `-infinity` and years past
//! chrono's range (PostgreSQL's timestamps reach 294276 AD, its dates
//! 5874897 AD). Those values travel as PostgreSQL's own text for them
//! (`infinity`, `294276-12-31 23:59:59`), which every target stores as text
//! and PostgreSQL reads back as the same value (docs/TYPES.md).

use super::ident::quote_ident;
use super::schema::decode_cast;
use crate::driver::{Column, ColumnKind, Value};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use postgres::types::{FromSql, Type};
use postgres::Row;
use std::error::Error;

type BoxError = Box<dyn Error + Sync + Send>;

/// The select list of the decoded path: every column cast to its kind's type.
pub fn decoded_select(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| format!("{}{}", quote_ident(&c.name), decode_cast(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Column `i` of `row`, as selected by [`decoded_select`].
fn decode(row: &Row, i: usize, kind: ColumnKind) -> Result<Value, postgres::Error> {
    fn get<'a, T: FromSql<'a>>(
        row: &'a Row,
        i: usize,
        f: impl FnOnce(T) -> Value,
    ) -> Result<Value, postgres::Error> {
        Ok(row.try_get::<_, Option<T>>(i)?.map_or(Value::Null, f))
    }
    match kind {
        ColumnKind::Bool => get(row, i, Value::Bool),
        ColumnKind::Int => get(row, i, Value::Int),
        ColumnKind::Float => get(row, i, Value::Float),
        ColumnKind::Numeric => get(row, i, Value::Numeric),
        ColumnKind::Text => get(row, i, Value::Text),
        ColumnKind::Bytes => get(row, i, Value::Bytes),
        ColumnKind::Date | ColumnKind::Timestamp | ColumnKind::TimestampTz => {
            get(row, i, |t: Temporal| t.0)
        }
        ColumnKind::Json => get(row, i, Value::Json),
    }
}

/// Decodes one row into `out` (cleared first).
pub fn decode_row(
    row: &Row,
    columns: &[Column],
    out: &mut Vec<Value>,
) -> Result<(), postgres::Error> {
    out.clear();
    for (i, c) in columns.iter().enumerate() {
        out.push(decode(row, i, c.kind)?);
    }
    Ok(())
}

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// A `date`, `timestamp` or `timestamptz` as a [`Value`]: chrono's type when
/// it holds the value, else PostgreSQL's text form of it.
struct Temporal(Value);

impl<'a> FromSql<'a> for Temporal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date");
        if *ty == Type::DATE {
            let days = i32::from_be_bytes(raw.try_into()?);
            let v = match days {
                i32::MAX => Value::Text("infinity".into()),
                i32::MIN => Value::Text("-infinity".into()),
                d => match epoch.checked_add_signed(Duration::days(d.into())) {
                    Some(date) => Value::Date(date),
                    None => Value::Text(date_text(i64::from(d) + PG_EPOCH_DAYS, None, "")),
                },
            };
            return Ok(Temporal(v));
        }
        let micros = i64::from_be_bytes(raw.try_into()?);
        let tz = *ty == Type::TIMESTAMPTZ;
        let v = match micros {
            i64::MAX => Value::Text("infinity".into()),
            i64::MIN => Value::Text("-infinity".into()),
            m => match epoch
                .and_hms_opt(0, 0, 0)
                .and_then(|e| e.checked_add_signed(Duration::microseconds(m)))
            {
                Some(t) if tz => Value::TimestampTz(DateTime::from_naive_utc_and_offset(t, Utc)),
                Some(t) => Value::Timestamp(t),
                None => {
                    let days = m.div_euclid(86_400_000_000);
                    let time = m.rem_euclid(86_400_000_000);
                    let offset = if tz { "+00" } else { "" };
                    Value::Text(date_text(days + PG_EPOCH_DAYS, Some(time), offset))
                }
            },
        };
        Ok(Temporal(v))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::DATE | Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }
}

/// PostgreSQL's ISO text of the day `days` after 1970-01-01, with the
/// microseconds into that day when given: `294277-01-01 00:00:00+00`,
/// `4714-11-24 BC`.
fn date_text(days: i64, micros: Option<i64>, offset: &str) -> String {
    let (y, m, d) = civil_from_days(days);
    let (year, bc) = if y <= 0 { (1 - y, " BC") } else { (y, "") };
    let mut s = format!("{year:04}-{m:02}-{d:02}");
    if let Some(t) = micros {
        let secs = t / 1_000_000;
        let frac = t % 1_000_000;
        s += &format!(" {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        if frac != 0 {
            s += &format!(".{frac:06}");
        }
        s += offset;
    }
    s + bc
}

/// (year, month, day) of the proleptic Gregorian day `z` after 1970-01-01,
/// years astronomical (0 = 1 BC); H. Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(PG_EPOCH_DAYS), (2000, 1, 1));
        assert_eq!(civil_from_days(-719_468), (0, 3, 1));
        // PostgreSQL's last date and first timestamp day.
        assert_eq!(
            date_text(2_145_031_948 + PG_EPOCH_DAYS, None, ""),
            "5874897-12-31"
        );
        assert_eq!(
            date_text(-2_451_545 + PG_EPOCH_DAYS, Some(1), "+00"),
            "4714-11-24 00:00:00.000001+00 BC"
        );
    }
}
