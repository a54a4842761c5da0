//! What a consolidated table looks like at a PostgreSQL central server:
//! its branch partitions, and any stage or detached table a refresh could
//! have left behind.
#![allow(dead_code)]

use postgres::Client;

/// Is `table` (in `public`) partitioned?
pub fn is_partitioned(c: &mut Client, table: &str) -> bool {
    c.query_opt(
        "SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = 'p' AND relnamespace = 'public'::regnamespace",
        &[&table],
    )
    .unwrap()
    .is_some()
}

/// `table`'s partitions as (name, bound), by name.
pub fn partitions(c: &mut Client, table: &str) -> Vec<(String, String)> {
    c.query(
        "SELECT ch.relname::text, pg_get_expr(ch.relpartbound, ch.oid) FROM pg_inherits i
         JOIN pg_class ch ON ch.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = $1 AND p.relnamespace = 'public'::regnamespace ORDER BY 1",
        &[&table],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// Plain tables in `public` that are neither partitions nor listed in
/// `expected`: what a failed refresh would leave behind.
pub fn orphans(c: &mut Client, expected: &[&str]) -> Vec<String> {
    c.query(
        "SELECT relname::text FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace
         AND NOT relispartition ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get::<_, String>(0))
    .filter(|n| !expected.contains(&n.as_str()))
    .collect()
}
