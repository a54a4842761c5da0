//! Creating and upgrading the journal's schema while other processes open the
//! same journal: a cron `sync-all` starting beside `serve` and `sync-status`,
//! or the first run after an upgrade that adds a migration.
//!
//! All of it is one IMMEDIATE transaction. SQLite lets one writer in and the
//! others wait (the busy timeout); each reads `user_version` again inside
//! before doing anything, so a process that finds the work done writes
//! nothing. The schema change and the version bump commit together.
//!
//! Every step tolerates work already done, so a journal left half-migrated
//! by an earlier release (a step's columns added, its version not bumped) is
//! repaired: a column is added only when missing, and every other statement
//! of a migration must be safe to run twice (`IF NOT EXISTS`; the tests run
//! each migration again over every prefix of itself).

use super::statements::{added_column, statements};
use super::{
    sql_err_at, Journal, JournalError, Result, APPLICATION_ID, MIGRATIONS, SCHEMA_SQL,
    SCHEMA_VERSION,
};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::time::{Duration, Instant};

/// What a journal's file held when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Schema {
    /// At the current version (made so by this process or another).
    Current,
    /// No schema yet, and this process was not to create one (a reader).
    Uncreated,
}

/// How a process opens the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opener {
    /// A writer; `fresh` when this process created the file just now.
    Writer { fresh: bool },
    /// A reading command: it never creates the schema; it upgrades an old
    /// one only when no other process is doing so (it waits for that one).
    Reader,
}

impl Journal {
    pub(super) fn migrate(&mut self, opener: Opener, deadline: Instant) -> Result<Schema> {
        // Versions only go up: a journal found current needs no lock at all.
        let conn = &self.conn;
        let seen =
            retry_busy(deadline, || Found::read(conn)).map_err(|e| self.foreign_or_sql(e))?;
        if let Some(done) = seen.verdict(&self.path, opener)? {
            return Ok(done);
        }
        let tx = retry_busy(deadline, move || {
            Transaction::new_unchecked(conn, TransactionBehavior::Immediate)
        })
        .map_err(|e| sql_err_at(&self.path, e))?;
        let path = &self.path;
        let err = |e| sql_err_at(path, e);
        // Another process may have migrated while we waited.
        let found = Found::read(&tx).map_err(err)?;
        if let Some(done) = found.verdict(path, opener)? {
            return Ok(done);
        }
        if found.version == 0 {
            tx.execute_batch(SCHEMA_SQL).map_err(err)?;
            tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID};"))
                .map_err(err)?;
        }
        for step in found.version.max(1)..SCHEMA_VERSION {
            apply_tolerantly(&tx, MIGRATIONS[(step - 1) as usize]).map_err(err)?;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
            .map_err(err)?;
        tx.commit().map_err(err)?;
        if found.version > 0 {
            log::info!(
                "journal {}: schema upgraded from version {} to {SCHEMA_VERSION}",
                path.display(),
                found.version
            );
        }
        Ok(Schema::Current)
    }
}

/// The journal's header as one process saw it.
struct Found {
    version: i64,
    app_id: i64,
    tables: i64,
}

impl Found {
    /// One statement, so one snapshot: read apart, a version 0 and the
    /// tables another process committed just after would look foreign.
    fn read(conn: &Connection) -> rusqlite::Result<Found> {
        conn.query_row(
            "SELECT (SELECT user_version FROM pragma_user_version),
                    (SELECT application_id FROM pragma_application_id),
                    (SELECT count(*) FROM sqlite_master WHERE type = 'table')",
            [],
            |r| {
                Ok(Found {
                    version: r.get(0)?,
                    app_id: r.get(1)?,
                    tables: r.get(2)?,
                })
            },
        )
    }

    /// `Some` when there is nothing to write (or nothing may be written);
    /// `None` when the schema must be created or upgraded.
    fn verdict(&self, path: &std::path::Path, opener: Opener) -> Result<Option<Schema>> {
        if self.version > SCHEMA_VERSION {
            return Err(JournalError::TooNew {
                path: path.to_path_buf(),
                found: self.version,
            });
        }
        if self.version == 0 {
            // A file with tables of its own that are not ours is foreign.
            if self.tables > 0 && opener != (Opener::Writer { fresh: true }) {
                return Err(JournalError::Foreign {
                    path: path.to_path_buf(),
                    reason: "it holds other tables and no branchsync schema version".into(),
                });
            }
            return Ok((opener == Opener::Reader).then_some(Schema::Uncreated));
        }
        if self.app_id != APPLICATION_ID {
            return Err(JournalError::Foreign {
                path: path.to_path_buf(),
                reason: format!("application id {:#x}", self.app_id),
            });
        }
        Ok((self.version == SCHEMA_VERSION).then_some(Schema::Current))
    }
}

/// Run a migration's statements, skipping a column that is already there.
fn apply_tolerantly(tx: &Transaction, sql: &str) -> rusqlite::Result<()> {
    for stmt in statements(sql) {
        if let Some((table, column)) = added_column(&stmt) {
            let present: i64 = tx.query_row(
                "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE",
                [&table, &column],
                |r| r.get(0),
            )?;
            if present > 0 {
                log::info!("journal: column {table}.{column} already present, not added again");
                continue;
            }
        }
        tx.execute_batch(&stmt)?;
    }
    Ok(())
}

/// Retry `f` while SQLite reports the journal busy, until `deadline`. Most
/// waits go through the busy handler; a few do not (switching a brand-new
/// file to WAL while another process does the same, WAL recovery), and those
/// come back here.
pub(super) fn retry_busy<T>(
    deadline: Instant,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut pause = Duration::from_millis(2);
    loop {
        match f() {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare(
                "SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c
                 WHERE m.type = 'table' ORDER BY 1",
            )
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn objects(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name FROM sqlite_master ORDER BY 1")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    /// A journal file at `version`, made the way that version's release did.
    fn at_version(path: &std::path::Path, version: i64) -> Connection {
        let c = Connection::open(path).unwrap();
        c.execute_batch(SCHEMA_SQL).unwrap();
        for sql in &MIGRATIONS[..(version - 1) as usize] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};"
        ))
        .unwrap();
        c
    }

    /// Every step, cut short after any of its statements (the version not
    /// bumped), is finished by the next open: same tables, columns and
    /// indexes as a journal made in one go.
    #[test]
    fn every_step_cut_short_anywhere_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let clean = dir.path().join("clean.db");
        drop(Journal::open(&clean).unwrap());
        let clean = Connection::open(&clean).unwrap();
        for version in 1..SCHEMA_VERSION {
            let stmts = statements(MIGRATIONS[(version - 1) as usize]);
            for done in 0..=stmts.len() {
                let path = dir.path().join(format!("v{version}-{done}.db"));
                let c = at_version(&path, version);
                for s in &stmts[..done] {
                    c.execute_batch(s).unwrap();
                }
                drop(c);
                let j = Journal::open(&path)
                    .unwrap_or_else(|e| panic!("version {version}, {done} statements: {e}"));
                assert_eq!(j.integrity_check().unwrap(), "ok");
                drop(j);
                let c = Connection::open(&path).unwrap();
                let v: i64 = c
                    .query_row("PRAGMA user_version", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(v, SCHEMA_VERSION);
                assert_eq!(columns(&c), columns(&clean), "version {version}, {done}");
                assert_eq!(objects(&c), objects(&clean), "version {version}, {done}");
            }
        }
    }
}
