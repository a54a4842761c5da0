//! What the PostgreSQL driver tests share: endpoints opened from config
//! text, a copy routine that drives the driver API the way the engine does,
//! a sink wrapper that tells which path (binary or text) a copy took, an
//! iDempiere-shaped fixture, and an order-independent content hash.
#![allow(dead_code)]

use crate::common::pg::TestDb;
use branchsync::config::{EngineConfig, Mode, ServerConfig};
use branchsync::driver::{
    open_endpoint, Column, DriverError, Endpoint, RawFormat, ReadRequest, RejectSink, RowSink,
    Value, WriteOutcome, WritePlan,
};
use std::io::Write;

/// The fixture's table: ids collide across branches (each branch is its own
/// ERP instance), with NULLs, unicode, awkward text, bytea and json.
pub const BPARTNER_DDL: &str = r#"
CREATE TABLE c_bpartner (
  c_bpartner_id numeric(10) PRIMARY KEY,
  ad_org_id numeric(10) NOT NULL,
  value varchar(40) NOT NULL,
  name varchar(120),
  description text,
  isactive char(1) NOT NULL DEFAULT 'Y',
  so_creditlimit numeric(12,2),
  qty integer,
  rating double precision,
  logo bytea,
  attrs jsonb,
  raw json,
  birthday date,
  created timestamptz NOT NULL,
  updated timestamp NOT NULL
)"#;

pub const BPARTNER_COLS: &str = "c_bpartner_id, ad_org_id, value, name, description, isactive, \
     so_creditlimit, qty, rating, logo, attrs, raw, birthday, created, updated";

/// Rows `from..=to` of the fixture; `seed` varies content between branches.
pub fn bpartner_rows(seed: i64, from: i64, to: i64) -> String {
    format!(
        r#"INSERT INTO c_bpartner SELECT 1000000 + g, 11, 'BP' || g,
  CASE WHEN g % 10 = 0 THEN NULL ELSE 'Partner ' || g || ' ünïcödé ✓ ' || {seed} END,
  CASE g % 6 WHEN 0 THEN NULL
             WHEN 1 THEN E'tab\there, newline\nand CR\r, back\\slash, ''quote'' "dq" \\N end'
             WHEN 2 THEN ''
             ELSE 'desc ' || g END,
  CASE WHEN g % 4 = 0 THEN 'N' ELSE 'Y' END,
  CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 10.25 + {seed})::numeric(12,2) END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE g * {seed} END,
  CASE WHEN g % 9 = 0 THEN NULL ELSE g / 3.0 END,
  CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') || '\x00ff5c0a'::bytea END,
  CASE WHEN g % 8 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'tag', E'ü"\\', 'arr', jsonb_build_array(1, 2.5, null)) END,
  CASE WHEN g % 8 = 1 THEN NULL ELSE json_build_object('seed', {seed}, 'text', E'line\nbreak') END,
  CASE WHEN g % 11 = 0 THEN NULL ELSE date '1970-01-01' + g::int END,
  timestamptz '2024-01-01 00:00:00+07' + g * interval '1 minute 0.123456 second',
  timestamp '2024-01-01' + g * interval '1 second'
FROM generate_series({from}, {to}) g"#
    )
}

/// A branch database with `n` fixture rows.
pub fn branch_db(prefix: &str, seed: i64, n: i64) -> TestDb {
    let db = TestDb::create(prefix);
    db.exec(BPARTNER_DDL);
    db.exec(&bpartner_rows(seed, 1, n));
    db
}

/// Row count and order-independent hash of `cols` of `table` (quoted
/// by the caller when needed), optionally only `branch`'s rows.
pub fn hash(db: &TestDb, table: &str, cols: &str, branch: Option<&str>) -> (i64, String) {
    let mut c = db.client();
    let sql = format!(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') \
         FROM (SELECT md5(ROW({cols})::text) AS h FROM {table} {}) s",
        if branch.is_some() {
            "WHERE branch = $1"
        } else {
            ""
        }
    );
    let row = match branch {
        Some(b) => c.query_one(&sql, &[&b]),
        None => c.query_one(&sql, &[]),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    (row.get(0), row.get(1))
}

pub fn scalar_i64(db: &TestDb, sql: &str) -> i64 {
    db.client()
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// A server entry as the config would give it.
pub fn server(name: &str, url: &str, extra: &str) -> ServerConfig {
    let mut s: ServerConfig = toml::from_str(&format!(
        "name = {name:?}\ndriver = \"postgres\"\nurl = {url:?}\n{extra}"
    ))
    .unwrap();
    s.name = name.to_owned();
    s
}

pub fn engine() -> EngineConfig {
    EngineConfig::default()
}

pub fn endpoint(name: &str, db: &TestDb) -> Box<dyn Endpoint> {
    open_endpoint(&server(name, &db.url, ""), &engine(), 4).unwrap()
}

/// Rows with a NULL key, as the engine's reject file would get them.
#[derive(Default)]
pub struct Rejects(pub Vec<(Vec<Value>, String)>);

impl RejectSink for Rejects {
    fn reject(&mut self, _c: &[Column], values: &[Value], reason: &str) -> Result<(), DriverError> {
        self.0.push((values.to_vec(), reason.to_owned()));
        Ok(())
    }
}

/// Wraps the target's sink to see which path the source took.
pub struct Spy<'a> {
    pub inner: &'a mut dyn RowSink,
    pub binary: bool,
    pub rows: u64,
}

impl RowSink for Spy<'_> {
    fn row(&mut self, values: &[Value]) -> Result<(), DriverError> {
        self.rows += 1;
        self.inner.row(values)
    }

    fn raw(&mut self, format: RawFormat) -> Option<&mut dyn Write> {
        let w = self.inner.raw(format);
        if w.is_some() {
            self.binary = true;
        }
        w
    }

    fn wants_key_order(&self) -> bool {
        self.inner.wants_key_order()
    }
}

/// One table copy, described as the engine would.
pub struct Job<'a> {
    pub table: &'a str,
    pub target: &'a str,
    pub key: Vec<String>,
    pub mode: Mode,
    pub cursor: Option<&'a str>,
    /// The connection name, written to the `branch` column.
    pub branch: Option<&'a str>,
}

impl<'a> Job<'a> {
    pub fn new(table: &'a str, key: &[&str], mode: Mode, branch: &'a str) -> Job<'a> {
        Job {
            table,
            target: table,
            key: key.iter().map(|k| k.to_string()).collect(),
            mode,
            cursor: None,
            branch: Some(branch),
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub outcome: WriteOutcome,
    pub sent: u64,
    pub binary: bool,
    pub rejects: Vec<(Vec<Value>, String)>,
}

/// Describe, prepare, watermark, read into write: one table from `src` to `dst`.
pub fn sync(src: &dyn Endpoint, dst: &dyn Endpoint, job: &Job) -> Result<Run, DriverError> {
    let mut source = src.source()?;
    let schema = source
        .describe(None, job.table)?
        .ok_or_else(|| DriverError::other(format!("no source table {}", job.table)))?;
    let mut target = dst.target()?;
    let plan = WritePlan {
        schema: "public",
        table: job.target,
        columns: &schema.columns,
        key: &job.key,
        mode: job.mode,
        cursor: job.cursor,
        branch: job.branch.map(|b| ("branch", b)),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    target.prepare(&plan)?;
    let watermark = match job.mode {
        Mode::Incremental => target.watermark(&plan)?,
        _ => None,
    };
    let req = ReadRequest {
        schema: None,
        table: job.table,
        columns: &schema.columns,
        key: &job.key,
        since: watermark.as_ref().map(|w| (job.cursor.unwrap(), w)),
        range: Default::default(),
    };
    let mut rejects = Rejects::default();
    let mut binary = false;
    let mut sent = 0;
    let outcome = target.write(&plan, &mut |sink: &mut dyn RowSink| {
        let mut spy = Spy {
            inner: sink,
            binary: false,
            rows: 0,
        };
        let n = source.read(&req, &mut spy, &mut rejects)?;
        binary = spy.binary;
        sent = n;
        Ok(n)
    })?;
    Ok(Run {
        outcome,
        sent,
        binary,
        rejects: rejects.0,
    })
}
