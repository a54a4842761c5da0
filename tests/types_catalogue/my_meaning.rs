//! Is a value that left a MySQL branch the same value at the central? The
//! original is MySQL's text of a column of `COLUMN_TYPE` `ty` (read in
//! UTC); the copy is the text another database printed (untagged). Equal
//! text, or equal once both are read as the column's kind: numbers as exact
//! decimals, `TINYINT(1)` as a truth value, floats by IEEE equality (`-0` =
//! `0`), date-times as instants (`2024-01-01 00:00:00.000000` and
//! `2024-01-01 00:00:00+00` are one instant), JSON as a document (key order
//! and spacing are not meaning). Bytes (`b:<length>:<digest>`) must be equal.

use chrono::{DateTime, NaiveDateTime};

pub fn same_meaning(ty: &str, name: &str, want: Option<&str>, got: Option<&str>) -> bool {
    let (Some(want), Some(got)) = (want, got) else {
        return want == got;
    };
    if want == got {
        return true;
    }
    if want.starts_with("b:") || got.starts_with("b:") {
        return false;
    }
    let ty = ty.to_ascii_lowercase();
    if ty.starts_with("tinyint(1)") {
        return truth(want).is_some() && truth(want) == truth(got);
    }
    if ty.contains("int") || ty.starts_with("decimal") || ty.starts_with("year") {
        return decimal(want).is_some() && decimal(want) == decimal(got);
    }
    if ty.starts_with("float") || ty.starts_with("double") {
        return match (want.parse::<f64>(), got.parse::<f64>()) {
            (Ok(w), Ok(g)) => w == g,
            _ => false,
        };
    }
    if ty.starts_with("datetime") || ty.starts_with("timestamp") {
        return instant(want).is_some() && instant(want) == instant(got);
    }
    if ty == "json" || name.contains("json") {
        let doc = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
        return doc(want).is_some() && doc(want) == doc(got);
    }
    false
}

fn truth(v: &str) -> Option<bool> {
    match v {
        "0" | "f" | "false" => Some(false),
        "1" | "t" | "true" => Some(true),
        _ => None,
    }
}

/// An exact decimal without sign noise, leading or trailing zeros.
fn decimal(v: &str) -> Option<String> {
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return Some("0".into()),
        (_, true) => int.to_owned(),
        (true, false) => format!("0.{frac}"),
        (false, false) => format!("{int}.{frac}"),
    };
    Some(if neg { format!("-{body}") } else { body })
}

/// A date-time as a UTC instant: with an offset (`+00`, `+00:00`) or
/// without one (then it is UTC, as the MySQL session reads it).
fn instant(v: &str) -> Option<NaiveDateTime> {
    let v = v.replace('T', " ");
    let padded = match v.rfind(['+', '-']) {
        Some(at) if at > 10 && v[at..].len() == 3 => format!("{v}:00"),
        _ => v.clone(),
    };
    DateTime::parse_from_str(&padded, "%Y-%m-%d %H:%M:%S%.f%:z")
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(&v, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

#[test]
fn meaning_reads_each_kind() {
    assert!(same_meaning(
        "decimal(65,30)",
        "d",
        Some("1.500"),
        Some("1.5")
    ));
    assert!(same_meaning("year(4)", "y", Some("0000"), Some("0")));
    assert!(!same_meaning("bigint(20)", "b", Some("1"), Some("2")));
    assert!(same_meaning("tinyint(1)", "f", Some("1"), Some("true")));
    assert!(!same_meaning("tinyint(1)", "f", Some("2"), Some("true")));
    assert!(same_meaning("double", "f", Some("-0"), Some("0")));
    assert!(same_meaning(
        "timestamp(6)",
        "t",
        Some("2023-12-31 18:15:00.000000"),
        Some("2023-12-31 18:15:00+00")
    ));
    assert!(!same_meaning(
        "datetime",
        "t",
        Some("2024-01-01 00:00:00"),
        Some("2024-01-01 00:00:01")
    ));
    assert!(same_meaning(
        "longtext",
        "c_json",
        Some(r#"{"b": 1, "a": 2}"#),
        Some(r#"{"a":2,"b":1}"#)
    ));
    assert!(!same_meaning("varchar(10)", "v", Some("a "), Some("a")));
}
