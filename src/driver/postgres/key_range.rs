//! Key ranges on a PostgreSQL source: the `WHERE` condition of a
//! [`KeyRange`] and the query that finds where the next chunk of a large
//! copy ends. Both compare the key as a row value, `(a, b) > (x, y)`, which
//! is the order of the key's btree index, so both are index range scans
//! when the key is indexed (a primary key always is).

use super::ident::{quote_ident, quote_list, quote_literal};
use super::schema::native_or_kind_type;
use crate::driver::{DriverError, KeyRange, ReadRequest, Result};

/// `(k1, k2)` and the row of `values` cast to the key's types.
fn row_value(req: &ReadRequest, values: &[String]) -> Result<(String, String)> {
    if values.len() != req.key.len() {
        return Err(DriverError::other(format!(
            "{}: a key bound of {} values for a key of {} columns",
            req.table,
            values.len(),
            req.key.len()
        )));
    }
    let mut casts = Vec::with_capacity(values.len());
    for (k, v) in req.key.iter().zip(values) {
        let col = req.columns.iter().find(|c| &c.name == k).ok_or_else(|| {
            DriverError::schema(format!(
                "{}: the key column {k:?} is not among the columns read",
                req.table
            ))
        })?;
        casts.push(format!(
            "{}::{}",
            quote_literal(v),
            native_or_kind_type(col)
        ));
    }
    let key = format!("({})", quote_list(req.key.iter().map(String::as_str)));
    Ok((key, format!("({})", casts.join(", "))))
}

/// The conditions that keep a read inside `range`.
pub fn conditions(req: &ReadRequest, range: &KeyRange) -> Result<Vec<String>> {
    let mut out = Vec::new();
    if let Some(lower) = range.lower {
        let (key, row) = row_value(req, lower)?;
        out.push(format!("{key} > {row}"));
    }
    if let Some(upper) = range.upper {
        let (key, row) = row_value(req, upper)?;
        out.push(format!("{key} <= {row}"));
    }
    Ok(out)
}

/// The query for [`crate::driver::Source::key_bound`]: the keys of the
/// `rows`-th row after `after` and of the row after it (when there are
/// such rows), as text, one column per key column.
pub fn bound_query(
    req: &ReadRequest,
    table: &str,
    after: Option<&[String]>,
    rows: u64,
) -> Result<String> {
    let mut parts: Vec<String> = req
        .key
        .iter()
        .map(|k| format!("{} IS NOT NULL", quote_ident(k)))
        .collect();
    parts.extend(conditions(
        req,
        &KeyRange {
            lower: after,
            upper: None,
        },
    )?);
    let texts: Vec<String> = req
        .key
        .iter()
        .map(|k| format!("{}::text", quote_ident(k)))
        .collect();
    Ok(format!(
        "SELECT {} FROM {table} WHERE {} ORDER BY {} OFFSET {} LIMIT 2",
        texts.join(", "),
        parts.join(" AND "),
        quote_list(req.key.iter().map(String::as_str)),
        rows.saturating_sub(1)
    ))
}
