//! What the user sees of the journal: the `sync-status` views, JSON, CSV, the
//! stats and prune summaries, and the number, duration, time and colour
//! conventions they share. Every function here turns rows into text, so the
//! commands in `cli/` stay thin and the views are testable without a terminal.

pub mod charts;
pub mod colour;
pub mod csv;
pub mod fit;
pub mod fleet;
pub mod format;
pub mod html;
pub mod json;
pub mod page;
pub mod prune;
pub mod stats;
pub mod status;
pub mod xlsx;

pub use colour::{Paint, Tint};

#[cfg(test)]
pub(crate) mod test_rows {
    //! Journal rows for the views' unit tests.
    use crate::journal::{BatchRow, BatchStatus, ProgressRow, ProgressStatus};

    pub fn batch(id: &str, status: BatchStatus) -> BatchRow {
        let ended = status != BatchStatus::Running;
        BatchRow {
            batch_id: id.into(),
            status,
            total_tables: 0,
            completed_tables: 0,
            failed_tables: 0,
            command_options: "{}".into(),
            started_at: "2026-11-26T08:45:22.000Z".into(),
            completed_at: ended.then(|| "2026-11-26T09:47:27.000Z".into()),
            duration_seconds: ended.then_some(3725.0),
            pid: Some(42),
            host: Some("backup01".into()),
            boot_id: None,
            heartbeat_at: None,
        }
    }

    pub fn row(connection: &str, table: &str, status: ProgressStatus) -> ProgressRow {
        ProgressRow::new("sync_20261126084522_AbCd1234", connection, table, status)
    }
}
