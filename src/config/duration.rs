//! Durations written as strings: `"500ms"`, `"10s"`, `"30m"`, `"2h"`, `"1d"`.

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

/// Parse `"<number><unit>"` with unit `ms`, `s`, `m`, `h` or `d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let expected = "expected a duration like \"500ms\", \"10s\", \"30m\", \"2h\" or \"30d\"";
    if num.is_empty() {
        return Err(format!("{s:?} is not a duration: {expected}"));
    }
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: {expected}"))?;
    let secs = match unit.trim() {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        "" => return Err(format!("{s:?} has no unit: {expected}")),
        other => return Err(format!("{s:?} has an unknown unit {other:?}: {expected}")),
    };
    if !secs.is_finite() || secs > 1e12 {
        return Err(format!("{s:?} is too large"));
    }
    Ok(Duration::from_secs_f64(secs))
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
        assert_eq!(parse_duration("30d").unwrap(), Duration::from_secs(30 * 86400));
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("ten s").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
