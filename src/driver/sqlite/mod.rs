//! The `sqlite` driver: a SQLite file as a branch source or as the central
//! target, through rusqlite (bundled SQLite, synchronous).
//!
//! A source session opens the file read-only and reads each table inside one
//! read transaction, so the rows form one snapshot. A target session opens
//! the file read-write (creating it when missing) in WAL mode with
//! `synchronous=FULL`, and writes each table in one `BEGIN IMMEDIATE`
//! transaction; copies of other tables wait for the write lock (up to
//! `[engine] statement_timeout`, cancellable). SQLite has no schemas: the
//! schema part of a source name (`adempiere.m_product`) and the target's
//! `schema` key are ignored. Sessions are plain connections, cheap to open,
//! so there is no pool.
//!
//! # Types, SQLite → driver values (reading)
//!
//! The declared type decides the [`ColumnKind`](crate::driver::ColumnKind);
//! the native type is the declared type itself. In order of precedence:
//!
//! | declared type contains                | kind        | values read from                          |
//! |---------------------------------------|-------------|-------------------------------------------|
//! | `BOOL`                                | Bool        | 0/1, `t`/`f`, `true`/`false`              |
//! | `TIMESTAMPTZ`, `WITH TIME ZONE`       | TimestampTz | ISO text with `Z`/offset (none = UTC)     |
//! | `TIMESTAMP`, `DATETIME`               | Timestamp   | `YYYY-MM-DD HH:MM[:SS[.f]]`, ` ` or `T`   |
//! | starts with `DATE`                    | Date        | `YYYY-MM-DD`                              |
//! | `JSON`                                | Json        | text (numbers as their text)              |
//! | `INT`                                 | Int         | INTEGER                                   |
//! | `DECIMAL`, `NUMERIC`, `NUMBER`        | Numeric     | INTEGER/REAL as exact text, decimal text  |
//! | `CHAR`, `CLOB`, `TEXT`, or no type    | Text        | TEXT                                      |
//! | `BLOB`, `BYTEA`, `BINARY`             | Bytes       | BLOB                                      |
//! | `REAL`, `FLOA`, `DOUB`                | Float       | REAL                                      |
//! | anything else (NUMERIC affinity)      | Numeric     | as for `NUMERIC`                          |
//!
//! SQLite types values, not columns: a value that does not fit its column's
//! kind (text in an INTEGER column, an unparsable date) is passed on as what
//! it is stored as (Int, Float, Text, Bytes; text that is not UTF-8 as
//! Bytes), so nothing is lost on the way.
//!
//! # Types, driver values → SQLite (writing)
//!
//! A new target column read from SQLite keeps its declared type. From another
//! dialect the kind decides: Bool → `BOOLEAN`, Int → `INTEGER`, Float →
//! `REAL`, Numeric → `DECIMAL_TEXT[(p,s)]`, Text → `TEXT`, Bytes → `BLOB`,
//! Date → `DATE`, Timestamp → `TIMESTAMP`, TimestampTz → `TIMESTAMPTZ`,
//! Json → `JSON_TEXT`. `DECIMAL_TEXT` and `JSON_TEXT` have TEXT affinity on
//! purpose: NUMERIC affinity would round a decimal to 15 digits and turn the
//! document `1.0` into the integer 1.
//!
//! Values are bound as: Bool → INTEGER 0/1; Int → INTEGER; Float → REAL;
//! Numeric → TEXT, the exact decimal, never REAL (a column with NUMERIC
//! affinity may still convert it; `DECIMAL_TEXT` does not); Text and Json →
//! TEXT; Bytes → BLOB; Date → `YYYY-MM-DD`; Timestamp → `YYYY-MM-DD
//! HH:MM:SS[.fff[fff]]`; TimestampTz → the same in UTC followed by `+00:00`.
//! Both timestamp forms sort as text in time order, which the incremental
//! watermark (`max(cursor)`) relies on.
//!
//! An existing target column conflicts with a source column (a `Schema`
//! error naming table, column and both types) when its affinity would change
//! the values: anything but Int/Bool into INTEGER affinity, anything but Float
//! into REAL, Text or Json into NUMERIC (`"007"` would become 7). TEXT and
//! BLOB affinity hold everything. Columns of the same kind, or both from
//! SQLite with the same affinity, never conflict.

mod schema;
mod session;
mod source;
mod target;
mod types;
mod values;

use super::registry::Driver;
use super::{Capabilities, Endpoint, Result, ServerInfo, Source, Target};
use crate::config::{EngineConfig, ServerConfig};
use session::{Access, Session};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Reads run in one deferred transaction: a snapshot of the file.
pub const CAPABILITIES: Capabilities = Capabilities {
    raw_formats: &[],
    range_checksums: None,
    snapshot_reads: true,
};

/// The `sqlite` driver, as the registry holds it. A file needs no password.
pub const DRIVER: Driver = Driver {
    name: "sqlite",
    aliases: &[],
    url_example: "a file path like \"branches/lmp.db\"",
    check_url: |_| Ok(()),
    resolve_url,
    check_schema: only_main,
    password: |_| Ok(None),
    capabilities: CAPABILITIES,
    open,
    cause: session::cause,
};

/// A SQLite file's own tables are all in schema `main`; an attached
/// database is not something a branch connection has.
fn only_main(schema: &str) -> std::result::Result<(), String> {
    if schema == "main" {
        return Ok(());
    }
    Err(format!(
        "{schema:?} is not a schema of a SQLite file: its tables are all in \"main\"; remove schema here (or set schema = \"main\")"
    ))
}

/// A `sqlite` url is a file path (`sqlite://` or `sqlite:` prefix
/// optional), anchored at `base` when relative; `:memory:` stays as it is.
pub fn resolve_url(base: &Path, url: &str) -> String {
    let raw = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if raw == ":memory:" || Path::new(raw).is_absolute() {
        raw.to_owned()
    } else {
        base.join(raw).to_string_lossy().into_owned()
    }
}

/// Open the endpoint for `server`, whose `url` is already a file path.
/// Nothing is touched until a session is asked for.
pub fn open(
    server: &ServerConfig,
    engine: &EngineConfig,
    _max_sessions: u32,
) -> Result<Box<dyn Endpoint>> {
    let raw = server.url.strip_prefix("sqlite://").unwrap_or(&server.url);
    if raw.trim().is_empty() {
        return Err(super::DriverError::other(format!(
            "{}: the sqlite url is empty; set url to the database file's path",
            server.name
        )));
    }
    Ok(Box::new(SqliteEndpoint {
        name: server.name.clone(),
        path: PathBuf::from(raw),
        lock_wait: engine.statement_timeout.0,
    }))
}

/// A SQLite file.
struct SqliteEndpoint {
    name: String,
    path: PathBuf,
    /// How long a session waits for another writer's lock.
    lock_wait: Duration,
}

impl Endpoint for SqliteEndpoint {
    /// SQLite has no schemas; the name of the main database stands in.
    fn default_schema(&self) -> &str {
        "main"
    }

    fn driver(&self) -> &'static str {
        "sqlite"
    }

    fn source(&self) -> Result<Box<dyn Source>> {
        let session = Session::open(&self.name, &self.path, Access::ReadOnly, self.lock_wait)?;
        Ok(Box::new(source::SqliteSource::new(session)))
    }

    fn target(&self) -> Result<Box<dyn Target>> {
        let session = Session::open(&self.name, &self.path, Access::ReadWrite, self.lock_wait)?;
        Ok(Box::new(target::SqliteTarget::new(session)))
    }

    /// The SQLite version; an existing file is opened read-only to make sure it
    /// is a database. A missing file is not an error here: a target creates it,
    /// and a source's missing file shows when its tables are looked up.
    fn probe(&self) -> Result<ServerInfo> {
        let version = rusqlite::version().to_owned();
        if !self.path.exists() {
            return Ok(ServerInfo {
                version: format!(
                    "SQLite {version} (file {} not created yet)",
                    self.path.display()
                ),
                tls: None,
                warning: None,
            });
        }
        Session::open(&self.name, &self.path, Access::ReadOnly, self.lock_wait)?;
        Ok(ServerInfo {
            version: format!("SQLite {version}"),
            tls: None,
            warning: None,
        })
    }
}
