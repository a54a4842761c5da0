//! Comparing a branch's source table with its slice of the central table,
//! whatever the two drivers are.
//!
//! # The type mapping contract
//!
//! Both sides are read through their native clients as raw text (see
//! [`Db::raw_rows`]) and every value is brought to one canonical text per
//! logical column kind. Two values are "the same" across drivers exactly
//! when their canonical texts are equal; anything else the drivers do to a
//! value (rounding, a time zone shift, lost bytes, NULL turned into `''`) is
//! a difference.
//!
//! | kind      | story columns | canonical text                                                  |
//! |-----------|---------------|-----------------------------------------------------------------|
//! | NULL      | any           | NULL (distinct from `''` and from an empty blob)                 |
//! | integer   | `*_id`        | decimal digits as printed (`42`, `-7`)                           |
//! | numeric   | `amount`      | the decimal with trailing fractional zeros and a bare `.` removed (`12.50` → `12.5`, `100.00` → `100`, `-0.00` → `0`) |
//! | timestamp | `updated`     | `YYYY-MM-DD HH:MM:SS[.f]`, space separated, no zone, fraction without trailing zeros (`…:00.125000` → `…:00.125`) |
//! | boolean   | `flag`        | `true` / `false` (from `t`/`f`, `true`/`false` or `1`/`0`)       |
//! | bytes     | `payload`     | lower-case hex of the bytes (`\x00ff` → `00ff`)                  |
//! | text      | everything else | the exact text, byte for byte                                  |
//!
//! A value that does not parse as its kind is kept as `?<raw>`, so it can
//! only equal the same unparsable value on the other side.

use super::world::{Db, World};
use chrono::NaiveDateTime;

/// A row in canonical form, comparable across drivers.
pub type Canon = Vec<Option<String>>;

/// The logical kind of a story column, by its name.
fn kind_of(column: &str) -> &'static str {
    match column {
        c if c.ends_with("_id") => "integer",
        "amount" => "numeric",
        "updated" => "timestamp",
        "flag" => "boolean",
        "payload" => "bytes",
        _ => "text",
    }
}

pub fn canonical(column: &str, raw: Option<&str>) -> Option<String> {
    let raw = raw?;
    let bad = || format!("?{raw}");
    Some(match kind_of(column) {
        "integer" => raw
            .parse::<i64>()
            .map(|i| i.to_string())
            .unwrap_or_else(|_| bad()),
        "numeric" => canonical_decimal(raw).unwrap_or_else(bad),
        "timestamp" => canonical_timestamp(raw).unwrap_or_else(bad),
        "boolean" => match raw {
            "t" | "true" | "1" => "true".into(),
            "f" | "false" | "0" => "false".into(),
            _ => bad(),
        },
        "bytes" => match raw.strip_prefix("\\x") {
            Some(h) if h.bytes().all(|b| b.is_ascii_hexdigit()) => h.to_ascii_lowercase(),
            _ => bad(),
        },
        _ => raw.to_owned(),
    })
}

fn canonical_decimal(raw: &str) -> Option<String> {
    let (neg, digits) = match raw.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, raw),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    let zero = int == "0" && frac.is_empty();
    let sign = if neg && !zero { "-" } else { "" };
    Some(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

fn canonical_timestamp(raw: &str) -> Option<String> {
    let t = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())?;
    let s = t.format("%Y-%m-%d %H:%M:%S%.f").to_string();
    Some(match s.split_once('.') {
        Some((whole, frac)) if frac.trim_end_matches('0').is_empty() => whole.to_owned(),
        Some((whole, frac)) => format!("{whole}.{}", frac.trim_end_matches('0')),
        None => s,
    })
}

/// The canonical rows of `columns` of `table` in `db` (only the `branch`
/// slice when given), sorted.
pub fn canon_rows(db: &Db, table: &str, columns: &[String], branch: Option<&str>) -> Vec<Canon> {
    let mut rows: Vec<Canon> = db
        .raw_rows(table, columns, branch.map(|b| ("branch", b)))
        .into_iter()
        .map(|r| {
            r.iter()
                .zip(columns)
                .map(|(v, c)| canonical(c, v.as_deref()))
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// The source table of `branch` (rows without a key left out when
/// `keyed_only`), canonical and sorted, with its column names.
pub fn source_rows(
    w: &World,
    branch: &str,
    table: &str,
    keyed_only: bool,
) -> (Vec<String>, Vec<Canon>) {
    let db = w.branch(branch);
    let columns = db
        .columns(table)
        .unwrap_or_else(|| panic!("{table} is missing at {branch}"));
    let mut rows = canon_rows(db, table, &columns, None);
    if keyed_only {
        let key = columns
            .iter()
            .position(|c| *c == format!("{table}_id"))
            .unwrap();
        rows.retain(|r| r[key].is_some());
    }
    (columns, rows)
}

/// The central slice of `branch` in `table`, over `columns`.
pub fn target_rows(w: &World, branch: &str, table: &str, columns: &[String]) -> Vec<Canon> {
    canon_rows(&w.central, table, columns, Some(branch))
}

/// Asserts that `branch`'s slice of the central `table` equals its source
/// table, value by value in canonical form; returns the rows compared.
pub fn assert_slice_equals_source(w: &World, pair: &str, branch: &str, table: &str) -> Vec<Canon> {
    assert_slice(w, pair, branch, table, false)
}

/// As [`assert_slice_equals_source`], ignoring source rows without a key.
pub fn assert_slice(
    w: &World,
    pair: &str,
    branch: &str,
    table: &str,
    keyed_only: bool,
) -> Vec<Canon> {
    let (columns, want) = source_rows(w, branch, table, keyed_only);
    let got = target_rows(w, branch, table, &columns);
    assert_same(
        pair,
        &format!("{table} from {branch}"),
        &columns,
        &want,
        &got,
    );
    want
}

/// Fails with every differing value spelled out: per row (matched by key,
/// the first column) the columns whose canonical values differ, and the
/// rows present on one side only.
pub fn assert_same(pair: &str, what: &str, columns: &[String], want: &[Canon], got: &[Canon]) {
    if want == got {
        return;
    }
    let mut report = Vec::new();
    for w in want {
        match got.iter().find(|g| g[0] == w[0]) {
            None => report.push(format!("  missing at target: {w:?}")),
            Some(g) if g != w => {
                for (i, c) in columns.iter().enumerate() {
                    if g[i] != w[i] {
                        report.push(format!(
                            "  key {:?} column {c}: expected {:?}, got {:?}",
                            w[0], w[i], g[i]
                        ));
                    }
                }
            }
            Some(_) => {}
        }
    }
    for g in got.iter().filter(|g| !want.iter().any(|w| w[0] == g[0])) {
        report.push(format!("  extra at target: {g:?}"));
    }
    let dup = got.len() as i64 - want.len() as i64;
    panic!(
        "[{pair}] {what}: target differs from source ({} source rows, {} target rows, {dup:+}):\n{}",
        want.len(),
        got.len(),
        report.join("\n")
    );
}

#[test]
fn canonical_forms() {
    assert_eq!(canonical("amount", Some("12.50")).unwrap(), "12.5");
    assert_eq!(canonical("amount", Some("100.00")).unwrap(), "100");
    assert_eq!(canonical("amount", Some("100")).unwrap(), "100");
    assert_eq!(canonical("amount", Some("-0.00")).unwrap(), "0");
    assert_eq!(canonical("amount", Some("-0.05")).unwrap(), "-0.05");
    assert_eq!(canonical("amount", Some("1e3")).unwrap(), "?1e3");
    assert_eq!(
        canonical("updated", Some("2024-01-01T10:00:00.125000")).unwrap(),
        "2024-01-01 10:00:00.125"
    );
    assert_eq!(
        canonical("updated", Some("2024-01-01 10:00:00")).unwrap(),
        "2024-01-01 10:00:00"
    );
    assert_eq!(
        canonical("updated", Some("2024-01-01 10:00:00.000")).unwrap(),
        "2024-01-01 10:00:00"
    );
    assert_eq!(canonical("flag", Some("t")).unwrap(), "true");
    assert_eq!(canonical("flag", Some("0")).unwrap(), "false");
    assert_eq!(canonical("payload", Some("\\x00FF")).unwrap(), "00ff");
    assert_eq!(canonical("payload", Some("\\x")).unwrap(), "");
    assert_eq!(canonical("note", Some("")).unwrap(), "");
    assert_eq!(canonical("note", None), None);
}
