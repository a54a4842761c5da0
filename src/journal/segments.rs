//! Run segments and abandoned batches (schema version 3).
//!
//! A batch that is interrupted and resumed ran in several segments; its
//! duration is their sum, so the idle gap before a resume does not count, and
//! the screens can say when it was interrupted and resumed. A batch can also be
//! given up: it keeps its status, and cron stops resuming it.

use super::{now_utc, Journal, JournalError, Result};
use rusqlite::{params, Transaction};
use serde::Serialize;

/// One stretch of work on a batch: its first run or one resume.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub started_at: String,
    /// `None` while it runs.
    pub ended_at: Option<String>,
    /// How the batch stood when the segment ended (`interrupted`, `failed`, `completed`).
    pub end_status: Option<String>,
}

/// Why and when a batch was given up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Abandoned {
    pub abandoned_at: String,
    pub reason: String,
}

impl Segment {
    /// Its length in seconds (to `now` while it runs).
    pub fn seconds(&self) -> f64 {
        let end = self.ended_at.clone().unwrap_or_else(now_utc);
        super::writes::seconds_between(&self.started_at, &end).unwrap_or(0.0)
    }
}

/// A new segment of `batch_id` starts at `at` (a still open one is closed first).
pub(super) fn open_segment(tx: &Transaction, batch_id: &str, at: &str) -> rusqlite::Result<()> {
    close_segment(tx, batch_id, at, "interrupted")?;
    tx.execute(
        "INSERT INTO sync_segments (batch_id, started_at) VALUES (?1, ?2)",
        params![batch_id, at],
    )?;
    Ok(())
}

/// Close the open segment of `batch_id` at `at`. Returns the batch's working
/// time (the sum of its segments), or `None` when it has no segments (a batch
/// from before schema version 3).
pub(super) fn close_segment(
    tx: &Transaction,
    batch_id: &str,
    at: &str,
    status: &str,
) -> rusqlite::Result<Option<f64>> {
    tx.execute(
        "UPDATE sync_segments SET ended_at = max(?2, started_at), end_status = ?3
         WHERE batch_id = ?1 AND ended_at IS NULL",
        params![batch_id, at, status],
    )?;
    let mut stmt = tx.prepare_cached(
        "SELECT started_at, ended_at FROM sync_segments WHERE batch_id = ?1 ORDER BY id",
    )?;
    let spans = stmt
        .query_map(params![batch_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if spans.is_empty() {
        return Ok(None);
    }
    Ok(Some(
        spans
            .iter()
            .filter_map(|(a, b)| super::writes::seconds_between(a, b.as_deref()?))
            .sum(),
    ))
}

impl Journal {
    /// The segments of a batch, oldest first (empty for batches recorded
    /// before schema version 3).
    pub fn segments(&self, batch_id: &str) -> Result<Vec<Segment>> {
        self.query_vec(
            "SELECT started_at, ended_at, end_status FROM sync_segments WHERE batch_id = ?1 ORDER BY id",
            params![batch_id],
            |r| {
                Ok(Segment {
                    started_at: r.get(0)?,
                    ended_at: r.get(1)?,
                    end_status: r.get(2)?,
                })
            },
        )
    }

    /// Whether (and why) the batch was given up.
    pub fn abandoned(&self, batch_id: &str) -> Result<Option<Abandoned>> {
        Ok(self
            .query_vec(
                "SELECT abandoned_at, reason FROM sync_abandoned WHERE batch_id = ?1",
                params![batch_id],
                |r| {
                    Ok(Abandoned {
                        abandoned_at: r.get(0)?,
                        reason: r.get(1)?,
                    })
                },
            )?
            .into_iter()
            .next())
    }

    /// Give up a batch that is not running: it keeps its status, cron no longer
    /// resumes it. Giving up a completed batch is refused; a second time keeps
    /// the first record.
    pub fn abandon_batch(&mut self, batch_id: &str, reason: &str) -> Result<()> {
        let Some(batch) = self.batch(batch_id)? else {
            return Err(JournalError::UnknownBatch(batch_id.to_owned()));
        };
        use super::BatchStatus::*;
        if matches!(batch.status, Running | Completed) {
            return Err(JournalError::NotAbandonable {
                batch_id: batch.batch_id,
                status: batch.status,
            });
        }
        let now = now_utc();
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO sync_abandoned (batch_id, abandoned_at, reason) VALUES (?1, ?2, ?3)",
                params![batch.batch_id, now, reason],
            )
        })?;
        Ok(())
    }

    /// The failed or interrupted batches started before `cutoff` (UTC ISO)
    /// that were not given up yet, oldest first (never a running one).
    pub fn abandonable_before(&self, cutoff: &str) -> Result<Vec<super::BatchRow>> {
        let mut out = Vec::new();
        let unfinished = [super::BatchStatus::Failed, super::BatchStatus::Interrupted];
        for b in self.batches_with_status(&unfinished)? {
            if b.started_at.as_str() < cutoff && self.abandoned(&b.batch_id)?.is_none() {
                out.push(b);
            }
        }
        Ok(out)
    }

    /// The newest completed progress row of (connection, table) in a batch
    /// started after `after_started_at`, as (batch id) — a newer run that has
    /// already copied that table.
    pub fn completed_later(
        &self,
        after_started_at: &str,
        connection: &str,
        table: &str,
    ) -> Result<Option<String>> {
        Ok(self
            .query_vec(
                "SELECT p.batch_id FROM sync_progress p JOIN sync_batches b USING (batch_id)
                 WHERE b.started_at > ?1 AND p.connection_name = ?2 AND p.table_name = ?3
                   AND p.status = 'completed'
                 ORDER BY b.started_at DESC LIMIT 1",
                params![after_started_at, connection, table],
                |r| r.get(0),
            )?
            .into_iter()
            .next())
    }
}
