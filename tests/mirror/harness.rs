#![allow(dead_code)]
//! One mirror from a real PostgreSQL branch database into a real central
//! one, through the library as the engine calls it (capabilities
//! negotiated, range checksums at both ends), and the check that the
//! branch's slice equals the source afterwards, value by value as text.

use crate::common::pg::TestDb;
use branchsync::config::{EngineConfig, Mode, ServerConfig};
use branchsync::driver::mirror::Tuning;
use branchsync::driver::{
    negotiate, open_endpoint, Column, DriverError, Endpoint, ReadRequest, RejectSink, Value,
    WriteOutcome, WritePlan,
};

pub const BRANCH: &str = "br_m";

pub fn endpoint(name: &str, db: &TestDb) -> Box<dyn Endpoint> {
    endpoint_at(name, &db.url)
}

pub fn endpoint_at(name: &str, url: &str) -> Box<dyn Endpoint> {
    let mut s: ServerConfig =
        toml::from_str(&format!("driver = \"postgres\"\nurl = {url:?}\n")).unwrap();
    s.name = name.to_owned();
    open_endpoint(&s, &EngineConfig::default(), 2).unwrap()
}

#[derive(Default)]
pub struct Rejects(pub u64);

impl RejectSink for Rejects {
    fn reject(&mut self, _: &[Column], _: &[Value], _: &str) -> Result<(), DriverError> {
        self.0 += 1;
        Ok(())
    }
}

/// Mirrors `table` (key `key`) from `src` into `dst` as branch [`BRANCH`].
pub fn mirror(
    src: &TestDb,
    dst: &TestDb,
    table: &str,
    key: &[&str],
    tuning: &Tuning,
) -> Result<WriteOutcome, DriverError> {
    mirror_at(&src.url, &dst.url, table, key, tuning, &mut || {})
}

/// [`mirror`] between two URLs; `ready` runs once both sessions are open
/// and the table is prepared, right before the mirror.
pub fn mirror_at(
    src: &str,
    dst: &str,
    table: &str,
    key: &[&str],
    tuning: &Tuning,
    ready: &mut dyn FnMut(),
) -> Result<WriteOutcome, DriverError> {
    let (s, t) = (endpoint_at(BRANCH, src), endpoint_at("target", dst));
    let pairing = negotiate(&s.capabilities(), &t.capabilities());
    let dialect = pairing
        .checksums
        .expect("postgres pairs share a checksum dialect");
    let mut source = s.source()?;
    let schema = source.describe(None, table)?.expect("source table");
    let key: Vec<String> = key.iter().map(|k| k.to_string()).collect();
    let plan = WritePlan {
        schema: "public",
        table,
        columns: &schema.columns,
        key: &key,
        mode: Mode::Mirror,
        cursor: None,
        branch: Some(("branch", BRANCH)),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let mut target = t.target()?;
    target.prepare(&plan)?;
    let req = ReadRequest {
        schema: None,
        table,
        columns: &schema.columns,
        key: &key,
        since: None,
        range: Default::default(),
    };
    let mut rejects = Rejects::default();
    ready();
    let mut side = source
        .range_checksums(&req, dialect, &mut rejects)?
        .expect("a postgres source computes range checksums");
    target.mirror(&plan, &mut *side, tuning)
}

/// Every row of `table` as text, ordered by `order` (the branch's slice at
/// the target). Text output is pinned so both servers print alike.
pub fn rows(
    db: &TestDb,
    table: &str,
    cols: &str,
    order: &str,
    branch: bool,
) -> Vec<Vec<Option<String>>> {
    let mut c = db.client();
    c.batch_execute("SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'")
        .unwrap();
    let list: Vec<String> = cols
        .split(',')
        .map(|c| format!("({})::text", c.trim()))
        .collect();
    let filter = if branch {
        format!(" WHERE branch = '{BRANCH}'")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {} FROM {table}{filter} ORDER BY {order}",
        list.join(", ")
    );
    c.query(&sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|r| {
            (0..list.len())
                .map(|i| r.get::<_, Option<String>>(i))
                .collect()
        })
        .collect()
}

/// The slice equals the source, row by row.
pub fn assert_mirrored(src: &TestDb, dst: &TestDb, table: &str, cols: &str, order: &str) {
    let want = rows(src, table, cols, order, false);
    let got = rows(dst, table, cols, order, true);
    if want != got {
        let missing: Vec<_> = want.iter().filter(|r| !got.contains(r)).take(5).collect();
        let extra: Vec<_> = got.iter().filter(|r| !want.contains(r)).take(5).collect();
        panic!(
            "{table}: slice differs from the source ({} vs {} rows); missing {missing:?}; extra {extra:?}",
            want.len(),
            got.len()
        );
    }
}

/// Small cuts, so that small tables go through several levels.
pub fn deep() -> Tuning {
    Tuning {
        factor: 3,
        leaf_rows: 2,
        ..Tuning::default()
    }
}

/// The sum of a statistics column (`pg_stat_user_tables.seq_scan`,
/// `pg_stat_user_indexes.idx_scan`) over the relations named `table…`,
/// once it reaches `at_least` or 15 s have passed: closed sessions send
/// their statistics as they end.
pub fn scans(db: &TestDb, view: &str, column: &str, table: &str, at_least: i64) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mut c = db.client();
        let n: i64 = c
            .query_one(
                &format!(
                    "SELECT coalesce(sum({column}), 0)::int8 FROM {view} WHERE relname LIKE $1"
                ),
                &[&format!("{table}%")],
            )
            .unwrap()
            .get(0);
        if n >= at_least || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
