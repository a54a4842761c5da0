//! One SQLite connection as a session: how it is opened, how it waits for
//! locks held by other writers, how it is cancelled, and how its errors are
//! classified for the engine's retry decision.
//!
//! Several copies write different tables of the same target file at once, so
//! a session may wait long for the write lock. SQLite's own busy timeout
//! cannot be cancelled, so the wait is ours: a busy handler that sleeps in
//! short steps and gives up when the session is cancelled or the wait has
//! lasted the configured timeout.

use crate::driver::{CancelHandle, DriverError, ErrorKind, Result};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An open connection with its name, cancel flag and lock-wait limit.
pub struct Session {
    pub conn: Connection,
    /// `connection branch_a (SQLite file /data/a.db)`, for messages.
    pub label: String,
    pub path: PathBuf,
    cancelled: Arc<AtomicBool>,
    busy_timeout: Duration,
}

/// Whether the session reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

impl Session {
    pub fn open(
        name: &str,
        path: &Path,
        access: Access,
        busy_timeout: Duration,
    ) -> Result<Session> {
        let label = format!("{name} (SQLite file {})", path.display());
        let url_key = if name == "target" {
            "[target] url".to_owned()
        } else {
            format!("url of [[connection]] {name}")
        };
        let flags = match access {
            Access::ReadOnly => {
                if path.exists() && !path.is_file() {
                    return Err(DriverError::other(format!(
                        "{label}: not a file. Point the {url_key} at the SQLite database file"
                    )));
                }
                if !path.is_file() {
                    return Err(DriverError::new(
                        ErrorKind::MissingTable,
                        format!(
                            "{label}: the file does not exist. Check the {url_key} in the config"
                        ),
                    ));
                }
                OpenFlags::SQLITE_OPEN_READ_ONLY
            }
            Access::ReadWrite => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    if !dir.is_dir() {
                        return Err(DriverError::other(format!(
                            "{label}: the folder {} does not exist. Create it, or fix the {url_key} in the config",
                            dir.display()
                        )));
                    }
                }
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
            }
        };
        let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| {
                DriverError::other(format!(
                    "{label}: cannot open: {e}. Check the file's permissions and the {url_key}"
                ))
            })?;
        let mut session = Session {
            conn,
            label,
            path: path.to_path_buf(),
            cancelled: Arc::new(AtomicBool::new(false)),
            busy_timeout,
        };
        session
            .conn
            .busy_handler(Some(wait_for_lock))
            .map_err(|e| session.error(e, "setting the busy handler"))?;
        // Reading the schema tells a database from any other file.
        session
            .with_wait(|c| c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(())))
            .map_err(|e| session.error(e, "reading the schema"))?;
        if access == Access::ReadWrite {
            session.configure_writer()?;
        }
        Ok(session)
    }

    /// WAL lets readers go on while one copy writes; synchronous=FULL makes a
    /// commit survive a power cut before the journal calls the table completed.
    fn configure_writer(&self) -> Result<()> {
        // Switching the journal mode needs the file to itself; SQLite answers
        // BUSY at once (without its busy handler) while another session of
        // ours opens the same new file, so wait here within the same limit.
        let start = Instant::now();
        let mode: String = loop {
            match self.with_wait(|c| c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))) {
                Ok(m) => break m,
                Err(e)
                    if matches!(
                        e.sqlite_error_code(),
                        Some(
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        )
                    ) && start.elapsed() < self.busy_timeout
                        && !self.is_cancelled() =>
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => return Err(self.error(e, "switching to WAL mode")),
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            log::warn!("{}: journal_mode is {mode}, not wal", self.label);
        }
        self.conn
            .execute_batch("PRAGMA synchronous=FULL")
            .map_err(|e| self.error(e, "setting synchronous=FULL"))
    }

    /// Run `f` with this session's lock-wait limit and cancel flag in force.
    pub fn with_wait<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let _wait = self.wait_scope();
        f(&self.conn)
    }

    /// Puts this session's lock-wait limit and cancel flag in force on this
    /// thread until the returned scope is dropped.
    pub fn wait_scope(&self) -> WaitScope {
        WaitScope::enter(self.cancelled.clone(), self.busy_timeout)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Fails with `Cancelled` once the session has been cancelled.
    pub fn check_cancelled(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(cancelled(&self.label))
        } else {
            Ok(())
        }
    }

    /// Sets the flag (seen between rows and while waiting for a lock) and
    /// interrupts the running statement. A cancelled session stays cancelled.
    pub fn cancel_handle(&self) -> CancelHandle {
        let flag = self.cancelled.clone();
        let interrupt = self.conn.get_interrupt_handle();
        Arc::new(move || {
            flag.store(true, Ordering::Relaxed);
            interrupt.interrupt();
        })
    }

    /// Classify an SQLite error: lock waits that ran out are timeouts (retried),
    /// interrupts are cancellations, a missing table is `MissingTable`.
    pub fn error(&self, e: rusqlite::Error, doing: &str) -> DriverError {
        if self.is_cancelled() {
            return cancelled(&self.label);
        }
        let (kind, detail) = match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => (
                ErrorKind::Timeout,
                format!(
                    "the database stayed locked by another writer for {:?} ({e}). It is retried; raise [engine] statement_timeout if this persists",
                    self.busy_timeout
                ),
            ),
            Some(ErrorCode::OperationInterrupted) => return cancelled(&self.label),
            Some(ErrorCode::NotADatabase) => (
                ErrorKind::Other,
                format!("{} is not a SQLite database ({e}). Check the url in the config", self.path.display()),
            ),
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => (
                ErrorKind::Other,
                format!("{e}. Check the permissions of {} and its folder", self.path.display()),
            ),
            Some(ErrorCode::SystemIoFailure) => (ErrorKind::Connection, e.to_string()),
            Some(ErrorCode::ConstraintViolation) => (
                ErrorKind::Other,
                format!(
                    "{e}. Either the source repeats the configured key, or the target table has a constraint the source's rows do not meet"
                ),
            ),
            _ if e.to_string().starts_with("no such table") => (ErrorKind::MissingTable, e.to_string()),
            _ => (ErrorKind::Other, e.to_string()),
        };
        DriverError::new(kind, format!("{}: {doing}: {detail}", self.label))
    }
}

fn cancelled(label: &str) -> DriverError {
    DriverError::new(ErrorKind::Cancelled, format!("{label}: cancelled"))
}

/// Quote an identifier for SQLite (`"` doubled), whatever it contains.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// The lock wait in force on this thread (a session call runs on one thread).
struct Wait {
    cancelled: Arc<AtomicBool>,
    limit: Duration,
    since: Option<Instant>,
}

thread_local! {
    static WAIT: RefCell<Option<Wait>> = const { RefCell::new(None) };
}

/// Installs a [`Wait`] for the duration of one session call.
pub struct WaitScope {
    previous: Option<Wait>,
}

impl WaitScope {
    fn enter(cancelled: Arc<AtomicBool>, limit: Duration) -> WaitScope {
        let wait = Wait {
            cancelled,
            limit,
            since: None,
        };
        WaitScope {
            previous: WAIT.with(|w| w.borrow_mut().replace(wait)),
        }
    }
}

impl Drop for WaitScope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        WAIT.with(|w| *w.borrow_mut() = previous);
    }
}

/// Longest single sleep while waiting, so a cancel is seen quickly.
const WAIT_STEP: Duration = Duration::from_millis(25);
/// Limit when no session call is in scope (never expected).
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// SQLite's busy handler: `count` is 0 at the start of each lock wait.
/// Returns whether to try again.
fn wait_for_lock(count: i32) -> bool {
    let step = WAIT_STEP.min(Duration::from_millis(1 << count.clamp(0, 5)));
    let go_on = WAIT.with(|w| {
        let mut w = w.borrow_mut();
        let Some(wait) = w.as_mut() else {
            return Duration::from_millis(25) * (count.max(0) as u32) < DEFAULT_WAIT;
        };
        if wait.cancelled.load(Ordering::Relaxed) {
            return false;
        }
        let since = if count == 0 {
            *wait.since.insert(Instant::now())
        } else {
            *wait.since.get_or_insert_with(Instant::now)
        };
        since.elapsed() < wait.limit
    });
    if go_on {
        std::thread::sleep(step);
    }
    go_on
}

/// The cause in a message this driver wrote (`name (SQLite file path): …`):
/// what follows the label, without the advice (`. Check …`, `. Create …`).
pub fn cause(message: &str) -> Option<&str> {
    let start = message.find(" (SQLite file ")?;
    let rest = &message[start..];
    let rest = &rest[rest.find("): ")? + 3..];
    let end = [". Check ", ". Create ", ". Point ", ". Either "]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    Some(&rest[..end])
}
