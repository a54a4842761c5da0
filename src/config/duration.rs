//! Durations written as strings: `"500ms"`, `"10s"`, `"30m"`, `"2h"`, `"1d"`,
//! `"2w"`, `"1mo"`, also `"1.5s"` and compounds like `"1h30m"`. Parsed with
//! integer arithmetic so that what is written is exactly what is used.
//!
//! `m` is minutes, as everywhere else in the config; a month is spelled `mo`
//! (30 days), so the unit that means a month can never be read as minutes.

use serde::{Deserialize, Deserializer};
use std::time::Duration;

/// A duration read from a `"10s"`-style string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationStr(pub Duration);

impl DurationStr {
    pub const fn from_secs(s: u64) -> Self {
        DurationStr(Duration::from_secs(s))
    }
}

const NANOS: &[(&str, u128)] = &[
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("h", 3600 * 1_000_000_000),
    ("d", 86400 * 1_000_000_000),
    ("w", 7 * 86400 * 1_000_000_000),
    ("mo", 30 * 86400 * 1_000_000_000),
];

/// Units [`format_duration`] leaves out: it writes days, which say exactly
/// how long without knowing what a month is.
const NOT_FORMATTED: &[&str] = &["w", "mo"];

/// The longest duration accepted: about 31,000 years, far beyond any timeout.
const MAX_SECS: u128 = 1_000_000_000_000;

const EXPECTED: &str = "expected a duration like \"500ms\", \"10s\", \"30m\", \"2h\", \"30d\", \"2w\", \"1mo\" or \"1h30m\" (units: ms, s, m = minutes, h, d, w, mo = 30 days)";

/// Parse `"<number><unit>"` (repeatable, e.g. `"1h30m"`) with unit `ms`, `s`,
/// `m` (minutes), `h`, `d`, `w` or `mo` (30 days); the number may have a
/// decimal part (`"1.5s"`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!("{s:?} is not a duration: {EXPECTED}"));
    }
    let mut total: u128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(split);
        if !num.bytes().any(|b| b.is_ascii_digit()) || num.matches('.').count() > 1 {
            return Err(format!("{s:?} is not a duration: {EXPECTED}"));
        }
        let after = after.trim_start();
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let per_unit = match NANOS.iter().find(|(u, _)| *u == unit) {
            Some((_, n)) => *n,
            None if unit.is_empty() => return Err(format!("{s:?} has no unit: {EXPECTED}")),
            None => return Err(format!("{s:?} has an unknown unit {unit:?}: {EXPECTED}")),
        };
        total = total
            .checked_add(scaled(num, per_unit).ok_or_else(|| too_large(s))?)
            .ok_or_else(|| too_large(s))?;
        if total > MAX_SECS * 1_000_000_000 {
            return Err(too_large(s));
        }
        rest = next.trim_start();
    }
    let secs = (total / 1_000_000_000) as u64;
    let nanos = (total % 1_000_000_000) as u32;
    Ok(Duration::new(secs, nanos))
}

fn too_large(s: &str) -> String {
    format!("{s:?} is too large: the longest accepted duration is {MAX_SECS}s")
}

/// `num` (digits with at most one `.`) times `per_unit` nanoseconds,
/// truncated to whole nanoseconds; `None` when too large.
fn scaled(num: &str, per_unit: u128) -> Option<u128> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let int = int.trim_start_matches('0');
    if int.len() > 20 {
        return None;
    }
    let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut value = whole.checked_mul(per_unit)?;
    // Digits beyond the 18th cannot change a whole nanosecond of any unit.
    let frac = &frac[..frac.len().min(18)];
    if !frac.is_empty() {
        let digits: u128 = frac.parse().ok()?;
        value = value.checked_add(digits * per_unit / 10u128.pow(frac.len() as u32))?;
    }
    Some(value)
}

/// The shortest string that [`parse_duration`] reads back as exactly `d`
/// (`"2s"`, `"1h30m"`, `"1.5ms"`).
pub fn format_duration(d: Duration) -> String {
    let mut nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, per) in NANOS.iter().rev() {
        if NOT_FORMATTED.contains(unit) {
            continue;
        }
        if *unit == "ms" {
            break;
        }
        let n = nanos / per;
        if n > 0 && (nanos.is_multiple_of(*per) || *per >= 60 * 1_000_000_000) {
            out.push_str(&format!("{n}{unit}"));
            nanos %= per;
        }
    }
    if nanos > 0 {
        let ms = nanos / 1_000_000;
        let rest = nanos % 1_000_000;
        if rest == 0 {
            out.push_str(&format!("{ms}ms"));
        } else {
            let frac = format!("{rest:06}");
            out.push_str(&format!("{ms}.{}ms", frac.trim_end_matches('0')));
        }
    }
    out
}

impl<'de> Deserialize<'de> for DurationStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s)
            .map(DurationStr)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(
            parse_duration("30d").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(parse_duration(" 10 s ").unwrap(), Duration::from_secs(10));
        assert_eq!(
            parse_duration("2w").unwrap(),
            Duration::from_secs(14 * 86400)
        );
    }

    #[test]
    fn a_month_is_mo_and_m_stays_minutes() {
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(
            parse_duration("1mo").unwrap(),
            Duration::from_secs(30 * 86400)
        );
        assert_eq!(
            parse_duration("1mo15d").unwrap(),
            Duration::from_secs(45 * 86400)
        );
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5ms").unwrap(), Duration::from_millis(5));
        for bad in ["1month", "1M", "1mon", "1y"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn parses_fractions_exactly() {
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(
            parse_duration("1234ms").unwrap(),
            Duration::from_millis(1234)
        );
        assert_eq!(parse_duration("0.001s").unwrap(), Duration::from_millis(1));
        assert_eq!(parse_duration(".5m").unwrap(), Duration::from_secs(30));
        assert_eq!(
            parse_duration("1.25ms").unwrap(),
            Duration::from_micros(1250)
        );
    }

    #[test]
    fn parses_compounds() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "",
            "10",
            "ten s",
            "5y",
            "2 parsecs",
            "1..5s",
            ".s",
            "-5s",
            "s",
            "99999999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
        let e = parse_duration("2 parsecs").unwrap_err();
        assert!(
            e.contains("\"parsecs\"")
                && e.contains("units: ms, s, m = minutes, h, d, w, mo = 30 days"),
            "{e}"
        );
    }

    #[test]
    fn formats_what_it_parses() {
        for (d, s) in [
            (Duration::from_secs(2), "2s"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(1250), "1.25ms"),
            (Duration::from_secs(86400 * 2), "2d"),
            (Duration::from_secs(86400 * 30), "30d"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(format_duration(d), s);
            assert_eq!(parse_duration(s).unwrap(), d);
        }
    }
}
