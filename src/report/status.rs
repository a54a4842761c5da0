//! The `sync-status` views in the seed's layout: one batch in detail (a `====`
//! header, the batch summary, a box-drawn table of its progress rows) and the
//! list of batches with the two `Use: …` hints. Rows in, text out.

use super::colour::{Paint, Tint};
use super::fit::Grid;
use super::format::{
    bytes, cause_for, count_of, cut, error_for, error_shortened, hms, local_time, maybe_thousands,
    percent, thousands, NOT_AVAILABLE, RUNNING,
};
use crate::journal::{Abandoned, BatchRow, BatchStatus, ProgressRow, ProgressStatus, Segment};
use std::fmt::Write;

/// Longest error shown in a table cell; `--json` has the whole text.
pub const ERROR_WIDTH: usize = 60;
const RULE_WIDTH: usize = 80;

/// The first hint under the list of batches.
pub fn hint_details() -> String {
    format!(
        "Use: {} for details",
        crate::hint::cmd("sync-status <BATCH_ID>")
    )
}

/// The second hint under the list of batches.
pub fn hint_resume() -> String {
    format!(
        "Use: {} to resume an interrupted batch",
        crate::hint::cmd("sync-all --resume=<BATCH_ID>")
    )
}

/// What the journal knows of a batch's runs besides its row: the segments it
/// ran in (first run and resumes) and whether it was given up.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunHistory<'a> {
    pub segments: &'a [Segment],
    pub abandoned: Option<&'a Abandoned>,
    /// The running copies' row counts so far, where the run publishes them.
    pub live: Option<&'a crate::engine::live::LiveFigures>,
}

fn header(out: &mut String, title: &str) {
    let rule = "=".repeat(RULE_WIDTH);
    let _ = writeln!(out, "{rule}\n{title}\n{rule}");
}

/// A batch in detail. `failed_only` says the rows were filtered to failures.
pub fn render_batch_detail(
    batch: &BatchRow,
    rows: &[ProgressRow],
    history: RunHistory,
    failed_only: bool,
    paint: Paint,
) -> String {
    let mut out = String::new();
    header(&mut out, &format!("Sync Batch Details: {}", batch.batch_id));
    out.push('\n');
    render_summary(&mut out, batch, history, paint);
    out.push('\n');
    if failed_only {
        out.push_str("Table Progress (failed only):\n");
    } else {
        out.push_str("Table Progress:\n");
    }
    if rows.is_empty() {
        out.push_str(if failed_only {
            "  No failed tables.\n"
        } else {
            "  No tables in this batch.\n"
        });
    } else {
        let _ = writeln!(out, "{}", progress_table(rows, history.live, paint));
        full_errors(&mut out, rows);
    }
    let resumable = matches!(batch.status, BatchStatus::Interrupted | BatchStatus::Failed);
    if resumable && history.abandoned.is_none() {
        let _ = writeln!(
            out,
            "\nUse: {} to resume this batch\nUse: {} to give it up (cron stops resuming it)",
            crate::hint::cmd(&format!("sync-all --resume={}", batch.batch_id)),
            crate::hint::cmd(&format!("sync-status {} --abandon", batch.batch_id))
        );
    }
    out
}

fn render_summary(out: &mut String, batch: &BatchRow, history: RunHistory, paint: Paint) {
    out.push_str("Batch Summary:\n");
    let status = paint.text(batch.status.as_str(), Tint::of_batch(batch.status));
    let _ = writeln!(out, "  Status: {status}");
    if let Some(a) = history.abandoned {
        let _ = writeln!(
            out,
            "  Abandoned: {} ({})",
            local_time(&a.abandoned_at),
            a.reason
        );
    }
    let _ = writeln!(out, "  Started: {}", local_time(&batch.started_at));
    // Every stop before the last run, and the resume that followed it.
    for pair in history.segments.windows(2) {
        if let Some(end) = &pair[0].ended_at {
            let label = match pair[0].end_status.as_deref() {
                Some("failed") => "Failed at",
                _ => "Interrupted at",
            };
            let _ = writeln!(out, "  {label}: {}", local_time(end));
        }
        let _ = writeln!(out, "  Resumed at: {}", local_time(&pair[1].started_at));
    }
    let runs = history.segments.len();
    if batch.status == BatchStatus::Running {
        let _ = writeln!(out, "  Duration: {RUNNING}");
    } else {
        if let Some(end) = &batch.completed_at {
            // The seed's label, except on a batch that did not end by itself.
            let label = match batch.status {
                BatchStatus::Interrupted => "Interrupted at",
                BatchStatus::Failed => "Ended",
                _ => "Completed",
            };
            let _ = writeln!(out, "  {label}: {}", local_time(end));
        }
        if let Some(secs) = batch.duration_seconds {
            let how = if runs > 1 {
                format!(" (working time, {runs} runs)")
            } else {
                String::new()
            };
            let _ = writeln!(out, "  Duration: {}{how}", hms(secs));
        }
    }
    let _ = writeln!(
        out,
        "  Progress: {}/{} tables ({})",
        batch.completed_tables,
        batch.total_tables,
        percent(batch.completed_tables, batch.total_tables)
    );
    let _ = writeln!(out, "  Failed: {}", count_of(batch.failed_tables, "table"));
}

/// The errors the table shortened to their cause, whole, under it: the
/// context and the advice are there.
fn full_errors(out: &mut String, rows: &[ProgressRow]) {
    let long: Vec<_> = rows
        .iter()
        .filter_map(|r| {
            let m = r.error_message.as_deref()?;
            error_shortened(m, &r.connection_name, ERROR_WIDTH)
                .then(|| (r, error_for(m, &r.connection_name)))
        })
        .collect();
    if long.is_empty() {
        return;
    }
    out.push_str("\nErrors in full:\n");
    for (r, e) in long {
        let _ = writeln!(out, "  {} / {}: {e}", r.connection_name, r.table_name);
    }
}

/// Written or skipped rows (of the records): known once completed, like Records.
fn written_cell(row: &ProgressRow, count: impl Fn(&ProgressRow) -> i64) -> String {
    if row.status == ProgressStatus::Completed {
        thousands(count(row).max(0))
    } else {
        NOT_AVAILABLE.to_owned()
    }
}

/// A figure of a completed row, `N/A` before.
fn maybe_done(row: &ProgressRow, text: String) -> String {
    if row.status == ProgressStatus::Completed {
        text
    } else {
        NOT_AVAILABLE.to_owned()
    }
}

/// Records: the count once completed, `N/A` before.
pub fn records_cell(row: &ProgressRow) -> String {
    if row.status == ProgressStatus::Completed {
        thousands(row.records_processed)
    } else {
        NOT_AVAILABLE.to_owned()
    }
}

/// Records, and for a table being copied the rows so far where the run
/// publishes them (`12,345 so far`).
fn live_records_cell(row: &ProgressRow, live: Option<&crate::engine::live::LiveFigures>) -> String {
    let so_far = live
        .filter(|_| row.status == ProgressStatus::InProgress)
        .and_then(|l| l.get(&row.connection_name, &row.table_name));
    match so_far {
        Some(f) => format!("{} so far", thousands(f.rows as i64)),
        None => records_cell(row),
    }
}

/// Duration: `Running..` while in progress, `HH:MM:SS` once known, else `N/A`.
pub fn duration_cell(row: &ProgressRow) -> String {
    match (row.status, row.duration_seconds) {
        (ProgressStatus::InProgress, _) => RUNNING.to_owned(),
        (_, Some(secs)) => hms(secs),
        (_, None) => NOT_AVAILABLE.to_owned(),
    }
}

/// The columns of a batch's table, in the order they are dropped when the
/// terminal is too narrow: the link figures first, then the written/skipped
/// split; connection, table, status, records, duration and error stay (the
/// error wraps).
const PROGRESS_DROP_ORDER: [usize; 5] = [10, 9, 8, 7, 6];

fn progress_table(
    rows: &[ProgressRow],
    live: Option<&crate::engine::live::LiveFigures>,
    paint: Paint,
) -> comfy_table::Table {
    let mut grid = Grid::new(vec![
        "Connection",
        "Table",
        "Status",
        "Records",
        "Duration",
        "Error",
        "Written",
        "Skipped",
        "Deleted",
        "Read",
        "Sent",
    ]);
    for row in rows {
        grid.rows.push(vec![
            comfy_table::Cell::new(&row.connection_name),
            comfy_table::Cell::new(&row.table_name),
            paint.cell(row.status.as_str(), Tint::of_progress(row.status)),
            comfy_table::Cell::new(live_records_cell(row, live)),
            comfy_table::Cell::new(duration_cell(row)),
            comfy_table::Cell::new(
                row.error_message
                    .as_deref()
                    .map(|e| cut(cause_for(e, &row.connection_name), ERROR_WIDTH))
                    .unwrap_or_default(),
            ),
            comfy_table::Cell::new(written_cell(row, |r| {
                r.rows_written
                    .unwrap_or(r.records_processed - r.records_skipped)
            })),
            comfy_table::Cell::new(written_cell(row, |r| r.records_skipped)),
            comfy_table::Cell::new(maybe_done(row, maybe_thousands(row.rows_deleted))),
            comfy_table::Cell::new(maybe_done(row, bytes(row.bytes_read))),
            comfy_table::Cell::new(maybe_done(row, bytes(row.bytes_written))),
        ]);
    }
    grid.right = vec![3, 4, 6, 7, 8, 9, 10];
    grid.drop_order = PROGRESS_DROP_ORDER.to_vec();
    grid.whole = vec![0, 1];
    grid.render(paint, paint.width())
}

/// Duration of a batch: `Running..` while running, `HH:MM:SS` once ended.
pub fn batch_duration(batch: &BatchRow) -> String {
    match (batch.status, batch.duration_seconds) {
        (BatchStatus::Running, _) => RUNNING.to_owned(),
        (_, Some(secs)) => hms(secs),
        (_, None) => NOT_AVAILABLE.to_owned(),
    }
}

/// The list of batches (newest first, as given); `total` is how many the
/// journal holds, so the header can say what part is shown.
/// `abandoned` names the listed batches that were given up.
pub fn render_batch_list(
    batches: &[BatchRow],
    total: i64,
    abandoned: &[String],
    paint: Paint,
) -> String {
    let mut out = String::new();
    let shown = batches.len() as i64;
    let title = if shown < total {
        format!(
            "All Sync Batches: {} newest of {}",
            thousands(shown),
            thousands(total)
        )
    } else {
        format!("All Sync Batches: {}", thousands(total))
    };
    header(&mut out, &title);
    // Narrow terminals lose the duration first, then cells wrap.
    let mut grid = Grid::new(vec![
        "Batch ID", "Status", "Started", "Duration", "Progress", "Failed",
    ]);
    for b in batches {
        grid.rows.push(vec![
            comfy_table::Cell::new(&b.batch_id),
            paint.cell(
                &if abandoned.contains(&b.batch_id) {
                    format!("{} (abandoned)", b.status)
                } else {
                    b.status.to_string()
                },
                Tint::of_batch(b.status),
            ),
            comfy_table::Cell::new(local_time(&b.started_at)),
            comfy_table::Cell::new(batch_duration(b)),
            comfy_table::Cell::new(format!(
                "{}/{} ({})",
                b.completed_tables,
                b.total_tables,
                percent(b.completed_tables, b.total_tables)
            )),
            comfy_table::Cell::new(b.failed_tables),
        ]);
    }
    grid.right = vec![3, 4, 5];
    grid.drop_order = vec![3];
    grid.whole = vec![0];
    let table = grid.render(paint, paint.width());
    let _ = writeln!(out, "{table}");
    let _ = writeln!(out, "\n{}\n{}", hint_details(), hint_resume());
    out
}

/// What `sync-status` says about a journal without batches.
pub fn render_no_batches(journal: &std::path::Path) -> String {
    format!(
        "No sync batches yet in the journal {}. Run `{}` to create the first one.\n",
        journal.display(),
        crate::hint::cmd("sync-all")
    )
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "status_history_tests.rs"]
mod history_tests;
