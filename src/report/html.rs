//! The HTML batch report (`export --format html`) and the building blocks the
//! dashboard (`serve`) shares with it: one self-contained page — inline CSS,
//! inline SVG charts, a few lines of inline script to sort the table — that
//! needs no network, opens from a file, and prints cleanly (print to PDF from
//! the browser is the PDF export).

use super::charts;
/// Shared with the charts and the dashboard; it lives in `format`.
pub use super::format::escape;
use super::format::{
    bytes, cause_for, count_of, cut, error_for, error_shortened, hms, local_time, maybe_thousands,
    percent, thousands, NOT_AVAILABLE, RUNNING,
};
/// The frame of every page; it lives in `page`.
pub use super::page::{document, Frame};

/// A page of the dashboard: its style and script are served, not inline.
pub fn served_document(title: &str, body: &str, refresh: Option<u32>) -> String {
    document(title, body, refresh, Frame::Served)
}
use super::status::{batch_duration, duration_cell, records_cell};
use crate::engine::live::{self, LiveFigures};
use crate::journal::{
    parse_ts, Abandoned, BatchRow, BatchStatus, Journal, JournalError, NotificationRow,
    ProgressRow, ProgressStatus, TableStats,
};
use std::fmt::Write;

/// Batches the history charts look back over.
pub const HISTORY_BATCHES: usize = 30;
/// Errors longer than this are folded (the whole text is one click away).
const ERROR_SHOWN: usize = 120;

/// A status as a coloured badge.
pub fn badge(status: &str) -> String {
    format!("<span class=\"status s-{0}\">{0}</span>", escape(status))
}

/// Everything the report shows about one batch.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub batch: BatchRow,
    pub rows: Vec<ProgressRow>,
    /// Recent batches, newest first (the history chart).
    pub history: Vec<BatchRow>,
    /// Per-table figures over the recent batches (the success-rate chart).
    pub success: Vec<TableStats>,
    pub notifications: Vec<NotificationRow>,
    /// Rows so far of the tables being copied (a running batch).
    pub live: LiveFigures,
    /// When and why the batch was given up (`sync-status --abandon`).
    pub abandoned: Option<Abandoned>,
}

impl ReportData {
    /// Read `batch` and its context from the journal.
    pub fn load(journal: &Journal, batch: BatchRow) -> Result<ReportData, JournalError> {
        Ok(ReportData {
            rows: journal.progress_rows(&batch.batch_id, false)?,
            // The batches up to this one: a report on an old batch does not
            // show runs that came after it.
            history: journal.batches_up_to(&batch.batch_id, HISTORY_BATCHES)?,
            success: journal.table_stats_last_batches(HISTORY_BATCHES, Some(&batch.batch_id))?,
            notifications: journal.notifications(&batch.batch_id)?,
            abandoned: journal.abandoned(&batch.batch_id)?,
            live: if batch.status == BatchStatus::Running {
                live::read(
                    journal.path().parent().unwrap_or(std::path::Path::new(".")),
                    &batch.batch_id,
                )
            } else {
                LiveFigures::default()
            },
            batch,
        })
    }
}

/// The report of one batch as a standalone page (`nav` adds the dashboard's
/// link back to the batch list).
pub fn report_page(data: &ReportData, frame: Frame, refresh: Option<u32>) -> String {
    // A served page belongs to the dashboard: it links back to the list.
    let nav = frame == Frame::Served;
    let b = &data.batch;
    let mut body = String::new();
    if nav {
        body.push_str("<nav class=\"no-print\"><a href=\"/\">← All batches</a></nav>\n");
    }
    let _ = writeln!(
        body,
        "<h1>Sync Batch Details: <code>{}</code></h1>",
        escape(&b.batch_id)
    );
    body.push_str(&summary_section(b, &data.rows));
    if let Some(a) = &data.abandoned {
        let _ = writeln!(
            body,
            "<p class=\"meta\" id=\"abandoned\">Abandoned at {} ({}): cron no longer resumes it.</p>",
            escape(&local_time(&a.abandoned_at)),
            escape(&a.reason)
        );
    }
    body.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    body.push_str(&charts::duration_per_table(&data.rows));
    body.push_str(&charts::records_per_table(&data.rows));
    // The success rates cover the same batches as the history.
    body.push_str(&charts::success_rate_per_table(
        &data.success,
        data.history.len(),
    ));
    body.push_str(&charts::batch_duration_history(&data.history));
    body.push_str("</div>\n");
    let _ = writeln!(body, "<h2>Table Progress ({})</h2>", data.rows.len());
    body.push_str(&progress_table(&data.rows, &data.live));
    if !data.notifications.is_empty() {
        body.push_str(&notifications_section(&data.notifications));
    }
    if matches!(b.status, BatchStatus::Interrupted | BatchStatus::Failed)
        && data.abandoned.is_none()
    {
        let _ = writeln!(
            body,
            "<p class=\"meta\">Resume with <code>{}</code></p>",
            escape(&crate::hint::cmd(&format!(
                "sync-all --resume={}",
                b.batch_id
            )))
        );
    }
    document(&format!("Batch {}", b.batch_id), &body, refresh, frame)
}

/// The summary of a batch (`<dl id="summary">` and its progress bar).
pub fn summary_section(b: &BatchRow, rows: &[ProgressRow]) -> String {
    let records: i64 = rows.iter().map(|r| r.records_processed).sum();
    let skipped: i64 = rows.iter().map(|r| r.records_skipped).sum();
    let mut s = String::from("<h2>Batch Summary</h2>\n<dl class=\"summary\" id=\"summary\">\n");
    let mut item = |k: &str, v: String| {
        let _ = writeln!(s, "<dt>{}</dt><dd>{v}</dd>", escape(k));
    };
    item("Status", badge(b.status.as_str()));
    item("Started", escape(&local_time(&b.started_at)));
    item(
        "Progress",
        format!(
            "{}/{} tables ({})",
            b.completed_tables,
            b.total_tables,
            percent(b.completed_tables, b.total_tables)
        ),
    );
    item(
        "Ended",
        escape(
            &b.completed_at
                .as_deref()
                .map_or_else(|| NOT_AVAILABLE.to_owned(), local_time),
        ),
    );
    item("Failed", count_of(b.failed_tables, "table"));
    item("Duration", escape(&batch_duration(b)));
    item(
        "Records",
        format!("{} ({} skipped)", thousands(records), thousands(skipped)),
    );
    item(
        "Host",
        escape(&format!(
            "{}{}",
            b.host.as_deref().unwrap_or("?"),
            b.pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
        )),
    );
    s.push_str("</dl>\n");
    let total = b.total_tables.max(1) as f64;
    s.push_str(&super::page::bar(
        "progress",
        &format!(
            "{} completed, {} failed of {}",
            b.completed_tables, b.failed_tables, b.total_tables
        ),
        &[
            (b.completed_tables as f64 * 100.0 / total, "ok"),
            (b.failed_tables as f64 * 100.0 / total, "failed"),
        ],
    ));
    s.push('\n');
    s
}

/// Records and duration of a row: for a table being copied, its rows so far
/// and rate (from the live figures) and the time since it started; else
/// the journal's figures. Also the sort keys (rows, seconds).
fn figures(r: &ProgressRow, live: &LiveFigures) -> (String, String, i64, f64) {
    if r.status != ProgressStatus::InProgress {
        return (
            records_cell(r),
            duration_cell(r),
            r.records_processed,
            r.duration_seconds.unwrap_or(0.0),
        );
    }
    let now = chrono::Utc::now();
    let since =
        |ts: &str| parse_ts(ts).map(|t| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0));
    let Some(f) = live.get(&r.connection_name, &r.table_name) else {
        let secs = r.started_at.as_deref().and_then(since);
        return (
            NOT_AVAILABLE.to_owned(),
            secs.map_or_else(|| RUNNING.to_owned(), |s| format!("{} so far", hms(s))),
            0,
            secs.unwrap_or(0.0),
        );
    };
    let secs = since(&f.started_at).unwrap_or(0.0);
    let per_sec = |n: u64| if secs >= 1.0 { n as f64 / secs } else { 0.0 };
    let records = format!("{} so far", thousands(f.rows as i64));
    let rate = format!("{} rows/s", thousands(per_sec(f.rows).round() as i64));
    let total = r.started_at.as_deref().and_then(since).unwrap_or(secs);
    (
        records,
        format!("{} · {rate}", hms(total)),
        f.rows as i64,
        total,
    )
}

/// The progress rows as a sortable table (`<table id="progress">`); a table
/// being copied shows its `live` figures.
pub fn progress_table(rows: &[ProgressRow], live: &LiveFigures) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">No tables in this batch.</p>\n".into();
    }
    let mut t = String::from(
        "<table class=\"sortable\" id=\"progress\">\n<thead><tr><th>Connection</th><th>Table</th><th>Model</th><th>Status</th><th class=\"num\">Records</th><th class=\"num\">Skipped</th><th class=\"num\">Written</th><th class=\"num\">Deleted</th><th class=\"num\">Read</th><th class=\"num\">Sent</th><th class=\"num\">Retries</th><th class=\"num\">Duration</th><th>Started</th><th>Error</th></tr></thead>\n<tbody>\n",
    );
    for r in rows {
        let (records, duration, sort_rows, sort_secs) = figures(r, live);
        let error = match r.error_message.as_deref() {
            None => String::new(),
            Some(e) if !error_shortened(e, &r.connection_name, ERROR_SHOWN) => {
                escape(error_for(e, &r.connection_name))
            }
            Some(e) => format!(
                "<details><summary>{}</summary>{}</details>",
                escape(&cut(cause_for(e, &r.connection_name), ERROR_SHOWN)),
                escape(e)
            ),
        };
        let _ = writeln!(
            t,
            "<tr data-status=\"{status}\"><td>{conn}</td><td>{table}</td><td>{model}</td><td data-sort=\"{status}\">{badge}</td><td class=\"num\" data-sort=\"{rec}\">{records}</td><td class=\"num\" data-sort=\"{skip}\">{skipped}</td>{moved}<td class=\"num\">{retries}</td><td class=\"num\" data-sort=\"{secs}\">{duration}</td><td class=\"time\">{started}</td><td class=\"error\">{error}</td></tr>",
            status = r.status.as_str(),
            conn = escape(&r.connection_name),
            table = escape(&r.table_name),
            model = escape(&r.model_name),
            badge = badge(r.status.as_str()),
            rec = sort_rows,
            records = escape(&records),
            skip = r.records_skipped,
            skipped = thousands(r.records_skipped),
            moved = moved_cells(r),
            retries = r.retry_count,
            secs = sort_secs,
            duration = escape(&duration),
            started = escape(&r.started_at.as_deref().map_or_else(String::new, local_time)),
        );
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// Rows written and deleted, bytes read and sent, once the table completed
/// (empty before); `N/A` where a completed row does not know them.
fn moved_cells(r: &ProgressRow) -> String {
    if r.status != ProgressStatus::Completed {
        return "<td class=\"num\" data-sort=\"-1\"></td>".repeat(4);
    }
    let cell = |sort: Option<i64>, text: String| {
        format!(
            "<td class=\"num\" data-sort=\"{}\">{}</td>",
            sort.unwrap_or(-1),
            escape(&text)
        )
    };
    [
        cell(r.rows_written, maybe_thousands(r.rows_written)),
        cell(r.rows_deleted, maybe_thousands(r.rows_deleted)),
        cell(r.bytes_read, bytes(r.bytes_read)),
        cell(r.bytes_written, bytes(r.bytes_written)),
    ]
    .concat()
}

fn notifications_section(list: &[NotificationRow]) -> String {
    let mut s = String::from(
        "<h2>Notifications</h2>\n<table id=\"notifications\">\n<thead><tr><th>Entry</th><th>Kind</th><th>Event</th><th>Status</th><th class=\"num\">Attempts</th><th>At</th><th>Error</th></tr></thead>\n<tbody>\n",
    );
    for n in list {
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"error\">{}</td></tr>",
            escape(&n.notifier),
            escape(&n.kind),
            escape(&n.event),
            badge(n.status.as_str()),
            n.attempts,
            escape(&local_time(&n.sent_at)),
            escape(n.error_message.as_deref().unwrap_or(""))
        );
    }
    s.push_str("</tbody>\n</table>\n");
    s
}

/// Batches as a sortable table (`<table id="batches">`), each id linking to
/// `{link_prefix}{id}` when a prefix is given; `abandoned` names the batches
/// that were given up (their status says so).
pub fn batch_table(
    batches: &[BatchRow],
    abandoned: &[String],
    link_prefix: Option<&str>,
) -> String {
    if batches.is_empty() {
        return "<p class=\"empty\">No batches yet: run <code>branchsync sync-all</code>.</p>\n"
            .into();
    }
    let mut t = String::from(
        "<table class=\"sortable\" id=\"batches\">\n<thead><tr><th>Batch ID</th><th>Status</th><th>Started</th><th class=\"num\">Duration</th><th class=\"num\">Progress</th><th class=\"num\">Failed</th><th>Host</th></tr></thead>\n<tbody>\n",
    );
    for b in batches {
        let id = escape(&b.batch_id);
        let id_cell = match link_prefix {
            Some(prefix) => format!("<a href=\"{}{id}\"><code>{id}</code></a>", escape(prefix)),
            None => format!("<code>{id}</code>"),
        };
        let _ = writeln!(
            t,
            "<tr data-batch=\"{id}\"><td>{id_cell}</td><td data-sort=\"{status}\">{badge}</td><td class=\"time\" data-sort=\"{started_raw}\">{started}</td><td class=\"num\" data-sort=\"{secs}\">{duration}</td><td class=\"num\" data-sort=\"{done}\">{done}/{total}</td><td class=\"num\">{failed}</td><td>{host}</td></tr>",
            status = b.status.as_str(),
            badge = if abandoned.contains(&b.batch_id) {
                format!("{} (abandoned)", badge(b.status.as_str()))
            } else {
                badge(b.status.as_str())
            },
            started_raw = escape(&b.started_at),
            started = escape(&local_time(&b.started_at)),
            secs = b.duration_seconds.unwrap_or(0.0),
            duration = escape(&batch_duration(b)),
            done = b.completed_tables,
            total = b.total_tables,
            failed = b.failed_tables,
            host = escape(b.host.as_deref().unwrap_or("")),
        );
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::test_rows::{batch, row};

    #[test]
    fn report_page_is_self_contained_and_has_rows_and_charts() {
        let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
        b.total_tables = 2;
        b.completed_tables = 1;
        b.failed_tables = 1;
        let mut ok = row("pgsql_lmp", "m_product", ProgressStatus::Completed);
        ok.records_processed = 15234;
        ok.duration_seconds = Some(125.0);
        let mut bad = row("pgsql_jkt", "c_order", ProgressStatus::Failed);
        bad.error_message = Some(format!("<script>alert(1)</script> {}", "x".repeat(300)));
        let data = ReportData {
            history: vec![b.clone()],
            batch: b,
            rows: vec![ok, bad],
            success: vec![],
            notifications: vec![],
            live: LiveFigures::default(),
            abandoned: None,
        };
        let page = report_page(&data, Frame::Standalone, None);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("Sync Batch Details: <code>sync_20261126084522_AbCd1234</code>"));
        assert!(page.contains(">15,234</td>"));
        assert!(page.contains("<details><summary>&lt;script&gt;"));
        assert!(!page.contains("<script>alert"));
        for id in [
            "duration-per-table",
            "records-per-table",
            "success-rate",
            "batch-history",
        ] {
            assert!(page.contains(&format!("id=\"chart-{id}\"")), "{id}");
        }
        assert!(!page.contains("http://") || !page.contains("src=\"http"));
        assert!(!page.contains("<link"), "no external stylesheet");
        assert!(page.contains("--resume=sync_20261126084522_AbCd1234"));
    }
}
