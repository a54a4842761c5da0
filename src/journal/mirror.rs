//! The mirror outbox (migration 3): the journal's side of mirroring it into
//! the central database. Triggers queue the key of every changed batch or
//! progress row; the mirror writer reads the queued keys with the rows as
//! they are now ([`Journal::mirror_pending`]), writes them to the central,
//! and then drops what it sent ([`Journal::mirror_sent`]). Nothing here
//! knows the central: the rows go out as journal values.

use super::model::{BatchRow, ProgressRow};
use super::{Journal, Result};
use rusqlite::params;
use serde::Serialize;

/// One queued change: the key and the row as it is now (`None`: deleted).
#[derive(Debug, Clone)]
pub enum MirrorChange {
    Batch {
        batch_id: String,
        row: Option<BatchRow>,
    },
    Progress {
        batch_id: String,
        connection_name: String,
        table_name: String,
        row: Option<ProgressRow>,
    },
}

/// Changes to send, in the order they were made, and the outbox position
/// they reach (pass it to [`Journal::mirror_sent`] once they are written).
#[derive(Debug, Clone, Default)]
pub struct MirrorChanges {
    pub upto: i64,
    pub changes: Vec<MirrorChange>,
}

impl Journal {
    /// Up to `limit` queued changes, oldest first, each with its row as it is now.
    pub fn mirror_pending(&self, limit: usize) -> Result<MirrorChanges> {
        let keys: Vec<(i64, String, String, String)> = self.query_vec(
            "SELECT seq, batch_id, connection_name, table_name FROM mirror_outbox ORDER BY seq LIMIT ?1",
            params![limit as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        let mut out = MirrorChanges::default();
        for (seq, batch_id, conn, table) in keys {
            out.upto = seq;
            if conn.is_empty() && table.is_empty() {
                let row = self.batch(&batch_id)?;
                out.changes.push(MirrorChange::Batch { batch_id, row });
            } else {
                let row = self.progress_row(&batch_id, &conn, &table)?;
                out.changes.push(MirrorChange::Progress {
                    batch_id,
                    connection_name: conn,
                    table_name: table,
                    row,
                });
            }
        }
        Ok(out)
    }

    /// The changes up to `upto` are in the central: drop them from the
    /// outbox. A key changed again since has a newer position and stays.
    pub fn mirror_sent(&mut self, upto: i64) -> Result<usize> {
        self.write(|tx| tx.execute("DELETE FROM mirror_outbox WHERE seq <= ?1", params![upto]))
    }

    /// How many changes wait for the central.
    pub fn mirror_backlog(&self) -> Result<i64> {
        Ok(self
            .query_vec("SELECT count(*) FROM mirror_outbox", [], |r| r.get(0))?
            .into_iter()
            .next()
            .unwrap_or(0))
    }
}

/// One runner as the mirror shows it (`sync-status --fleet`).
#[derive(Debug, Clone, Serialize)]
pub struct FleetRunner {
    pub runner: String,
    /// Its latest batch (liveness fields are not mirrored: `None`).
    pub batch: BatchRow,
    /// When its last `completed` batch ended (UTC ISO), if ever.
    pub last_completed_at: Option<String>,
    /// The latest batch's failed tables.
    pub failed: Vec<ProgressRow>,
}
