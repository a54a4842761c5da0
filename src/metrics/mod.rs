//! Prometheus metrics: the latest batch in the text exposition
//! format, for node_exporter's textfile collector (`[metrics] textfile`,
//! rewritten after every batch) and for `serve`'s `/metrics`. Both render
//! the same text from the journal, so a scrape and the file never disagree.
//! Bytes per table are exported where the journal has them
//! (schema 6: COPY data through the engine and sent to a PostgreSQL
//! central; see the README's "Counts"); a table without a figure has no
//! sample rather than a made-up zero.
//!
//! The file is written to a temporary name beside it and renamed over it:
//! the collector reads either the old file or the new one, never half.

use crate::config::Config;
use crate::journal::ProgressStatus;
use crate::journal::{parse_ts, BatchRow, BatchStatus, Journal, JournalError, ProgressRow};
use std::fmt::Write;
use std::path::Path;

const STATUSES: [BatchStatus; 4] = [
    BatchStatus::Running,
    BatchStatus::Completed,
    BatchStatus::Failed,
    BatchStatus::Interrupted,
];

/// The metrics text for the latest batch of the whole job set in
/// `journal` (or `batch_id`): a table synced by hand does not replace the
/// night's gauges of every other table.
pub fn render_journal(journal: &Journal, batch_id: Option<&str>) -> Result<String, JournalError> {
    let batch = match batch_id {
        Some(id) => journal.batch(id)?,
        None => journal.latest_whole_batch()?,
    };
    let rows = match &batch {
        Some(b) => journal.progress_rows(&b.batch_id, false)?,
        None => Vec::new(),
    };
    let last_success = journal.last_completed_at()?;
    Ok(render(batch.as_ref(), &rows, last_success.as_deref()))
}

/// The exposition text: one HELP and TYPE per family, label values escaped.
pub fn render(
    batch: Option<&BatchRow>,
    rows: &[ProgressRow],
    last_success: Option<&str>,
) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, samples: &[(String, f64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {}", number(*value));
        }
    };
    let epoch = |s: Option<&str>| {
        s.and_then(parse_ts)
            .map(|t| t.timestamp_millis() as f64 / 1000.0)
    };
    if let Some(b) = batch {
        let status: Vec<_> = STATUSES
            .iter()
            .map(|s| {
                (
                    labels(&[("status", s.as_str())]),
                    f64::from(u8::from(*s == b.status)),
                )
            })
            .collect();
        family(
            "branchsync_last_batch_status",
            "Status of the latest batch (1 for the status it has).",
            &status,
        );
        family(
            "branchsync_last_batch_start_timestamp_seconds",
            "When the latest batch started (Unix time).",
            &[(String::new(), epoch(Some(&b.started_at)).unwrap_or(0.0))],
        );
        if let Some(d) = b.duration_seconds {
            family(
                "branchsync_last_batch_duration_seconds",
                "How long the latest batch ran.",
                &[(String::new(), d)],
            );
        }
        family(
            "branchsync_last_batch_tables",
            "Tables of the latest batch, by state.",
            &[
                (labels(&[("state", "total")]), b.total_tables as f64),
                (labels(&[("state", "completed")]), b.completed_tables as f64),
                (labels(&[("state", "failed")]), b.failed_tables as f64),
            ],
        );
    }
    if let Some(t) = epoch(last_success) {
        family(
            "branchsync_last_success_timestamp_seconds",
            "When the last completed batch ended (Unix time).",
            &[(String::new(), t)],
        );
    }
    let per_table = |f: &dyn Fn(&ProgressRow) -> Option<f64>| -> Vec<(String, f64)> {
        rows.iter()
            .filter_map(|r| {
                f(r).map(|v| {
                    (
                        labels(&[("connection", &r.connection_name), ("table", &r.table_name)]),
                        v,
                    )
                })
            })
            .collect()
    };
    if !rows.is_empty() {
        family(
            "branchsync_table_rows",
            "Rows processed per (connection, table) in the latest batch.",
            &per_table(&|r| Some(r.records_processed as f64)),
        );
        family(
            "branchsync_table_rows_skipped",
            "Rows left as they were (identical at the target) per (connection, table) in the latest batch.",
            &per_table(&|r| Some(r.records_skipped as f64)),
        );
        family(
            "branchsync_table_rows_written",
            "Rows inserted or updated at the target per (connection, table) in the latest batch.",
            &per_table(&|r| r.rows_written.map(|v| v as f64)),
        );
        family(
            "branchsync_table_rows_deleted",
            "Rows deleted at the target per (connection, table) in the latest batch (mode mirror).",
            &per_table(&|r| r.rows_deleted.map(|v| v as f64)),
        );
        family(
            "branchsync_table_bytes_read",
            "Bytes read per (connection, table) in the latest batch, where counted: COPY data from the branch, or for mode mirror what both servers answered.",
            &per_table(&|r| r.bytes_read.map(|v| v as f64)),
        );
        family(
            "branchsync_table_bytes_written",
            "Bytes sent per (connection, table) in the latest batch, where counted: COPY data to the central, or for mode mirror what was sent to both servers.",
            &per_table(&|r| r.bytes_written.map(|v| v as f64)),
        );
        family(
            "branchsync_table_duration_seconds",
            "Copy time per (connection, table) in the latest batch.",
            &per_table(&|r| r.duration_seconds),
        );
        family(
            "branchsync_table_failed",
            "1 for each (connection, table) that failed in the latest batch.",
            &per_table(&|r| (r.status == ProgressStatus::Failed).then_some(1.0)),
        );
    }
    out
}

/// `{a="x",b="y"}` with the values escaped as the format wants.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Write `text` to `path` atomically: a temporary file beside it, then rename.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// After a batch: rewrite `[metrics] textfile` when configured. A failure
/// is logged; it never changes the batch's outcome.
pub fn write_after_batch(config: &Config, journal: &Journal) {
    let Some(path) = &config.metrics.textfile else {
        return;
    };
    // The latest whole batch: the one that just ended, unless it ran by hand.
    let result = render_journal(journal, None)
        .map_err(|e| e.to_string())
        .and_then(|text| write_atomically(path, &text).map_err(|e| e.to_string()));
    if let Err(e) = result {
        log::warn!(
            "cannot write the metrics file {} ([metrics] textfile): {e}",
            path.display()
        );
    }
}
