//! Reads: batches, progress rows, statistics, and pruning of old history.

use super::model::{BatchRow, BatchStatus, ProgressRow, ProgressStatus};
use super::{Journal, Result};
use rusqlite::{params, Row};
use serde::Serialize;

const BATCH_COLS: &str =
    "batch_id, status, total_tables, completed_tables, failed_tables, command_options, \
     started_at, completed_at, duration_seconds, pid, host, boot_id, heartbeat_at";
const PROGRESS_COLS: &str =
    "batch_id, connection_name, table_name, model_name, status, records_processed, \
     records_skipped, error_message, started_at, completed_at, duration_seconds, retry_count, step, \
     rows_written, rows_deleted, bytes_read, bytes_written";

fn batch_from_row(r: &Row) -> rusqlite::Result<BatchRow> {
    let status: String = r.get(1)?;
    Ok(BatchRow {
        batch_id: r.get(0)?,
        status: BatchStatus::parse(&status).unwrap_or(BatchStatus::Interrupted),
        total_tables: r.get(2)?,
        completed_tables: r.get(3)?,
        failed_tables: r.get(4)?,
        command_options: r.get(5)?,
        started_at: r.get(6)?,
        completed_at: r.get(7)?,
        duration_seconds: r.get(8)?,
        pid: r.get(9)?,
        host: r.get(10)?,
        boot_id: r.get(11)?,
        heartbeat_at: r.get(12)?,
    })
}

fn progress_from_row(r: &Row) -> rusqlite::Result<ProgressRow> {
    let status: String = r.get(4)?;
    Ok(ProgressRow {
        batch_id: r.get(0)?,
        connection_name: r.get(1)?,
        table_name: r.get(2)?,
        model_name: r.get(3)?,
        status: ProgressStatus::parse(&status).unwrap_or(ProgressStatus::Pending),
        records_processed: r.get(5)?,
        records_skipped: r.get(6)?,
        error_message: r.get(7)?,
        started_at: r.get(8)?,
        completed_at: r.get(9)?,
        duration_seconds: r.get(10)?,
        retry_count: r.get(11)?,
        step: r.get(12)?,
        rows_written: r.get(13)?,
        rows_deleted: r.get(14)?,
        bytes_read: r.get(15)?,
        bytes_written: r.get(16)?,
    })
}

/// A `TableStats` from the columns table, runs, completed, failed, avg
/// retries, avg duration, avg records (both stats queries select these).
fn table_stats_from_row(r: &Row) -> rusqlite::Result<TableStats> {
    let completed: i64 = r.get(2)?;
    let failed: i64 = r.get(3)?;
    let done = completed + failed;
    Ok(TableStats {
        table_name: r.get(0)?,
        runs: r.get(1)?,
        completed,
        failed,
        avg_retries: r.get::<_, Option<f64>>(4)?.unwrap_or(0.0),
        avg_duration_seconds: r.get(5)?,
        avg_records: r.get(6)?,
        success_rate: (done > 0).then(|| completed as f64 * 100.0 / done as f64),
    })
}

/// Per-table figures over a period (the `stats` command).
#[derive(Debug, Clone, Serialize)]
pub struct TableStats {
    pub table_name: String,
    pub runs: i64,
    pub completed: i64,
    pub failed: i64,
    pub avg_retries: f64,
    pub avg_duration_seconds: Option<f64>,
    pub avg_records: Option<f64>,
    /// completed / (completed + failed), in percent.
    pub success_rate: Option<f64>,
}

/// A (connection, table) pair that failed in the period (the `stats` command's
/// "tables that fail most").
#[derive(Debug, Clone, Serialize)]
pub struct FailingTable {
    pub connection_name: String,
    pub table_name: String,
    /// Failed progress rows.
    pub failures: i64,
    /// Average `retry_count` of those rows.
    pub avg_retries: f64,
    /// `started_at` of the newest batch in which it failed (UTC ISO).
    pub last_failed_at: String,
    /// Its error message then.
    pub last_error: Option<String>,
}

/// Which rows `stats` looks at.
#[derive(Debug, Clone, Default)]
pub struct StatsFilter {
    /// Only batches started at or after this UTC ISO timestamp.
    pub since: Option<String>,
}

impl Journal {
    pub(super) fn query_vec<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let err = |e| super::sql_err_at(&self.path, e);
        let mut stmt = self.conn.prepare_cached(sql).map_err(err)?;
        let rows = stmt.query_map(params, map).map_err(err)?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(err)
    }

    /// One batch by id, given in our form or the seed's (the stored id is
    /// in `BatchRow::batch_id`).
    pub fn batch(&self, batch_id: &str) -> Result<Option<BatchRow>> {
        let ours = super::canonical_batch_id(batch_id).unwrap_or_else(|| batch_id.to_owned());
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches WHERE batch_id IN (?1, ?2) ORDER BY batch_id = ?1 DESC"
        );
        Ok(self
            .query_vec(&sql, params![batch_id, ours], batch_from_row)?
            .into_iter()
            .next())
    }

    /// The most recently started batch.
    pub fn latest_batch(&self) -> Result<Option<BatchRow>> {
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches ORDER BY started_at DESC, id DESC LIMIT 1"
        );
        Ok(self.query_vec(&sql, [], batch_from_row)?.into_iter().next())
    }

    /// The latest batch of the whole job set: the most recently started
    /// one that is not ad hoc (see [`super::AD_HOC_BATCH_SQL`]), or the most
    /// recent of all when every batch is.
    pub fn latest_whole_batch(&self) -> Result<Option<BatchRow>> {
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches
             ORDER BY {} ASC, started_at DESC, id DESC LIMIT 1",
            super::AD_HOC_BATCH_SQL
        );
        Ok(self.query_vec(&sql, [], batch_from_row)?.into_iter().next())
    }

    /// The `limit` newest batches, newest first.
    pub fn list_batches(&self, limit: usize) -> Result<Vec<BatchRow>> {
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches ORDER BY started_at DESC, id DESC LIMIT ?1"
        );
        self.query_vec(&sql, params![limit as i64], batch_from_row)
    }

    /// The `limit` newest batches started no later than `batch_id` (itself
    /// included), newest first.
    pub fn batches_up_to(&self, batch_id: &str, limit: usize) -> Result<Vec<BatchRow>> {
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches
             WHERE (started_at, id) <= (SELECT started_at, id FROM sync_batches WHERE batch_id = ?1)
             ORDER BY started_at DESC, id DESC LIMIT ?2"
        );
        self.query_vec(&sql, params![batch_id, limit as i64], batch_from_row)
    }

    /// Batches with the given status, oldest first.
    pub fn batches_with_status(&self, statuses: &[BatchStatus]) -> Result<Vec<BatchRow>> {
        let list: Vec<String> = statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches WHERE status IN ({}) ORDER BY started_at ASC, id ASC",
            list.join(",")
        );
        self.query_vec(&sql, [], batch_from_row)
    }

    /// The progress rows of a batch, in plan order (step, then creation).
    pub fn progress_rows(&self, batch_id: &str, failed_only: bool) -> Result<Vec<ProgressRow>> {
        let sql =
            format!(
            "SELECT {PROGRESS_COLS} FROM sync_progress WHERE batch_id = ?1 {} ORDER BY step, id",
            if failed_only { "AND status = 'failed'" } else { "" }
        );
        self.query_vec(&sql, params![batch_id], progress_from_row)
    }

    /// When the last `completed` batch ended (UTC ISO), if ever.
    pub fn last_completed_at(&self) -> Result<Option<String>> {
        Ok(self
            .query_vec(
                "SELECT max(completed_at) FROM sync_batches WHERE status = 'completed'",
                [],
                |r| r.get(0),
            )?
            .into_iter()
            .next()
            .flatten())
    }

    /// One progress row by its key.
    pub fn progress_row(
        &self,
        batch_id: &str,
        conn: &str,
        table: &str,
    ) -> Result<Option<ProgressRow>> {
        let sql = format!(
            "SELECT {PROGRESS_COLS} FROM sync_progress WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3"
        );
        Ok(self
            .query_vec(&sql, params![batch_id, conn, table], progress_from_row)?
            .into_iter()
            .next())
    }

    /// Per-table statistics (most failing first).
    pub fn table_stats(&self, filter: &StatsFilter) -> Result<Vec<TableStats>> {
        let since = filter.since.clone().unwrap_or_default();
        self.query_vec(
            "SELECT p.table_name,
                    count(*),
                    sum(p.status = 'completed'),
                    sum(p.status = 'failed'),
                    avg(p.retry_count),
                    avg(CASE WHEN p.status = 'completed' THEN p.duration_seconds END),
                    avg(CASE WHEN p.status = 'completed' THEN p.records_processed END)
             FROM sync_progress p JOIN sync_batches b ON b.batch_id = p.batch_id
             WHERE b.started_at >= ?1
             GROUP BY p.table_name
             ORDER BY sum(p.status = 'failed') DESC, p.table_name",
            params![since],
            table_stats_from_row,
        )
    }

    /// Per-table statistics over the `batches` most recently started batches
    /// (the charts' "success rate over the last N batches"), by table name.
    /// `upto`: only that batch and those started before it (a report on an
    /// old batch does not count the runs that came after it).
    pub fn table_stats_last_batches(
        &self,
        batches: usize,
        upto: Option<&str>,
    ) -> Result<Vec<TableStats>> {
        self.query_vec(
            "SELECT p.table_name,
                    count(*),
                    sum(p.status = 'completed'),
                    sum(p.status = 'failed'),
                    avg(p.retry_count),
                    avg(CASE WHEN p.status = 'completed' THEN p.duration_seconds END),
                    avg(CASE WHEN p.status = 'completed' THEN p.records_processed END)
             FROM sync_progress p
             WHERE p.batch_id IN (SELECT batch_id FROM sync_batches
                                  WHERE ?2 IS NULL
                                     OR (started_at, id) <= (SELECT started_at, id FROM sync_batches WHERE batch_id = ?2)
                                  ORDER BY started_at DESC, id DESC LIMIT ?1)
             GROUP BY p.table_name
             ORDER BY p.table_name",
            params![batches as i64, upto],
            table_stats_from_row,
        )
    }

    /// Batches started before `cutoff` (UTC ISO) that are not running, oldest first.
    pub fn prunable_batches(&self, cutoff: &str) -> Result<Vec<BatchRow>> {
        let sql = format!(
            "SELECT {BATCH_COLS} FROM sync_batches WHERE started_at < ?1 AND status <> 'running' ORDER BY started_at, id"
        );
        self.query_vec(&sql, params![cutoff], batch_from_row)
    }

    /// Delete the given batches and their progress rows, in one transaction.
    pub fn delete_batches(&mut self, batch_ids: &[String]) -> Result<usize> {
        self.write(|tx| {
            let mut del_p = tx.prepare("DELETE FROM sync_progress WHERE batch_id = ?1")?;
            let mut del_c = tx.prepare("DELETE FROM sync_chunks WHERE batch_id = ?1")?;
            let mut del_b =
                tx.prepare("DELETE FROM sync_batches WHERE batch_id = ?1 AND status <> 'running'")?;
            let mut n = 0;
            for id in batch_ids {
                del_p.execute(params![id])?;
                del_c.execute(params![id])?;
                n += del_b.execute(params![id])?;
            }
            Ok(n)
        })
    }

    /// How many batches the journal holds.
    pub fn batch_count(&self) -> Result<i64> {
        Ok(self
            .query_vec("SELECT count(*) FROM sync_batches", [], |r| r.get(0))?
            .into_iter()
            .next()
            .unwrap_or(0))
    }

    /// The (connection, table) pairs that failed most in the period, most
    /// failures first, at most `limit`.
    pub fn failing_tables(&self, filter: &StatsFilter, limit: usize) -> Result<Vec<FailingTable>> {
        let since = filter.since.clone().unwrap_or_default();
        // SQLite gives the bare columns of the row that holds max(): the
        // error of the newest failure.
        self.query_vec(
            "SELECT p.connection_name, p.table_name, count(*), avg(p.retry_count),
                    max(b.started_at), p.error_message
             FROM sync_progress p JOIN sync_batches b ON b.batch_id = p.batch_id
             WHERE p.status = 'failed' AND b.started_at >= ?1
             GROUP BY p.connection_name, p.table_name
             ORDER BY count(*) DESC, p.connection_name, p.table_name
             LIMIT ?2",
            params![since, limit as i64],
            |r| {
                Ok(FailingTable {
                    connection_name: r.get(0)?,
                    table_name: r.get(1)?,
                    failures: r.get(2)?,
                    avg_retries: r.get::<_, Option<f64>>(3)?.unwrap_or(0.0),
                    last_failed_at: r.get(4)?,
                    last_error: r.get(5)?,
                })
            },
        )
    }

    /// Insert whole batches with their progress rows exactly as given
    /// (statuses, counters, timestamps), all in one transaction; returns how
    /// many batches were inserted.
    ///
    /// This is not how runs are journaled — the engine goes through the state
    /// changes in `writes.rs`, one committed transaction each. It exists for
    /// benchmarks and tests that need history as it would be after months of
    /// runs (10,000 batches, batches started 31 days ago) without living
    /// through it. Batches are consumed one at a time, so the caller can
    /// generate a large history lazily.
    pub fn import_batches<I>(&mut self, batches: I) -> Result<usize>
    where
        I: IntoIterator<Item = (BatchRow, Vec<ProgressRow>)>,
    {
        self.write(|tx| {
            let mut n = 0;
            let mut add_batch = tx.prepare(&format!(
                "INSERT INTO sync_batches ({BATCH_COLS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?;
            let mut add_row = tx.prepare(&format!(
                "INSERT INTO sync_progress ({PROGRESS_COLS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
            ))?;
            for (b, rows) in batches {
                add_batch.execute(params![
                    b.batch_id,
                    b.status.as_str(),
                    b.total_tables,
                    b.completed_tables,
                    b.failed_tables,
                    b.command_options,
                    b.started_at,
                    b.completed_at,
                    b.duration_seconds,
                    b.pid,
                    b.host,
                    b.boot_id,
                    b.heartbeat_at
                ])?;
                for p in &rows {
                    add_row.execute(params![
                        p.batch_id,
                        p.connection_name,
                        p.table_name,
                        p.model_name,
                        p.status.as_str(),
                        p.records_processed,
                        p.records_skipped,
                        p.error_message,
                        p.started_at,
                        p.completed_at,
                        p.duration_seconds,
                        p.retry_count,
                        p.step,
                        p.rows_written,
                        p.rows_deleted,
                        p.bytes_read,
                        p.bytes_written
                    ])?;
                }
                n += 1;
            }
            Ok(n)
        })
    }
}
