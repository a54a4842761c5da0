//! The world a catalogue test runs in: branch databases of one driver, a
//! central database of another, a config with one `[[table]]` entry per
//! (table, mode), the real binary, and readers that render every stored
//! value as text so that two databases can be compared value by value.

use crate::common::mysql::MyDb;
use crate::common::pg::TestDb;
use rusqlite::types::ValueRef;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The modes every table is synced in, each into its own central table.
pub const MODES: [&str; 4] = ["full", "upsert", "incremental", "mirror"];

/// A real database of any driver.
pub enum Db {
    Pg(TestDb),
    Sqlite(PathBuf),
    My(MyDb),
}

impl Db {
    pub fn pg(name: &str) -> Db {
        Db::Pg(TestDb::create(&format!("bs_types_{name}")))
    }

    pub fn sqlite(dir: &Path, name: &str) -> Db {
        let path = dir.join(format!("{name}.db"));
        rusqlite::Connection::open(&path).unwrap();
        Db::Sqlite(path)
    }

    pub fn mysql(name: &str) -> Db {
        Db::My(MyDb::create(&format!("bs_types_{name}")))
    }

    pub fn driver(&self) -> &'static str {
        match self {
            Db::Pg(_) => "postgres",
            Db::Sqlite(_) => "sqlite",
            Db::My(_) => "mysql",
        }
    }

    pub fn url(&self) -> String {
        match self {
            Db::Pg(db) => db.url.clone(),
            Db::Sqlite(p) => p.display().to_string(),
            Db::My(db) => db.url.clone(),
        }
    }

    pub fn pg_db(&self) -> &TestDb {
        match self {
            Db::Pg(db) => db,
            Db::Sqlite(p) => panic!("{} is not PostgreSQL", p.display()),
            Db::My(db) => panic!("{} is not PostgreSQL", db.name),
        }
    }

    pub fn exec(&self, sql: &str) {
        match self {
            Db::Pg(db) => db.exec(sql),
            Db::My(db) => db.exec(sql),
            Db::Sqlite(p) => rusqlite::Connection::open(p)
                .unwrap()
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{}: {sql}: {e}", p.display())),
        }
    }

    /// Column names of `table` in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        match self {
            Db::My(db) => crate::my::types(db, table)
                .into_iter()
                .map(|(n, _)| n)
                .collect(),
            Db::Pg(db) => db
                .client()
                .query(
                    "SELECT attname::text FROM pg_attribute WHERE attrelid = $1::text::regclass
                     AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    &[&quote(table)],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect(),
            Db::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                let mut s = c
                    .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                    .unwrap();
                let names = s.query_map([table], |r| r.get(0)).unwrap();
                names.map(Result::unwrap).collect()
            }
        }
    }

    /// The compared columns of a family table: its value columns with
    /// their types (all but `id` and `ts`), and the columns read back, `id`
    /// first.
    pub fn value_columns(&self, table: &str) -> (Vec<(String, String)>, Vec<String>) {
        let types: Vec<(String, String)> = self
            .types(table)
            .into_iter()
            .filter(|(n, _)| n != "id" && n != "ts")
            .collect();
        let mut cols = vec!["id".to_owned()];
        cols.extend(types.iter().map(|(n, _)| n.clone()));
        (types, cols)
    }

    /// Column types of `table` as the database names them.
    pub fn types(&self, table: &str) -> Vec<(String, String)> {
        match self {
            Db::My(db) => crate::my::types(db, table),
            Db::Pg(db) => db
                .client()
                .query(
                    "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute
                     WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                    &[&quote(table)],
                )
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect(),
            Db::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                let mut s = c
                    .prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")
                    .unwrap();
                let rows = s.query_map([table], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
                rows.map(Result::unwrap).collect()
            }
        }
    }

    /// The rows of `table` ordered by `key`, every column in `columns` as
    /// text (`None` for NULL): PostgreSQL's text output, SQLite's stored
    /// value with its storage class (`i:`, `r:`, `t:`), bytes on both as
    /// `b:<length>:<digest>`.
    pub fn rows(&self, table: &str, key: &str, columns: &[String]) -> Vec<Vec<Option<String>>> {
        match self {
            Db::My(db) => crate::my::rows(db, table, key, columns),
            Db::Pg(db) => {
                let types = self.types(table);
                let bytea: Vec<bool> = columns
                    .iter()
                    .map(|c| types.iter().find(|(n, _)| n == c).unwrap().1 == "bytea")
                    .collect();
                let list: Vec<String> = columns
                    .iter()
                    .zip(&bytea)
                    .map(|(c, b)| {
                        if *b {
                            quote(c)
                        } else {
                            format!("{}::text", quote(c))
                        }
                    })
                    .collect();
                // The table's own key column: the output column of the same
                // name is its text.
                let sql = format!(
                    "SELECT {} FROM {} AS t ORDER BY t.{}",
                    list.join(", "),
                    quote(table),
                    quote(key)
                );
                let rows = db.client().query(&sql, &[]);
                rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .iter()
                    .map(|r| {
                        (0..columns.len())
                            .map(|i| {
                                if bytea[i] {
                                    r.get::<_, Option<Vec<u8>>>(i).map(|b| bytes_text(&b))
                                } else {
                                    r.get(i)
                                }
                            })
                            .collect()
                    })
                    .collect()
            }
            Db::Sqlite(p) => {
                let c = rusqlite::Connection::open(p).unwrap();
                let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
                let sql = format!(
                    "SELECT {} FROM {} ORDER BY {}",
                    list.join(", "),
                    quote(table),
                    quote(key)
                );
                let mut s = c.prepare(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let rows = s
                    .query_map([], |r| {
                        Ok((0..columns.len())
                            .map(|i| sqlite_text(r.get_ref(i).unwrap()))
                            .collect())
                    })
                    .unwrap();
                rows.map(Result::unwrap).collect()
            }
        }
    }
}

/// Bytes as `b:<length>:<digest>`.
pub fn bytes_text(b: &[u8]) -> String {
    format!("b:{}:{:x}", b.len(), digest(b))
}

/// A stored SQLite value as text, with its storage class.
pub fn sqlite_text(v: ValueRef<'_>) -> Option<String> {
    Some(match v {
        ValueRef::Null => return None,
        ValueRef::Integer(i) => format!("i:{i}"),
        ValueRef::Real(f) => format!("r:{f:?}"),
        ValueRef::Text(t) => format!("t:{}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => bytes_text(b),
    })
}

/// The value without SQLite's storage-class tag.
pub fn untagged(v: &str) -> &str {
    match v.get(..2) {
        Some("i:" | "r:" | "t:") => &v[2..],
        _ => v,
    }
}

/// A cheap stable digest of bytes for comparisons (FNV-1a, 64 bits).
fn digest(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100000001b3)
    })
}
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One `[[table]]` entry.
pub struct Entry {
    pub model: String,
    pub source: String,
    pub target: String,
    pub key: Vec<String>,
    pub mode: String,
    pub cursor: Option<String>,
}

impl Entry {
    /// `source` synced in every mode into `<target>_<mode>`, cursor `ts`.
    pub fn all_modes(source: &str, target: &str, key: &str) -> Vec<Entry> {
        MODES
            .iter()
            .map(|mode| Entry {
                model: format!("{}{}", camel(target), camel(mode)),
                source: source.to_owned(),
                target: format!("{target}_{mode}"),
                key: vec![key.to_owned()],
                mode: (*mode).to_owned(),
                cursor: (*mode == "incremental").then(|| "ts".to_owned()),
            })
            .collect()
    }
}

fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Branches, a central database, a config and the binary.
pub struct World {
    pub dir: tempfile::TempDir,
    pub branches: Vec<(String, Db)>,
    pub central: Db,
    pub branch_column: String,
}

/// What one `sync-all` run did.
pub struct Run {
    pub code: i32,
    pub text: String,
    /// (connection, table, status, processed, skipped, error) per progress row.
    pub progress: Vec<(String, String, String, i64, i64, Option<String>)>,
}

impl Run {
    pub fn row(
        &self,
        connection: &str,
        table: &str,
    ) -> &(String, String, String, i64, i64, Option<String>) {
        self.progress
            .iter()
            .find(|p| p.0 == connection && p.1 == table)
            .unwrap_or_else(|| panic!("no progress row {connection}/{table}:\n{}", self.text))
    }
}

impl World {
    pub fn new(
        dir: tempfile::TempDir,
        branches: Vec<(String, Db)>,
        central: Db,
        entries: &[Entry],
    ) -> World {
        let w = World {
            dir,
            branches,
            central,
            branch_column: "branch".into(),
        };
        w.write_config(entries);
        w
    }

    pub fn with_branch_column(mut self, name: &str, entries: &[Entry]) -> World {
        self.branch_column = name.to_owned();
        self.write_config(entries);
        self
    }

    /// Every branch's rows of each `(source table, key)` arrived in every
    /// mode's central table (`<table>_<mode>`) equal in meaning.
    pub fn assert_arrived(&self, tables: &[(&str, &str)]) {
        for (name, db) in &self.branches {
            for (table, key) in tables {
                let types = db.types(table);
                let cols: Vec<String> = types.iter().map(|(n, _)| n.clone()).collect();
                let want = db.rows(table, key, &cols);
                let mut client = match db {
                    Db::Pg(pg) => Some(pg.client()),
                    Db::Sqlite(_) | Db::My(_) => None,
                };
                for mode in MODES {
                    let target = format!("{table}_{mode}");
                    let got = self.branch_rows(&target, key, &cols, name);
                    assert_eq!(got.len(), want.len(), "{target} from {name}");
                    for (g, r) in got.iter().zip(&want) {
                        for (i, (gv, rv)) in g.iter().zip(r).enumerate() {
                            let gv = gv.as_deref().map(untagged);
                            let rv = rv.as_deref().map(untagged);
                            let same = match &mut client {
                                Some(c) => same_meaning(c, &types[i].1, rv, gv),
                                None => gv == rv,
                            };
                            assert!(
                                same,
                                "{target} from {name}, column {:?}: {gv:?} for {rv:?}",
                                cols[i]
                            );
                        }
                    }
                }
            }
        }
    }

    /// `branch`'s rows of a central table, `columns` only.
    fn branch_rows(
        &self,
        table: &str,
        key: &str,
        columns: &[String],
        branch: &str,
    ) -> Vec<Vec<Option<String>>> {
        let mut with_branch = columns.to_vec();
        with_branch.push(self.branch_column.clone());
        self.central
            .rows(table, key, &with_branch)
            .into_iter()
            .filter(|r| r.last().unwrap().as_deref().map(untagged) == Some(branch))
            .map(|mut r| {
                r.pop();
                r
            })
            .collect()
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("branchsync.toml")
    }

    pub fn write_config(&self, entries: &[Entry]) {
        let mut s = format!(
            "[journal]\npath = \"storage/sync-journal.db\"\n\n[engine]\nthreads = 2\nretries = 0\n\
             connect_timeout = \"5s\"\nstatement_timeout = \"5m\"\n\n\
             [target]\ndriver = \"{}\"\nurl = \"{}\"\nbranch_column = \"{}\"\n\n",
            self.central.driver(),
            self.central.url(),
            self.branch_column
        );
        for (name, db) in &self.branches {
            s += &format!(
                "[[connection]]\nname = \"{name}\"\ndriver = \"{}\"\nurl = \"{}\"\n\n",
                db.driver(),
                db.url()
            );
        }
        for e in entries {
            let key: Vec<String> = e.key.iter().map(|k| format!("{k:?}")).collect();
            s += &format!(
                "[[table]]\nmodel = \"{}\"\nsource = {:?}\ntarget = {:?}\nkey = [{}]\nmode = \"{}\"\n",
                e.model,
                e.source,
                e.target,
                key.join(", "),
                e.mode
            );
            if let Some(c) = &e.cursor {
                s += &format!("cursor = {c:?}\n");
            }
            s += "\n";
        }
        std::fs::write(self.config_path(), s).unwrap();
    }

    /// Runs `branchsync sync-all` and reads the batch's progress rows.
    pub fn sync(&self) -> Run {
        self.sync_with(&[])
    }

    /// [`World::sync`] with global options before the command (`-v`).
    pub fn sync_with(&self, options: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_branchsync"))
            .arg("--config")
            .arg(self.config_path())
            .args(options)
            .args(["sync-all", "--threads", "2"])
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let batch = stdout
            .lines()
            .find_map(|l| l.split("Created new batch: ").nth(1))
            .unwrap_or_else(|| panic!("no batch id printed:\n{text}"))
            .trim()
            .to_owned();
        let j =
            rusqlite::Connection::open(self.dir.path().join("storage/sync-journal.db")).unwrap();
        let mut s = j
            .prepare(
                "SELECT connection_name, table_name, status, coalesce(records_processed, 0),
                        coalesce(records_skipped, 0), error_message
                 FROM sync_progress WHERE batch_id = ?1 ORDER BY 1, 2",
            )
            .unwrap();
        let progress = s
            .query_map([&batch], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        Run {
            code: out.status.code().unwrap_or(-1),
            text,
            progress,
        }
    }
}

/// Does `got` (a value as another database stored it, untagged) mean the
/// same as `want` (PostgreSQL's text of a value of type `ty`)? Equal text,
/// or equal once PostgreSQL reads `got` as `ty`, with the documented forms
/// of docs/TYPES.md read back: json as jsonb (key order and spacing are not
/// meaning), floats by their own equality (`-0` = `0`, `NaN` = `NaN`), BC
/// dates in ISO 8601 years (`-0043-03-15` is 44 BC), and XML without the
/// declaration PostgreSQL's binary transfer drops. `client` is a session on
/// the database that has `ty`.
pub fn same_meaning(
    client: &mut postgres::Client,
    ty: &str,
    want: Option<&str>,
    got: Option<&str>,
) -> bool {
    let (Some(want), Some(got)) = (want, got) else {
        return want == got;
    };
    if want == got {
        return true;
    }
    if want.starts_with("b:") || got.starts_with("b:") {
        return false;
    }
    if ty == "xml" {
        if let Some(rest) = want.strip_prefix(r#"<?xml version="1.0"?>"#) {
            return rest == got;
        }
    }
    let got = bc_form(got);
    let ty = if ty == "json" { "jsonb" } else { ty };
    let sql = if matches!(ty, "real" | "double precision") {
        format!("SELECT $1::text::{ty} = $2::text::{ty}")
    } else {
        format!("SELECT $1::text::{ty}::text = $2::text::{ty}::text")
    };
    client
        .query_one(&sql, &[&got, &want])
        .map(|r| r.get::<_, Option<bool>>(0) == Some(true))
        .unwrap_or(false)
}

/// An ISO 8601 date (time) with an astronomical year ≤ 0 in PostgreSQL's
/// `… BC` form: `-0043-03-15` → `0044-03-15 BC`; anything else unchanged.
fn bc_form(v: &str) -> String {
    let (neg, rest) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let Some((year, tail)) = rest.split_once('-') else {
        return v.to_owned();
    };
    let Ok(y) = year.parse::<i64>() else {
        return v.to_owned();
    };
    if year.len() < 4 || !(neg || y == 0) || !tail.starts_with(|c: char| c.is_ascii_digit()) {
        return v.to_owned();
    }
    let astronomical = if neg { -y } else { y };
    format!("{:04}-{tail} BC", 1 - astronomical)
}
