//! Reading the journal's rows back out of the mirror tables: the column
//! lists that print timestamps the way the journal writes them, and the
//! conversions from a result row to a [`BatchRow`] or [`ProgressRow`].

use crate::journal::{BatchRow, BatchStatus, ProgressRow, ProgressStatus};
use postgres::Row;

/// A `timestamptz` column as the journal writes it.
pub(super) fn iso(col: &str) -> String {
    format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

pub(super) fn batch_cols() -> String {
    format!(
        "batch_id, status, total_tables, completed_tables, failed_tables, command_options, {}, {}, duration_seconds",
        iso("started_at"),
        iso("completed_at")
    )
}

pub(super) fn progress_cols() -> String {
    format!(
        "batch_id, connection_name, table_name, model_name, status, records_processed, records_skipped, \
         error_message, {}, {}, duration_seconds, retry_count, step, \
         rows_written, rows_deleted, bytes_read, bytes_written",
        iso("started_at"),
        iso("completed_at")
    )
}

pub(super) fn batch_from(r: &Row) -> BatchRow {
    let status: String = r.get(1);
    BatchRow {
        batch_id: r.get(0),
        status: BatchStatus::parse(&status).unwrap_or(BatchStatus::Interrupted),
        total_tables: r.get(2),
        completed_tables: r.get(3),
        failed_tables: r.get(4),
        command_options: r.get(5),
        started_at: r.get(6),
        completed_at: r.get(7),
        duration_seconds: r.get(8),
        pid: None,
        host: None,
        boot_id: None,
        heartbeat_at: None,
    }
}

pub(super) fn progress_from(r: &Row) -> ProgressRow {
    let status: String = r.get(4);
    ProgressRow {
        batch_id: r.get(0),
        connection_name: r.get(1),
        table_name: r.get(2),
        model_name: r.get(3),
        status: ProgressStatus::parse(&status).unwrap_or(ProgressStatus::Pending),
        records_processed: r.get(5),
        records_skipped: r.get(6),
        error_message: r.get(7),
        started_at: r.get(8),
        completed_at: r.get(9),
        duration_seconds: r.get(10),
        retry_count: r.get(11),
        step: r.get(12),
        rows_written: r.get(13),
        rows_deleted: r.get(14),
        bytes_read: r.get(15),
        bytes_written: r.get(16),
    }
}
