//! What became of the notifications sent when a batch ended (`sync_notifications`,
//! schema version 2): one row per `[[notify]]` entry and batch end, so that an
//! alert that never arrived shows in the journal, not only in a log.

use super::{now_utc, Journal, Result};
use rusqlite::params;
use serde::Serialize;

/// Whether a notification got through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationStatus {
    Sent,
    Failed,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Sent => "sent",
            NotificationStatus::Failed => "failed",
        }
    }
}

/// The outcome of one notification, to record.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub batch_id: String,
    /// The `[[notify]]` entry, as errors name it (`[[notify]] #2 "ops-slack"`).
    pub notifier: String,
    /// `webhook`, `slack`, `discord` or `email`.
    pub kind: String,
    /// The batch status announced.
    pub event: String,
    pub status: NotificationStatus,
    pub attempts: u32,
    /// Why it failed (never a secret: no URL, no password).
    pub error_message: Option<String>,
}

/// One row of `sync_notifications`.
#[derive(Debug, Clone, Serialize)]
pub struct NotificationRow {
    pub batch_id: String,
    pub notifier: String,
    pub kind: String,
    pub event: String,
    pub status: NotificationStatus,
    pub attempts: i64,
    pub error_message: Option<String>,
    /// UTC ISO-8601.
    pub sent_at: String,
}

impl Journal {
    /// Record a notification's outcome (its own committed transaction).
    pub fn record_notification(&mut self, n: &NewNotification) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_notifications
                     (batch_id, notifier, kind, event, status, attempts, error_message, sent_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    n.batch_id,
                    n.notifier,
                    n.kind,
                    n.event,
                    n.status.as_str(),
                    n.attempts,
                    n.error_message,
                    now_utc()
                ],
            )
            .map(|_| ())
        })
    }

    /// The notifications of a batch, oldest first.
    pub fn notifications(&self, batch_id: &str) -> Result<Vec<NotificationRow>> {
        self.query_vec(
            "SELECT batch_id, notifier, kind, event, status, attempts, error_message, sent_at
             FROM sync_notifications WHERE batch_id = ?1 ORDER BY id",
            params![batch_id],
            |r| {
                let status: String = r.get(4)?;
                Ok(NotificationRow {
                    batch_id: r.get(0)?,
                    notifier: r.get(1)?,
                    kind: r.get(2)?,
                    event: r.get(3)?,
                    status: if status == "sent" {
                        NotificationStatus::Sent
                    } else {
                        NotificationStatus::Failed
                    },
                    attempts: r.get(5)?,
                    error_message: r.get(6)?,
                    sent_at: r.get(7)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{BatchStatus, NewProgress, SCHEMA_VERSION};

    fn progress() -> Vec<NewProgress> {
        vec![NewProgress {
            connection_name: "pgsql_lmp".into(),
            table_name: "m_product".into(),
            model_name: "MProduct".into(),
            step: 2,
        }]
    }

    #[test]
    fn records_and_reads_back_and_prune_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let id = "sync_20261126084522_AbCd1234";
        j.create_batch(id, "{}", &progress()).unwrap();
        j.record_notification(&NewNotification {
            batch_id: id.into(),
            notifier: "[[notify]] #1 \"ops\"".into(),
            kind: "webhook".into(),
            event: "failed".into(),
            status: NotificationStatus::Failed,
            attempts: 3,
            error_message: Some("HTTP 500".into()),
        })
        .unwrap();
        let rows = j.notifications(id).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, NotificationStatus::Failed);
        assert_eq!(rows[0].attempts, 3);
        assert_eq!(rows[0].error_message.as_deref(), Some("HTTP 500"));
        j.finish_batch(id, BatchStatus::Failed).unwrap();
        assert_eq!(j.delete_batches(&[id.to_owned()]).unwrap(), 1);
        assert!(j.notifications(id).unwrap().is_empty());
    }

    #[test]
    fn a_version_1_journal_is_migrated_forward_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(crate::journal::SCHEMA_SQL).unwrap();
            conn.execute_batch(
                "PRAGMA user_version = 1; PRAGMA application_id = 1112758606;
                 INSERT INTO sync_batches (batch_id, status, started_at)
                 VALUES ('sync_20261120100000_OLDer001', 'completed', '2026-11-20T03:00:00.000Z');",
            )
            .unwrap();
        }
        let j = Journal::open(&path).unwrap();
        let version: i64 = j
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert!(j.batch("sync_20261120100000_OLDer001").unwrap().is_some());
        assert!(j
            .notifications("sync_20261120100000_OLDer001")
            .unwrap()
            .is_empty());
    }
}
