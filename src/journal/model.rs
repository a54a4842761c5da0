//! The journal's rows as typed values: what `sync_batches` and `sync_progress`
//! hold, shared by the engine (which writes them) and the reports (which read them).

use serde::Serialize;
use std::fmt;

/// Status of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchStatus {
    Running,
    Completed,
    Failed,
    Interrupted,
}

/// Status of one (connection, table) pair of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgressStatus {
    Pending,
    InProgress,
    Completed,
    Failed,
    Skipped,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Running => "running",
            BatchStatus::Completed => "completed",
            BatchStatus::Failed => "failed",
            BatchStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => BatchStatus::Running,
            "completed" => BatchStatus::Completed,
            "failed" => BatchStatus::Failed,
            "interrupted" => BatchStatus::Interrupted,
            _ => return None,
        })
    }
}

impl ProgressStatus {
    /// Finished for good (a resume skips it): `completed` or `skipped`.
    pub fn is_done(self) -> bool {
        matches!(self, ProgressStatus::Completed | ProgressStatus::Skipped)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProgressStatus::Pending => "pending",
            ProgressStatus::InProgress => "in_progress",
            ProgressStatus::Completed => "completed",
            ProgressStatus::Failed => "failed",
            ProgressStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => ProgressStatus::Pending,
            "in_progress" => ProgressStatus::InProgress,
            "completed" => ProgressStatus::Completed,
            "failed" => ProgressStatus::Failed,
            "skipped" => ProgressStatus::Skipped,
            _ => return None,
        })
    }
}

impl fmt::Display for BatchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ProgressStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `sync_batches`. Field names are the column names (the JSON
/// output and the CSV export use them as they are).
#[derive(Debug, Clone, Serialize)]
pub struct BatchRow {
    pub batch_id: String,
    pub status: BatchStatus,
    pub total_tables: i64,
    pub completed_tables: i64,
    pub failed_tables: i64,
    /// Stored as JSON text; shown as the JSON object it is.
    #[serde(serialize_with = "json_text")]
    pub command_options: String,
    /// UTC ISO-8601.
    pub started_at: String,
    pub completed_at: Option<String>,
    pub duration_seconds: Option<f64>,
    pub pid: Option<i64>,
    pub host: Option<String>,
    pub boot_id: Option<String>,
    pub heartbeat_at: Option<String>,
}

/// One row of `sync_progress`.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressRow {
    pub batch_id: String,
    pub connection_name: String,
    pub table_name: String,
    pub model_name: String,
    pub status: ProgressStatus,
    pub records_processed: i64,
    pub records_skipped: i64,
    pub error_message: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub duration_seconds: Option<f64>,
    pub retry_count: i64,
    pub step: i64,
    /// Rows inserted or updated in the target; `None` before it finished
    /// (and for rows journaled before schema version 6).
    pub rows_written: Option<i64>,
    /// Rows deleted from the connection's slice (`mirror`).
    pub rows_deleted: Option<i64>,
    /// Bytes read from the branch over its link, where branchsync sees them
    /// (`mirror` by range checksums: received over both links).
    pub bytes_read: Option<i64>,
    /// Bytes written to the central over its link, where branchsync sees them
    /// (`mirror` by range checksums: sent over both links).
    pub bytes_written: Option<i64>,
}

impl ProgressRow {
    /// A step-2 row of `table` (also its model name) with nothing counted,
    /// started or ended yet: what a view or an import starts from.
    pub fn new(batch_id: &str, connection: &str, table: &str, status: ProgressStatus) -> Self {
        ProgressRow {
            batch_id: batch_id.into(),
            connection_name: connection.into(),
            table_name: table.into(),
            model_name: table.into(),
            status,
            records_processed: 0,
            records_skipped: 0,
            error_message: None,
            started_at: None,
            completed_at: None,
            duration_seconds: None,
            retry_count: 0,
            step: 2,
            rows_written: None,
            rows_deleted: None,
            bytes_read: None,
            bytes_written: None,
        }
    }
}

/// A progress row to create when a batch starts.
#[derive(Debug, Clone)]
pub struct NewProgress {
    pub connection_name: String,
    pub table_name: String,
    pub model_name: String,
    pub step: i64,
}

/// The column names of `sync_progress`, in order (CSV header).
pub const PROGRESS_COLUMNS: &[&str] = &[
    "batch_id",
    "connection_name",
    "table_name",
    "model_name",
    "status",
    "records_processed",
    "records_skipped",
    "error_message",
    "started_at",
    "completed_at",
    "duration_seconds",
    "retry_count",
    "step",
    "rows_written",
    "rows_deleted",
    "bytes_read",
    "bytes_written",
];

/// Serialize a column that holds JSON text as that JSON value (a script
/// reads `batch.command_options.threads`, not a string to parse again);
/// text that is not JSON stays a string.
pub fn json_text<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => serde::Serialize::serialize(&v, s),
        Err(_) => s.serialize_str(text),
    }
}

/// SQL, true for a batch of `command_options` that ran part of the job set
/// by hand: a `sync-table`, or a `sync-all` with `--tables` or
/// `--connection`. "Latest" for the metrics, `export --latest` and the fleet
/// view skips these while a whole batch exists, so that one table synced by
/// hand does not hide the night's figures of every other table. The
/// options are stored as compact JSON by `serde_json`; plain `LIKE` keeps
/// the test the same on SQLite and PostgreSQL and safe on any text.
pub const AD_HOC_BATCH_SQL: &str = "(command_options LIKE '%\"command\":\"sync-table\"%' \
     OR command_options LIKE '%\"tables\":[\"%' \
     OR command_options LIKE '%\"connections\":[\"%')";
