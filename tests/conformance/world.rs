//! The world one story runs in: two branch databases of the source driver,
//! a central database of the target driver, a config file pointing at them,
//! the real binary, and its journal. Databases are real: throwaway
//! PostgreSQL and MySQL databases on the test servers, or SQLite files in a
//! temp folder.

use super::data::{self, StoryRow};
use crate::common::mysql::MyDb;
use crate::common::pg::TestDb;
use mysql::prelude::Queryable;
use rusqlite::types::ValueRef;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The connection names of the two branches.
pub const BRANCHES: [&str; 2] = ["br_a", "br_b"];

/// The drivers of the story: every (source, target) pair of them runs it.
pub const DRIVERS: &[&str] = &["postgres", "sqlite", "mysql"];

/// A real database of any driver.
pub enum Db {
    Pg(TestDb),
    Sqlite(PathBuf),
    My(MyDb),
}

impl Db {
    /// A new, empty database of `driver` named after `name`.
    pub fn create(driver: &str, dir: &Path, name: &str) -> Db {
        match driver {
            "postgres" => Db::Pg(TestDb::create(&format!("bs_conf_{name}"))),
            "mysql" => Db::My(MyDb::create(&format!("bs_conf_{name}"))),
            "sqlite" => {
                let path = dir.join(format!("{name}.db"));
                rusqlite::Connection::open(&path).unwrap();
                Db::Sqlite(path)
            }
            other => panic!("no such driver {other}"),
        }
    }

    pub fn driver(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
            Db::My(_) => "mysql",
        }
    }

    /// The config's `url` for this database.
    pub fn url(&self) -> String {
        match self {
            Db::Pg(db) => db.url.clone(),
            Db::Sqlite(p) => p.display().to_string(),
            Db::My(db) => db.url.clone(),
        }
    }

    fn sqlite(&self) -> rusqlite::Connection {
        let Db::Sqlite(p) = self else { unreachable!() };
        rusqlite::Connection::open(p).unwrap()
    }

    /// Runs `sql` (statements that both dialects understand, or native DDL).
    pub fn exec(&self, sql: &str) {
        match self {
            Db::Pg(db) => db.exec(sql),
            Db::Sqlite(p) => self
                .sqlite()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", p.display())),
            Db::My(db) => db.exec(sql),
        }
    }

    /// Creates the story table `table` and fills it with `rows`.
    pub fn create_table(&self, table: &str, primary_key: bool, rows: &[StoryRow]) {
        self.exec(&data::ddl(self.driver(), table, primary_key));
        self.insert(table, rows);
    }

    /// Inserts story rows with bound parameters (the text goes in untouched).
    pub fn insert(&self, table: &str, rows: &[StoryRow]) {
        let cols = format!("{table}_id, name, amount, updated, note, flag, payload");
        match self {
            Db::Pg(db) => {
                let mut c = db.client();
                let sql = format!(
                    "INSERT INTO {table} ({cols}) VALUES ($1::int8, $2, $3::text::numeric, $4, $5, $6, $7)"
                );
                let stmt = c.prepare(&sql).unwrap();
                for r in rows {
                    c.execute(
                        &stmt,
                        &[
                            &r.id, &r.name, &r.amount, &r.updated, &r.note, &r.flag, &r.payload,
                        ],
                    )
                    .unwrap();
                }
            }
            Db::Sqlite(_) => {
                let mut c = self.sqlite();
                let tx = c.transaction().unwrap();
                {
                    let sql =
                        format!("INSERT INTO {table} ({cols}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
                    let mut stmt = tx.prepare(&sql).unwrap();
                    for r in rows {
                        let updated = r.updated.format("%Y-%m-%d %H:%M:%S%.f").to_string();
                        stmt.execute(rusqlite::params![
                            r.id,
                            r.name,
                            r.amount,
                            updated,
                            r.note,
                            i64::from(r.flag),
                            r.payload
                        ])
                        .unwrap();
                    }
                }
                tx.commit().unwrap();
            }
            Db::My(db) => {
                let mut c = db.conn();
                let sql = format!("INSERT INTO {table} ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?)");
                for r in rows {
                    let updated = r.updated.format("%Y-%m-%d %H:%M:%S%.f").to_string();
                    c.exec_drop(
                        &sql,
                        (
                            r.id, &r.name, &r.amount, updated, &r.note, r.flag, &r.payload,
                        ),
                    )
                    .unwrap_or_else(|e| panic!("{}: {sql}: {e}", db.name));
                }
            }
        }
    }

    /// The table's column names in order, or `None` when it does not exist.
    pub fn columns(&self, table: &str) -> Option<Vec<String>> {
        let names: Vec<String> = match self {
            Db::Pg(db) => db
                .client()
                .query(
                    "SELECT column_name::text FROM information_schema.columns
                     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                    &[&table],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect(),
            Db::Sqlite(_) => {
                let c = self.sqlite();
                let mut stmt = c
                    .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                    .unwrap();
                let names = stmt.query_map([table], |r| r.get(0)).unwrap();
                names.map(Result::unwrap).collect()
            }
            Db::My(db) => db
                .conn()
                .exec(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    (table,),
                )
                .unwrap(),
        };
        (!names.is_empty()).then_some(names)
    }

    /// The rows of `table` (only those whose `column = value` when a filter
    /// is given) as raw text: `None` for NULL, PostgreSQL's text output of
    /// each value, SQLite's stored value as text (INTEGER and REAL as Rust
    /// prints them, TEXT as is, BLOB as `\x` + hex).
    pub fn raw_rows(
        &self,
        table: &str,
        columns: &[String],
        filter: Option<(&str, &str)>,
    ) -> Vec<Vec<Option<String>>> {
        match self {
            Db::Pg(db) => {
                let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"::text")).collect();
                let mut sql = format!("SELECT {} FROM {table}", list.join(", "));
                let mut c = db.client();
                let rows = match filter {
                    Some((col, v)) => {
                        sql += &format!(" WHERE \"{col}\" = $1");
                        c.query(&sql, &[&v])
                    }
                    None => c.query(&sql, &[]),
                };
                let rows = rows.unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|r| {
                        (0..columns.len())
                            .map(|i| r.get::<_, Option<String>>(i))
                            .collect()
                    })
                    .collect()
            }
            Db::Sqlite(_) => {
                let list: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
                let mut sql = format!("SELECT {} FROM {table}", list.join(", "));
                if let Some((col, _)) = filter {
                    sql += &format!(" WHERE \"{col}\" = ?1");
                }
                let c = self.sqlite();
                let mut stmt = c.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let params: Vec<&str> = filter.map(|(_, v)| v).into_iter().collect();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        Ok((0..columns.len())
                            .map(|i| sqlite_raw(r.get_ref(i).unwrap()))
                            .collect())
                    })
                    .unwrap();
                rows.map(Result::unwrap).collect()
            }
            Db::My(db) => {
                let list: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
                let mut sql = format!("SELECT {} FROM {table}", list.join(", "));
                if let Some((col, v)) = filter {
                    sql += &format!(" WHERE `{col}` = '{}'", v.replace('\'', "''"));
                }
                let mut c = db.conn();
                let rows: Vec<mysql::Row> = c.query(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(mysql_raw).collect()
            }
        }
    }
}

/// A MySQL row as text: binary strings (BLOB, VARBINARY: character set 63)
/// as `\x` + hex, everything else as the server prints it.
fn mysql_raw(row: &mysql::Row) -> Vec<Option<String>> {
    use mysql::consts::ColumnType as T;
    row.columns_ref()
        .iter()
        .enumerate()
        .map(|(i, col)| match row.as_ref(i) {
            Some(mysql::Value::Bytes(b)) => {
                let binary = col.character_set() == 63
                    && matches!(
                        col.column_type(),
                        T::MYSQL_TYPE_BLOB
                            | T::MYSQL_TYPE_TINY_BLOB
                            | T::MYSQL_TYPE_MEDIUM_BLOB
                            | T::MYSQL_TYPE_LONG_BLOB
                            | T::MYSQL_TYPE_VAR_STRING
                            | T::MYSQL_TYPE_STRING
                            | T::MYSQL_TYPE_VARCHAR
                    );
                Some(if binary {
                    format!("\\x{}", hex(b))
                } else {
                    String::from_utf8_lossy(b).into_owned()
                })
            }
            _ => None,
        })
        .collect()
}

fn sqlite_raw(v: ValueRef<'_>) -> Option<String> {
    Some(match v {
        ValueRef::Null => return None,
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("\\x{}", hex(b)),
    })
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One progress row of the journal.
#[derive(Debug, Clone)]
pub struct Progress {
    pub connection: String,
    pub table: String,
    pub status: String,
    pub processed: i64,
    pub skipped: i64,
    pub error: Option<String>,
}

/// Two branches, one central database, a config and the binary.
pub struct World {
    pub dir: tempfile::TempDir,
    pub branches: Vec<(&'static str, Db)>,
    pub central: Db,
}

impl World {
    pub fn new(source: &str, target: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let branches = BRANCHES
            .iter()
            .map(|name| (*name, Db::create(source, dir.path(), name)))
            .collect();
        let central = Db::create(target, dir.path(), "central");
        let w = World {
            dir,
            branches,
            central,
        };
        w.write_config();
        w
    }

    pub fn branch(&self, name: &str) -> &Db {
        &self.branches.iter().find(|(n, _)| *n == name).unwrap().1
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("branchsync.toml")
    }

    fn write_config(&self) {
        let mut s = format!(
            "[journal]\npath = \"storage/sync-journal.db\"\n\n[engine]\nthreads = 2\nretries = 1\n\
             retry_backoff = \"100ms\"\nconnect_timeout = \"5s\"\nstatement_timeout = \"2m\"\n\n\
             [target]\ndriver = \"{}\"\nurl = \"{}\"\nbranch_column = \"branch\"\n\n",
            self.central.driver(),
            self.central.url()
        );
        for (name, db) in &self.branches {
            s += &format!(
                "[[connection]]\nname = \"{name}\"\ndriver = \"{}\"\nurl = \"{}\"\n\n",
                db.driver(),
                db.url()
            );
        }
        s += data::TABLES;
        std::fs::write(self.config_path(), s).unwrap();
    }

    /// Runs `branchsync --config … sync-all --tables <models>` and checks its
    /// exit code and the batch's final status; returns the batch id.
    pub fn sync(&self, models: &str, want_code: i32) -> String {
        let (batch, code, text) = self.run_sync(models);
        assert_eq!(code, want_code, "{text}");
        let want = if want_code == 0 {
            "completed"
        } else {
            "failed"
        };
        assert_eq!(self.batch_status(&batch), want, "{text}");
        batch
    }

    /// Runs `branchsync --config … sync-all --tables <models>`; returns the
    /// batch id it created, its exit code and everything it printed.
    pub fn run_sync(&self, models: &str) -> (String, i32, String) {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_branchsync"))
            .arg("--config")
            .arg(self.config_path())
            .args(["sync-all", "--tables", models])
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = format!(
            "$ branchsync sync-all --tables {models}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let batch = stdout
            .lines()
            .find_map(|l| l.split("Created new batch: ").nth(1))
            .unwrap_or_else(|| panic!("no batch id printed:\n{text}"))
            .trim()
            .to_owned();
        (batch, out.status.code().unwrap_or(-1), text)
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    fn journal(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.storage().join("sync-journal.db")).unwrap()
    }

    pub fn batch_status(&self, batch: &str) -> String {
        self.journal()
            .query_row(
                "SELECT status FROM sync_batches WHERE batch_id = ?1",
                [batch],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Every progress row of `batch`.
    pub fn progress(&self, batch: &str) -> Vec<Progress> {
        let j = self.journal();
        let mut stmt = j
            .prepare(
                "SELECT connection_name, table_name, status, records_processed, records_skipped, error_message
                 FROM sync_progress WHERE batch_id = ?1 ORDER BY connection_name, table_name",
            )
            .unwrap();
        let rows = stmt
            .query_map([batch], |r| {
                Ok(Progress {
                    connection: r.get(0)?,
                    table: r.get(1)?,
                    status: r.get(2)?,
                    processed: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
                    skipped: r.get::<_, Option<i64>>(4)?.unwrap_or(0),
                    error: r.get(5)?,
                })
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The progress row of (`connection`, `table`) in `batch`.
    pub fn row(&self, batch: &str, connection: &str, table: &str) -> Progress {
        let all = self.progress(batch);
        all.iter()
            .find(|p| p.connection == connection && p.table == table)
            .cloned()
            .unwrap_or_else(|| panic!("no progress row {connection}/{table} in {batch}: {all:?}"))
    }
}
