//! The local SQLite journal: the one place that knows where every run stopped.
//!
//! It is the only module that speaks SQL to SQLite (reads in `query.rs`, state
//! changes in `writes.rs`, the schema and its upgrades in `migrate.rs`). Every
//! connection runs `journal_mode=WAL` and `synchronous=FULL`: with NORMAL a
//! committed transaction can roll back after a power cut, and the journal must
//! never claim more than happened. Every state change is its own committed
//! transaction, made *before* the work it describes.

mod access;
mod batch_id;
mod chunks;
mod estimates;
mod lock;
mod migrate;
mod mirror;
pub mod model;
mod notifications;
mod query;
mod segments;
mod sqlite_version;
mod statements;
mod writes;

pub use access::check_journal_folder;
pub use batch_id::{canonical_batch_id, is_batch_id, new_batch_id};
pub use chunks::ChunkRow;
pub use lock::{hostname, LockHolder, RunLock};
pub use mirror::{FleetRunner, MirrorChange, MirrorChanges};
pub use model::*;
pub use notifications::{NewNotification, NotificationRow, NotificationStatus};
pub use query::{FailingTable, StatsFilter, TableStats};
pub use segments::{Abandoned, Segment};
pub use sqlite_version::{sqlite_version, sqlite_version_number, MIN_SQLITE_VERSION_NUMBER};
pub use writes::RowCounts;

use migrate::{retry_busy, Opener, Schema};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The schema, versioned by `PRAGMA user_version`.
pub const SCHEMA_SQL: &str = include_str!("../../schema.sql");
/// Forward migrations: `MIGRATIONS[i]` takes a journal from version `i + 1`
/// to `i + 2` (`schema.sql` is version 1).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/2.sql"),
    include_str!("migrations/3.sql"),
    include_str!("migrations/4.sql"),
    include_str!("migrations/5.sql"),
    include_str!("migrations/6.sql"),
    include_str!("migrations/7.sql"),
];
/// Current schema version. Migrations go forward only.
pub const SCHEMA_VERSION: i64 = 1 + MIGRATIONS.len() as i64;
/// Identifies our journal files (`PRAGMA application_id`), "BSYN".
const APPLICATION_ID: i64 = 0x4253_594e;
/// How long a process waits for another that holds the journal (a migration,
/// a write) before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal {path}: {cause}. Check that its folder exists and is writable (config key [journal] path)")]
    Open {
        path: PathBuf,
        /// Shown in the message (not chained, so it is printed once).
        cause: SqlCause,
    },
    #[error("the journal path {path} cannot exist: {blocker} is a file, not a folder. Set [journal] path to a file in a folder")]
    NotAFolder { path: PathBuf, blocker: PathBuf },
    #[error("cannot open the journal {path}: the file belongs to user {owner} (mode {mode:04o}) and branchsync runs as user {user}. Run branchsync as user {owner}, or give the journal and its side files to {user} (as root): `chown {user} {}*`", crate::hint::shell_quote(&.path.to_string_lossy()))]
    NotOwner {
        path: PathBuf,
        owner: String,
        mode: u32,
        user: String,
    },
    #[error("{path} is not a branchsync journal ({reason}); it was left untouched. Point [journal] path at a new file, or move this one away")]
    Foreign { path: PathBuf, reason: String },
    #[error("the journal {path} was written by a newer branchsync (schema version {found}, this one knows {SCHEMA_VERSION}); upgrade branchsync")]
    TooNew { path: PathBuf, found: i64 },
    #[error("journal {path}: {cause}{}", sql_hint(&cause.0))]
    Sql { path: PathBuf, cause: SqlCause },
    #[error("cannot create {path}: {cause}{}", io_hint(&cause.0))]
    Io { path: PathBuf, cause: IoCause },
    #[error("another sync is running: batch {}, pid {}, host {} (lock file {}). Wait for it to finish, or watch it with `{}`", .holder.batch_id.as_deref().unwrap_or("?"), .holder.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()), .holder.host.as_deref().unwrap_or("?"), .lock_path.display(), crate::hint::cmd("sync-status --latest"))]
    LockHeld {
        lock_path: PathBuf,
        holder: LockHolder,
    },
    #[error("no batch with id {id}. List the batches with `{}`", crate::hint::cmd("sync-status --all"), id = .0)]
    UnknownBatch(String),
    #[error("batch {batch_id} is {status}: only a failed or interrupted batch can be abandoned")]
    NotAbandonable {
        batch_id: String,
        status: BatchStatus,
    },
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// An SQLite error carried inside a journal error's message. It is not the
/// error's `source()`, so a report prints it once, not twice.
#[derive(Debug)]
pub struct SqlCause(pub rusqlite::Error);

/// An I/O error carried inside a journal error's message (see [`SqlCause`]).
#[derive(Debug)]
pub struct IoCause(pub std::io::Error);

impl std::fmt::Display for SqlCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for IoCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<rusqlite::Error> for SqlCause {
    fn from(e: rusqlite::Error) -> Self {
        SqlCause(e)
    }
}

impl From<std::io::Error> for IoCause {
    fn from(e: std::io::Error) -> Self {
        IoCause(e)
    }
}

impl SqlCause {
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        self.0.sqlite_error_code()
    }
}

/// What the operator can do about an SQLite failure.
fn sql_hint(e: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(ReadOnly) | Some(CannotOpen) | Some(PermissionDenied) => {
            ". Make the journal file and its folder writable by the user that runs branchsync (config key [journal] path)"
        }
        Some(DiskFull) | Some(SystemIoFailure) | Some(TooBig) => {
            ". Free space on the journal's file system (or move [journal] path), then resume the batch"
        }
        Some(DatabaseBusy) | Some(DatabaseLocked) => ". Another process keeps the journal busy; try again",
        _ => "",
    }
}

/// What the operator can do about an I/O failure.
fn io_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            ". Make the folder writable by the user that runs branchsync, or point [journal] path elsewhere"
        }
        std::io::ErrorKind::StorageFull => ". Free space on that file system",
        _ => "",
    }
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// The descriptor the header check read through. Closing a descriptor
    /// drops every POSIX lock this process holds on the file — SQLite's
    /// included — so it stays open until the connection has closed (fields
    /// drop in order).
    _header_fd: Option<std::fs::File>,
}

impl Journal {
    /// Open (creating when missing, mode 0600) the journal at `path`, for writing.
    pub fn open(path: &Path) -> Result<Journal> {
        access::check_journal_folder(path)?;
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() && !dir.exists() {
                std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
                    path: dir.to_path_buf(),
                    cause: IoCause(source),
                })?;
            }
        }
        let fresh = !path.exists();
        if fresh {
            create_private_file(path)?;
        }
        let (journal, _) = Journal::open_file(path, Opener::Writer { fresh })?;
        Ok(journal)
    }

    /// Open for reading. A missing file is an empty journal, and so is one
    /// that a starting sync has created but not yet set up: nothing is
    /// created. An old schema is upgraded (after waiting for any process
    /// already doing so). Reads still record stale `running` batches as
    /// `interrupted` when the file exists and is writable.
    pub fn open_read(path: &Path) -> Result<Journal> {
        access::check_journal_folder(path)?;
        let empty_file = std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
        if !path.exists() || empty_file {
            return Journal::empty(path);
        }
        match Journal::open_file(path, Opener::Reader)? {
            (journal, Schema::Current) => Ok(journal),
            (_, Schema::Uncreated) => Journal::empty(path),
        }
    }

    /// An empty journal in memory that reports `path` as its own.
    fn empty(path: &Path) -> Result<Journal> {
        let conn = Connection::open_in_memory().map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            cause: SqlCause(source),
        })?;
        let mut journal = Journal {
            conn,
            path: path.to_path_buf(),
            _header_fd: None,
        };
        let deadline = Instant::now() + BUSY_TIMEOUT;
        journal.migrate(Opener::Writer { fresh: true }, deadline)?;
        Ok(journal)
    }

    /// Open an existing file, set the connection up and bring the schema to
    /// the current version. A failure for want of permissions on a file that
    /// belongs to another user says so.
    fn open_file(path: &Path, opener: Opener) -> Result<(Journal, Schema)> {
        Journal::open_file_as(path, opener).map_err(|e| {
            if is_permission_error(&e) {
                access::owner_problem(path).unwrap_or(e)
            } else {
                e
            }
        })
    }

    fn open_file_as(path: &Path, opener: Opener) -> Result<(Journal, Schema)> {
        let header_fd = check_header(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| JournalError::Open {
            path: path.to_path_buf(),
            cause: SqlCause(source),
        })?;
        let mut journal = Journal {
            conn,
            path: path.to_path_buf(),
            _header_fd: Some(header_fd),
        };
        let deadline = Instant::now() + BUSY_TIMEOUT;
        journal.configure(deadline)?;
        let schema = journal.migrate(opener, deadline)?;
        Ok((journal, schema))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sql_err(&self, source: rusqlite::Error) -> JournalError {
        sql_err_at(&self.path, source)
    }

    fn configure(&mut self, deadline: Instant) -> Result<()> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.sql_err(e))?;
        // journal_mode returns a row; the others do not. On a brand-new file
        // that others switch at the same moment it can be busy without the
        // busy handler being asked.
        let conn = &self.conn;
        let mode: String = retry_busy(deadline, || {
            conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        })
        .map_err(|e| self.foreign_or_sql(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            log::warn!(
                "journal {}: journal_mode is {mode}, not wal",
                self.path.display()
            );
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(|e| self.sql_err(e))?;
        Ok(())
    }

    fn foreign_or_sql(&self, e: rusqlite::Error) -> JournalError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase)
            | Some(rusqlite::ErrorCode::DatabaseCorrupt) => JournalError::Foreign {
                path: self.path.clone(),
                reason: format!("{e}"),
            },
            _ => self.sql_err(e),
        }
    }

    /// `PRAGMA integrity_check`, "ok" when sound.
    pub fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.sql_err(e))
    }
}

/// A failure that may come from the file's owner and mode.
fn is_permission_error(e: &JournalError) -> bool {
    use rusqlite::ErrorCode::*;
    match e {
        JournalError::Io { cause, .. } => cause.0.kind() == std::io::ErrorKind::PermissionDenied,
        JournalError::Open { cause, .. } | JournalError::Sql { cause, .. } => matches!(
            cause.sqlite_error_code(),
            Some(ReadOnly) | Some(CannotOpen) | Some(PermissionDenied)
        ),
        _ => false,
    }
}

fn sql_err_at(path: &Path, source: rusqlite::Error) -> JournalError {
    JournalError::Sql {
        path: path.to_path_buf(),
        cause: SqlCause(source),
    }
}

/// A file that exists must be an SQLite file (or empty) before SQLite may touch
/// it: SQLite would otherwise happily turn garbage into WAL side files.
fn check_header(path: &Path) -> Result<std::fs::File> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        cause: IoCause(source),
    })?;
    let mut header = [0u8; 16];
    let n = f.read(&mut header).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        cause: IoCause(source),
    })?;
    if n == 0 {
        return Ok(f);
    }
    if n < 16 || &header != b"SQLite format 3\0" {
        return Err(JournalError::Foreign {
            path: path.to_path_buf(),
            reason: "it is not an SQLite file".into(),
        });
    }
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len < 512 {
        return Err(JournalError::Foreign {
            path: path.to_path_buf(),
            reason: "it is truncated".into(),
        });
    }
    Ok(f)
}

/// Create `path` empty with mode 0600 (it holds operational history).
pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .map(|_| ())
        .map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            cause: IoCause(source),
        })
}

/// UTC now as stored in the journal.
pub fn now_utc() -> String {
    format_ts(chrono::Utc::now())
}

pub fn format_ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parse a journal timestamp.
pub fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}
