//! Where the chunks of a large copy end ([`crate::driver::Source::key_bound`]).
//!
//! Finding the exact `rows`-th key after a bound walks that many index
//! entries (and their heap tuples) at the branch: measured on 1M rows, a
//! quarter to a half of each chunk's own copy time, spent before the chunk
//! starts. A chunk needs only about `rows` rows, so for a large table one
//! `TABLESAMPLE SYSTEM` read of a small share of its pages gives every
//! bound of the copy at once: each sampled row stands for `100 / percent`
//! rows, and every `rows × percent / 100`-th sampled key (in key order)
//! ends a chunk. Pages hold runs of neighbouring keys, so the sample keeps
//! at least [`PAGES_PER_CHUNK`] pages per chunk; where that is a large share
//! of the table (small tables, small chunks) the exact walk is used, as it
//! is for views, which cannot be sampled.
//!
//! Each bound is a key that existed when the sample was read; a chunk is
//! `(previous bound, bound]` whatever its exact size, so resume, retries
//! and the journal's chunk records work as with exact bounds.

use super::endpoint::Session;
use super::ident::quote_list;
use super::key_range;
use crate::driver::{KeyRange, ReadRequest, Result};

/// Sampled pages per chunk: enough that a bound lands within a few percent
/// of the table of where an exact walk would put it.
const PAGES_PER_CHUNK: f64 = 30.0;

/// Above this share of the table the sample costs about what the exact
/// walks cost.
const MAX_PERCENT: f64 = 20.0;

/// The sampled bounds of one table's copy, handed out in order.
#[derive(Debug, Default)]
pub struct ChunkPlan {
    table: String,
    after: Option<Vec<String>>,
    bounds: std::collections::VecDeque<Vec<String>>,
}

/// The next bound after `after`, `rows` rows a chunk: from the plan when
/// it continues where the last bound ended, else from a new sample, else
/// exact. `Ok(None)`: the rest is one chunk.
pub fn next(
    session: &mut Session,
    plan: &mut Option<ChunkPlan>,
    req: &ReadRequest,
    table: &str,
    after: Option<&[String]>,
    rows: u64,
    doing: &str,
) -> Result<Option<Vec<String>>> {
    let continues = plan
        .as_ref()
        .is_some_and(|p| p.table == table && p.after.as_deref() == after);
    if !continues {
        *plan = sample(session, req, table, after, rows, doing)?;
    }
    if let Some(p) = plan.as_mut() {
        let bound = p.bounds.pop_front();
        p.after.clone_from(&bound);
        return Ok(bound);
    }
    exact(session, req, table, after, rows, doing)
}

/// The share of pages to sample, when sampling pays: `None` for views,
/// tables without statistics, and tables where it would be a large share.
fn percent(session: &mut Session, table: &str, rows: u64, doing: &str) -> Result<Option<f64>> {
    let r = session.client().query_opt(
        "SELECT c.relkind::text, c.reltuples::float8, c.relpages::float8 FROM pg_class c WHERE c.oid = to_regclass($1)",
        &[&table],
    );
    let Some(row) = r.map_err(|e| session.err(&e, doing))? else {
        return Ok(None);
    };
    let (kind, tuples, pages): (String, f64, f64) = (row.get(0), row.get(1), row.get(2));
    if !matches!(kind.as_str(), "r" | "m") || tuples < 1.0 || pages < 1.0 {
        return Ok(None);
    }
    let pages_per_chunk = rows as f64 * pages / tuples;
    let percent = 100.0 * PAGES_PER_CHUNK / pages_per_chunk.max(1.0);
    Ok((percent < MAX_PERCENT).then_some(percent))
}

fn sample(
    session: &mut Session,
    req: &ReadRequest,
    table: &str,
    after: Option<&[String]>,
    rows: u64,
    doing: &str,
) -> Result<Option<ChunkPlan>> {
    if req.key.is_empty() {
        return Ok(None);
    }
    let Some(percent) = percent(session, table, rows, doing)? else {
        return Ok(None);
    };
    let every = ((rows as f64 * percent / 100.0).round() as i64).max(1);
    let mut conds: Vec<String> = req
        .key
        .iter()
        .map(|k| format!("{} IS NOT NULL", super::ident::quote_ident(k)))
        .collect();
    conds.extend(key_range::conditions(
        req,
        &KeyRange {
            lower: after,
            upper: None,
        },
    )?);
    let keys = quote_list(req.key.iter().map(String::as_str));
    let texts: Vec<String> = (0..req.key.len()).map(|i| format!("s.k{i}")).collect();
    let cols: Vec<String> = req
        .key
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{}::text AS k{i}", super::ident::quote_ident(k)))
        .collect();
    let sql = format!(
        "SELECT {} FROM (SELECT {}, row_number() OVER (ORDER BY {keys}) AS rn \
         FROM {table} TABLESAMPLE SYSTEM ($1::float4) WHERE {}) s \
         WHERE s.rn % $2::int8 = 0 ORDER BY s.rn",
        texts.join(", "),
        cols.join(", "),
        conds.join(" AND "),
    );
    session.exec("BEGIN READ ONLY", doing)?;
    let r = session
        .client()
        .query(sql.as_str(), &[&(percent as f32), &every]);
    session.rollback();
    let found = r.map_err(|e| session.err(&e, doing))?;
    let bounds = found
        .iter()
        .map(|row| {
            (0..req.key.len())
                .map(|i| row.get::<_, String>(i))
                .collect()
        })
        .collect();
    log::debug!(
        "{table}: chunk bounds from a {percent:.2}% page sample: {} bounds",
        found.len()
    );
    Ok(Some(ChunkPlan {
        table: table.to_owned(),
        after: after.map(<[String]>::to_vec),
        bounds,
    }))
}

/// The exact bound: the key of the `rows`-th row after `after`.
fn exact(
    session: &mut Session,
    req: &ReadRequest,
    table: &str,
    after: Option<&[String]>,
    rows: u64,
    doing: &str,
) -> Result<Option<Vec<String>>> {
    let sql = key_range::bound_query(req, table, after, rows)?;
    // Read-only like every read of a branch: a view may call a function
    // that writes, and the source is never to be changed.
    session.exec("BEGIN READ ONLY", doing)?;
    let found = session.client().query(sql.as_str(), &[]);
    session.rollback();
    let found = found.map_err(|e| session.err(&e, doing))?;
    // A bound only when a row follows it: else the rest is one chunk.
    if found.len() < 2 {
        return Ok(None);
    }
    Ok(Some(
        (0..req.key.len())
            .map(|i| found[0].get::<_, String>(i))
            .collect(),
    ))
}
