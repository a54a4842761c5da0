//! Branch partitions: a consolidated table that branchsync creates is
//! `PARTITION BY LIST (branch)`, one partition per connection, so that a
//! `full` refresh can replace one branch's slice by swapping a table in
//! rather than deleting rows (no dead rows, no index churn, readers never
//! wait on the load; see [`super::stage`]).
//!
//! Names are predictable: `<table>__<connection>` for a partition and
//! `<table>__<connection>__next` for the stage a refresh loads. PostgreSQL
//! cuts identifiers at 63 bytes, so a longer name is cut at a character
//! boundary and ends in a hash of the whole name, which keeps two long
//! names that share a prefix apart. The partition of a branch is found by
//! its bound, not by its name, so a partition someone renamed still counts.

use super::endpoint::Session;
use super::ident::{quote_ident, quote_literal, quote_table};
use crate::driver::Result;

/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
pub const MAX_IDENT: usize = 63;

/// `name`, or when longer than 63 bytes its start (cut at a character
/// boundary) plus `_` and 8 hex digits of a hash of the whole name.
pub fn fit(name: &str) -> String {
    if name.len() <= MAX_IDENT {
        return name.to_owned();
    }
    let hash = format!("_{:08x}", fnv1a(name.as_bytes()));
    let mut cut = MAX_IDENT - hash.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{hash}", &name[..cut])
}

/// 32-bit FNV-1a: stable across versions and platforms (names must not
/// change between releases).
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// The name of `branch`'s partition of `table`.
pub fn partition_name(table: &str, branch: &str) -> String {
    fit(&format!("{table}__{branch}"))
}

/// The name of the stage a refresh of `branch`'s slice loads.
pub fn stage_name(table: &str, branch: &str) -> String {
    fit(&format!("{table}__{branch}__next"))
}

/// Is `schema.table` a partitioned table?
pub fn is_partitioned(
    session: &mut Session,
    schema: &str,
    table: &str,
    doing: &str,
) -> Result<bool> {
    let r = session.client().query_opt(
        "SELECT c.relkind = 'p' FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2",
        &[&schema, &table],
    );
    let row = r.map_err(|e| session.err(&e, doing))?;
    Ok(row.is_some_and(|r| r.get::<_, bool>(0)))
}

/// The `FOR VALUES IN (…)` bound of `branch`'s partition.
pub fn bound(branch: &str) -> String {
    format!("FOR VALUES IN ({})", quote_literal(branch))
}

/// The partition of `schema.table` that holds `branch`, by its bound.
pub fn find(
    session: &mut Session,
    schema: &str,
    table: &str,
    branch: &str,
    doing: &str,
) -> Result<Option<String>> {
    let r = session.client().query(
        "SELECT c.relname::text, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
         FROM pg_catalog.pg_inherits i
         JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
         JOIN pg_catalog.pg_class p ON p.oid = i.inhparent
         JOIN pg_catalog.pg_namespace n ON n.oid = p.relnamespace
         WHERE n.nspname = $1 AND p.relname = $2",
        &[&schema, &table],
    );
    let rows = r.map_err(|e| session.err(&e, doing))?;
    // The server prints the bound with its own quoting; compare with the
    // value it would print for this branch.
    let want = session
        .client()
        .query_one("SELECT format('FOR VALUES IN (%L)', $1::text)", &[&branch])
        .map_err(|e| session.err(&e, doing))?
        .get::<_, String>(0);
    Ok(rows
        .into_iter()
        .find(|r| r.get::<_, Option<String>>(1).as_deref() == Some(want.as_str()))
        .map(|r| r.get(0)))
}

/// Creates `branch`'s (empty) partition of a partitioned table when it has
/// none, so that upserts and incremental runs have a place to write.
pub fn ensure(
    session: &mut Session,
    schema: &str,
    table: &str,
    branch: &str,
    doing: &str,
) -> Result<()> {
    if find(session, schema, table, branch, doing)?.is_some() {
        return Ok(());
    }
    let sql = format!(
        "CREATE TABLE {} PARTITION OF {} {}",
        quote_table(schema, &partition_name(table, branch)),
        quote_table(schema, table),
        bound(branch)
    );
    session.exec(&sql, doing)
}

/// For `check`: when `schema.table` is a plain table with the branch
/// column, what partitioning it by branch would gain and how to convert it.
pub fn conversion_note(
    session: &mut Session,
    schema: &str,
    table: &str,
    branch_column: &str,
) -> Result<Option<String>> {
    let doing = format!("inspecting {}", quote_table(schema, table));
    let r = session.client().query_opt(
        "SELECT c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = $3 AND NOT a.attisdropped)
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2",
        &[&schema, &table, &branch_column],
    );
    let plain = r
        .map_err(|e| session.err(&e, &doing))?
        .is_some_and(|r| r.get::<_, bool>(0));
    if !plain {
        return Ok(None);
    }
    let t = quote_table(schema, table);
    let old = quote_ident(&fit(&format!("{table}_plain")));
    Ok(Some(format!(
        "{table} is one plain table: a `full` refresh deletes a branch's rows and copies them again,          which leaves dead rows behind and makes readers wait. Partitioned by {branch_column}, a refresh          loads a fresh table and swaps it in (no dead rows, readers never wait). To convert:          ALTER TABLE {t} RENAME TO {old}; CREATE TABLE {t} (LIKE {schema_q}.{old} INCLUDING ALL) PARTITION BY LIST ({col});          then run sync-all (every branch gets its partition and reloads its slice) and DROP TABLE {schema_q}.{old}",
        schema_q = quote_ident(schema),
        col = quote_ident(branch_column),
    )))
}

/// The CHECK constraint a stage carries so that ATTACH can skip its
/// validation scan: it implies the partition's bound.
pub fn check_constraint(branch_column: &str, branch: &str) -> String {
    format!(
        "CHECK ({col} IS NOT NULL AND {col} = {})",
        quote_literal(branch),
        col = quote_ident(branch_column)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_in_63_bytes_at_a_character_boundary_and_stay_apart() {
        let long = "ü".repeat(40);
        let cases = [
            ("m_product", "pgsql_lmp", "m_product__pgsql_lmp".to_owned()),
            ("t\"x'", "b", "t\"x'__b".to_owned()),
        ];
        for (table, branch, want) in cases {
            assert_eq!(partition_name(table, branch), want);
        }
        for (table, branch) in [(long.as_str(), "pgsql_lmp"), (&"a".repeat(70), "b")] {
            let p = partition_name(table, branch);
            let s = stage_name(table, branch);
            assert!(p.len() <= MAX_IDENT && s.len() <= MAX_IDENT, "{p} {s}");
            assert_ne!(p, s);
            assert_eq!(p, partition_name(table, branch), "stable");
        }
        let a = partition_name(&"x".repeat(80), "branch_one");
        let b = partition_name(&"x".repeat(80), "branch_two");
        assert_ne!(a, b);
    }
}
