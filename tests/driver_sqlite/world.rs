//! A temporary folder with branch SQLite files and a central SQLite file, the
//! config that names them, and a copy routine that drives the driver the way
//! the engine does (describe, prepare, watermark, read into write).

use branchsync::config::{Config, Mode};
use branchsync::driver::ReadRequest;
use branchsync::driver::{
    open_endpoint, Column, Endpoint, RejectSink, Result, RowSink, Value, WriteOutcome, WritePlan,
};
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

pub struct World {
    pub dir: tempfile::TempDir,
    pub config: Config,
}

/// A world whose sessions wait `lock_wait` for another writer's lock.
pub fn world_with(lock_wait: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
[journal]
path = "storage/journal.db"

[engine]
statement_timeout = "{lock_wait}"

[target]
driver = "sqlite"
url = "sqlite://central.db"
branch_column = "branch"

[[connection]]
name = "branch_a"
driver = "sqlite"
url = "a.db"

[[connection]]
name = "branch_b"
driver = "sqlite"
url = "sqlite://b.db"
"#
    );
    let config = Config::parse(
        &text,
        &dir.path().join("branchsync.toml"),
        &branchsync::driver::registry::Registry,
    )
    .unwrap();
    World { dir, config }
}

pub fn world() -> World {
    world_with("20s")
}

/// What a copy asks for.
#[derive(Clone, Copy)]
pub struct Job<'a> {
    pub connection: &'a str,
    pub source: &'a str,
    pub target: &'a str,
    pub key: &'a [&'a str],
    pub mode: Mode,
    pub cursor: Option<&'a str>,
    pub branch: bool,
}

impl<'a> Job<'a> {
    pub fn new(connection: &'a str, table: &'a str, key: &'a [&'a str], mode: Mode) -> Self {
        Job {
            connection,
            source: table,
            target: table,
            key,
            mode,
            cursor: None,
            branch: true,
        }
    }
}

/// Rows with a NULL key, as the source sent them.
#[derive(Debug, Default)]
pub struct Rejects(pub Vec<(Vec<Value>, String)>);

impl RejectSink for Rejects {
    fn reject(&mut self, _columns: &[Column], values: &[Value], reason: &str) -> Result<()> {
        self.0.push((values.to_vec(), reason.to_owned()));
        Ok(())
    }
}

impl World {
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Run SQL against a file of the world (`a.db`, `central.db`, …).
    pub fn exec(&self, file: &str, sql: &str) {
        Connection::open(self.path(file))
            .unwrap()
            .execute_batch(sql)
            .unwrap_or_else(|e| panic!("{file}: {e}\n{sql}"));
    }

    /// The endpoint of a connection, or of the target for `"target"`.
    pub fn endpoint(&self, name: &str) -> Box<dyn Endpoint> {
        let server = if name == "target" {
            self.config.target.as_ref().unwrap()
        } else {
            self.config.connection(name).unwrap()
        };
        open_endpoint(server, &self.config.engine, 4).unwrap()
    }

    /// Copy one table from one connection into the central file.
    pub fn sync(&self, job: Job) -> Result<(WriteOutcome, Rejects)> {
        let mut source = self.endpoint(job.connection).source()?;
        let schema = source
            .describe(None, job.source)?
            .unwrap_or_else(|| panic!("no table {} at {}", job.source, job.connection));
        let key: Vec<String> = job.key.iter().map(|k| k.to_string()).collect();
        let plan = WritePlan {
            schema: "public",
            table: job.target,
            columns: &schema.columns,
            key: &key,
            mode: job.mode,
            cursor: job.cursor,
            branch: job.branch.then_some(("branch", job.connection)),
            partition_by_branch: false,
            key_unique_at_source: true,
        };
        let mut target = self.endpoint("target").target()?;
        target.prepare(&plan)?;
        let watermark = match job.mode {
            Mode::Incremental => target.watermark(&plan)?,
            _ => None,
        };
        let req = ReadRequest {
            schema: None,
            table: job.source,
            columns: &schema.columns,
            key: &key,
            since: job.cursor.zip(watermark.as_ref()),
            range: Default::default(),
        };
        let mut rejects = Rejects::default();
        let outcome = target.write(&plan, &mut |sink: &mut dyn RowSink| {
            source.read(&req, sink, &mut rejects)
        })?;
        Ok((outcome, rejects))
    }

    /// Rows of `sql` on `file`, each rendered `v1|v2|…`: integers bare,
    /// reals as `r1.5`, text quoted `'…'`, blobs `x'00ff'`, NULL as `NULL`.
    pub fn dump(&self, file: &str, sql: &str) -> Vec<String> {
        dump(&self.path(file), sql)
    }
}

pub fn dump(path: &Path, sql: &str) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}\n{sql}"));
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let cells: Vec<String> = (0..n)
            .map(|i| match row.get_ref(i).unwrap() {
                ValueRef::Null => "NULL".to_owned(),
                ValueRef::Integer(v) => v.to_string(),
                ValueRef::Real(v) => format!("r{v}"),
                ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
                ValueRef::Blob(b) => {
                    format!(
                        "x'{}'",
                        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                    )
                }
            })
            .collect();
        out.push(cells.join("|"));
    }
    out
}
