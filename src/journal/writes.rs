//! State changes. Each is one committed transaction, made before the work it
//! describes goes on; the batch counters are recomputed from the progress rows
//! in the same transaction, so they can never drift from them.

use super::lock::{boot_id, hostname, is_held};
use super::model::{BatchStatus, NewProgress, ProgressStatus};
use super::segments::{close_segment, open_segment};
use super::{now_utc, parse_ts, Journal, JournalError, Result};
use rusqlite::{params, Transaction};

/// What a finished progress row reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowCounts {
    pub processed: u64,
    pub skipped: u64,
    /// Rows inserted or updated in the target.
    pub written: u64,
    /// Rows deleted from the connection's slice.
    pub deleted: u64,
    /// Bytes read from the branch, when the run could see them (`mirror` by
    /// range checksums: received over both links).
    pub bytes_read: Option<u64>,
    /// Bytes written to the central, when the run could see them (`mirror`
    /// by range checksums: sent over both links).
    pub bytes_written: Option<u64>,
}

impl Journal {
    /// Run `f` in one IMMEDIATE transaction, committed when it returns Ok.
    pub(super) fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let path = self.path.clone();
        let err = |e| super::sql_err_at(&path, e);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let out = f(&tx).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Create a `running` batch with all its progress rows `pending`.
    pub fn create_batch(
        &mut self,
        batch_id: &str,
        command_options: &str,
        rows: &[NewProgress],
    ) -> Result<()> {
        let now = now_utc();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_batches (batch_id, status, total_tables, command_options, started_at, pid, host, boot_id, heartbeat_at)
                 VALUES (?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?4)",
                params![
                    batch_id,
                    rows.len() as i64,
                    command_options,
                    now,
                    std::process::id() as i64,
                    hostname(),
                    boot_id()
                ],
            )?;
            let mut stmt = tx.prepare(
                "INSERT INTO sync_progress (batch_id, connection_name, table_name, model_name, status, step)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
            )?;
            for r in rows {
                stmt.execute(params![
                    batch_id,
                    r.connection_name,
                    r.table_name,
                    r.model_name,
                    r.step
                ])?;
            }
            open_segment(tx, batch_id, &now)
        })
    }

    /// Add progress rows to an existing batch (`sync-table --batch-id`); rows
    /// already there are left as they are.
    pub fn add_progress_rows(&mut self, batch_id: &str, rows: &[NewProgress]) -> Result<()> {
        self.write(|tx| {
            let mut stmt = tx.prepare(
                "INSERT OR IGNORE INTO sync_progress (batch_id, connection_name, table_name, model_name, status, step)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)",
            )?;
            for r in rows {
                stmt.execute(params![batch_id, r.connection_name, r.table_name, r.model_name, r.step])?;
            }
            drop(stmt);
            recount(tx, batch_id)
        })
    }

    /// Take over an existing batch for a resume: `running` again, owned by us.
    pub fn reopen_batch(&mut self, batch_id: &str) -> Result<()> {
        let now = now_utc();
        let n = self.write(|tx| {
            let n = tx.execute(
                "UPDATE sync_batches SET status = 'running', completed_at = NULL, duration_seconds = NULL,
                        pid = ?2, host = ?3, boot_id = ?4, heartbeat_at = ?5
                 WHERE batch_id = ?1",
                params![batch_id, std::process::id() as i64, hostname(), boot_id(), now],
            )?;
            if n > 0 {
                open_segment(tx, batch_id, &now)?;
            }
            Ok(n)
        })?;
        if n == 0 {
            return Err(JournalError::UnknownBatch(batch_id.to_owned()));
        }
        Ok(())
    }

    /// A resumed row whose table the config now names differently (e.g. a
    /// fixed `source` typo) takes the current name, so the resume runs what the
    /// config says. Returns false (nothing changed) when the batch already has
    /// a row for the new name.
    pub fn retarget_progress(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        new_table: &str,
        new_model: &str,
    ) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE OR IGNORE sync_progress SET table_name = ?4, model_name = ?5
                 WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                params![batch_id, conn, table, new_table, new_model],
            )?;
            Ok(n > 0)
        })
    }

    /// A copy of (connection, table) begins: `in_progress`, timestamps reset.
    pub fn start_progress(&mut self, batch_id: &str, conn: &str, table: &str) -> Result<()> {
        let now = now_utc();
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_progress SET status = 'in_progress', started_at = ?4, completed_at = NULL,
                        duration_seconds = NULL, error_message = NULL, rows_written = NULL,
                        rows_deleted = NULL, bytes_read = NULL, bytes_written = NULL
                 WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                params![batch_id, conn, table, now],
            )?;
            touch(tx, batch_id)
        })
    }

    /// The run of `batch_id` is alive (written every few seconds while it
    /// runs): after a SIGKILL or a power cut its last heartbeat is when it
    /// stopped, so the interruption time and the working time stay true for
    /// a table that copied for minutes without a state change.
    pub fn heartbeat(&mut self, batch_id: &str) -> Result<()> {
        self.write(|tx| touch(tx, batch_id))
    }

    /// A retry is about to happen; the error that caused it is kept.
    pub fn record_retry(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        retry_count: u32,
        error: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_progress SET retry_count = ?4, error_message = ?5
                 WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                params![batch_id, conn, table, retry_count as i64, error],
            )?;
            touch(tx, batch_id)
        })
    }

    /// The target committed this table: `completed` with its counts.
    pub fn complete_progress(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        counts: RowCounts,
    ) -> Result<()> {
        self.finish_progress(
            batch_id,
            conn,
            table,
            ProgressStatus::Completed,
            counts,
            None,
        )
    }

    /// The table failed for good (after its retries).
    pub fn fail_progress(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        error: &str,
    ) -> Result<()> {
        self.finish_progress(
            batch_id,
            conn,
            table,
            ProgressStatus::Failed,
            RowCounts::default(),
            Some(error),
        )
    }

    /// Nothing to do for this table (e.g. its source is not selected).
    pub fn skip_progress(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        why: &str,
    ) -> Result<()> {
        self.finish_progress(
            batch_id,
            conn,
            table,
            ProgressStatus::Skipped,
            RowCounts::default(),
            Some(why),
        )
    }

    fn finish_progress(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        status: ProgressStatus,
        counts: RowCounts,
        error: Option<&str>,
    ) -> Result<()> {
        let now = now_utc();
        self.write(|tx| {
            let started: Option<String> = tx.query_row(
                "SELECT started_at FROM sync_progress WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                params![batch_id, conn, table],
                |r| r.get(0),
            )?;
            let duration = started.as_deref().and_then(|s| seconds_between(s, &now));
            // Only a completed copy knows what it wrote; the others say NULL.
            let done = status == ProgressStatus::Completed;
            let known = |v: u64| done.then_some(v as i64);
            let bytes = |v: Option<u64>| v.filter(|_| done).map(|v| v as i64);
            tx.execute(
                "UPDATE sync_progress SET status = ?4, records_processed = ?5, records_skipped = ?6,
                        error_message = ?7, completed_at = ?8, duration_seconds = ?9,
                        rows_written = ?10, rows_deleted = ?11, bytes_read = ?12, bytes_written = ?13
                 WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                params![
                    batch_id,
                    conn,
                    table,
                    status.as_str(),
                    counts.processed as i64,
                    counts.skipped as i64,
                    error,
                    now,
                    duration,
                    known(counts.written),
                    known(counts.deleted),
                    bytes(counts.bytes_read),
                    bytes(counts.bytes_written)
                ],
            )?;
            recount(tx, batch_id)?;
            touch(tx, batch_id)
        })
    }

    /// The rows of `tables` of a connection that could not be reached or
    /// logged into fail without being tried: each carries the probe's
    /// `error` and its `retry_count` (one transaction for them all).
    pub fn fail_unreached(
        &mut self,
        batch_id: &str,
        conn: &str,
        tables: &[&str],
        retry_count: u32,
        error: &str,
    ) -> Result<()> {
        let now = now_utc();
        self.write(|tx| {
            for table in tables {
                tx.execute(
                    "UPDATE sync_progress SET status = 'failed', records_processed = 0, records_skipped = 0,
                            error_message = ?4, retry_count = ?5, started_at = ?6, completed_at = ?6,
                            duration_seconds = 0, rows_written = NULL, rows_deleted = NULL,
                            bytes_read = NULL, bytes_written = NULL
                     WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3",
                    params![batch_id, conn, table, error, retry_count as i64, now],
                )?;
            }
            recount(tx, batch_id)?;
            touch(tx, batch_id)
        })
    }

    /// An aborted copy goes back to `pending` (its target transaction rolled back).
    pub fn reset_progress(&mut self, batch_id: &str, conn: &str, table: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_progress SET status = 'pending', completed_at = NULL, duration_seconds = NULL
                 WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3 AND status = 'in_progress'",
                params![batch_id, conn, table],
            )?;
            touch(tx, batch_id)
        })
    }

    /// Close the batch with its final status; its duration is the sum of its
    /// run segments (from `started_at` for a batch without segments).
    pub fn finish_batch(&mut self, batch_id: &str, status: BatchStatus) -> Result<()> {
        let now = now_utc();
        self.write(|tx| {
            // A row still in flight at the end did not finish: pending again.
            if status != BatchStatus::Running {
                tx.execute(
                    "UPDATE sync_progress SET status = 'pending' WHERE batch_id = ?1 AND status = 'in_progress'",
                    params![batch_id],
                )?;
            }
            recount(tx, batch_id)?;
            let started: String = tx.query_row(
                "SELECT started_at FROM sync_batches WHERE batch_id = ?1",
                params![batch_id],
                |r| r.get(0),
            )?;
            let worked = close_segment(tx, batch_id, &now, status.as_str())?;
            tx.execute(
                "UPDATE sync_batches SET status = ?2, completed_at = ?3, duration_seconds = ?4, heartbeat_at = ?3
                 WHERE batch_id = ?1",
                params![
                    batch_id,
                    status.as_str(),
                    now,
                    worked.or_else(|| seconds_between(&started, &now))
                ],
            )?;
            Ok(())
        })
    }

    /// Liveness: every `running` batch is dead when nobody holds the run lock.
    /// Records them `interrupted` (their `in_progress` rows back to `pending`).
    /// Returns how many were marked. Callers that hold the lock themselves
    /// pass `we_hold_lock = true`.
    pub fn reconcile_liveness(&mut self, we_hold_lock: bool) -> Result<usize> {
        if !we_hold_lock && is_held(&self.path) {
            return Ok(0);
        }
        let running: Vec<String> = self.query_vec(
            "SELECT batch_id FROM sync_batches WHERE status = 'running'",
            [],
            |r| r.get(0),
        )?;
        if running.is_empty() || self.is_read_only() {
            return Ok(0);
        }
        for id in &running {
            self.write(|tx| {
                tx.execute(
                    "UPDATE sync_progress SET status = 'pending' WHERE batch_id = ?1 AND status = 'in_progress'",
                    params![id],
                )?;
                recount(tx, id)?;
                // The run's end is its last sign of life.
                let (started, beat): (String, Option<String>) = tx.query_row(
                    "SELECT started_at, heartbeat_at FROM sync_batches WHERE batch_id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                let end = beat.unwrap_or_else(|| started.clone());
                let worked = close_segment(tx, id, &end, "interrupted")?;
                tx.execute(
                    "UPDATE sync_batches SET status = 'interrupted', completed_at = ?2, duration_seconds = ?3
                     WHERE batch_id = ?1 AND status = 'running'",
                    params![id, end, worked.or_else(|| seconds_between(&started, &end))],
                )?;
                Ok(())
            })?;
        }
        Ok(running.len())
    }

    fn is_read_only(&self) -> bool {
        self.conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(true)
    }
}

/// The batch is alive: refresh its heartbeat.
fn touch(tx: &Transaction, batch_id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE sync_batches SET heartbeat_at = ?2 WHERE batch_id = ?1",
        params![batch_id, now_utc()],
    )?;
    Ok(())
}

fn recount(tx: &Transaction, batch_id: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE sync_batches SET
            total_tables = (SELECT count(*) FROM sync_progress WHERE batch_id = ?1),
            completed_tables = (SELECT count(*) FROM sync_progress WHERE batch_id = ?1 AND status IN ('completed', 'skipped')),
            failed_tables = (SELECT count(*) FROM sync_progress WHERE batch_id = ?1 AND status = 'failed')
         WHERE batch_id = ?1",
        params![batch_id],
    )?;
    Ok(())
}

pub(super) fn seconds_between(start: &str, end: &str) -> Option<f64> {
    let (a, b) = (parse_ts(start)?, parse_ts(end)?);
    Some(((b - a).num_milliseconds() as f64 / 1000.0).max(0.0))
}
