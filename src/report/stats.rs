//! The `stats` view: the operator's questions of the journal — which tables
//! fail most (and how often they were retried), how long each table takes and
//! how many records it moves, and how often it succeeds.

use super::colour::{Paint, Tint};
use super::fit::Grid;
use super::format::{
    cause_for, count_of, cut, error_for, error_shortened, hms, local_time, thousands, NOT_AVAILABLE,
};
use crate::journal::{FailingTable, TableStats};
use comfy_table::Cell;
use serde::Serialize;
use std::fmt::Write;

const ERROR_WIDTH: usize = 50;

/// Everything `stats` reports, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct StatsReport<'a> {
    /// Batches started at or after this UTC time; `null` for all of them.
    pub since: Option<&'a str>,
    pub failing: &'a [FailingTable],
    pub tables: &'a [TableStats],
}

fn ratio(v: f64) -> String {
    format!("{v:.2}")
}

/// The last errors the table shortened to their cause, whole, under it
/// (as `sync-status` does).
fn full_errors(out: &mut String, failing: &[FailingTable]) {
    let long: Vec<_> = failing
        .iter()
        .filter_map(|f| {
            let m = f.last_error.as_deref()?;
            error_shortened(m, &f.connection_name, ERROR_WIDTH)
                .then(|| (f, error_for(m, &f.connection_name)))
        })
        .collect();
    if long.is_empty() {
        return;
    }
    out.push_str("\nLast errors in full:\n");
    for (f, e) in long {
        let _ = writeln!(out, "  {} / {}: {e}", f.connection_name, f.table_name);
    }
}

/// The stats as box tables. `period` names what was looked at ("last 7 days").
pub fn render_stats(report: &StatsReport, period: &str, paint: Paint) -> String {
    let rule = "=".repeat(80);
    let mut out = String::new();
    let _ = writeln!(out, "{rule}\nSync Statistics: {period}\n{rule}\n");
    if report.tables.is_empty() {
        out.push_str("No tables were synced in this period.\n");
        return out;
    }

    out.push_str("Tables that fail most:\n");
    if report.failing.is_empty() {
        out.push_str("  No failures.\n");
    } else {
        // Narrow terminals lose the retries, then the time; the error wraps.
        let mut t = Grid::new(vec![
            "Connection",
            "Table",
            "Failures",
            "Avg retries",
            "Last failed",
            "Last error",
        ]);
        t.right = vec![2, 3];
        t.drop_order = vec![3, 4];
        t.whole = vec![0, 1];
        for f in report.failing {
            t.rows.push(vec![
                Cell::new(&f.connection_name),
                Cell::new(&f.table_name),
                paint.cell(&thousands(f.failures), Tint::Red),
                Cell::new(ratio(f.avg_retries)),
                Cell::new(local_time(&f.last_failed_at)),
                Cell::new(cut(
                    cause_for(f.last_error.as_deref().unwrap_or(""), &f.connection_name),
                    ERROR_WIDTH,
                )),
            ]);
        }
        let _ = writeln!(out, "{}", t.render(paint, paint.width()));
        full_errors(&mut out, report.failing);
    }

    out.push_str("\nPer table:\n");
    // Narrow terminals lose the averages of retries and records, then the
    // completed and failed counts (the success rate says it).
    let mut t = Grid::new(vec![
        "Table",
        "Runs",
        "Completed",
        "Failed",
        "Success rate",
        "Avg retries",
        "Avg duration",
        "Avg records",
    ]);
    t.right = vec![1, 2, 3, 4, 5, 6, 7];
    t.drop_order = vec![5, 7, 2, 3];
    t.whole = vec![0];
    for s in report.tables {
        let rate = match s.success_rate {
            Some(r) => {
                let tint = if r >= 100.0 {
                    Tint::Green
                } else if r >= 50.0 {
                    Tint::Yellow
                } else {
                    Tint::Red
                };
                paint.cell(&format!("{r:.1}%"), tint)
            }
            None => Cell::new(NOT_AVAILABLE),
        };
        t.rows.push(vec![
            Cell::new(&s.table_name),
            Cell::new(thousands(s.runs)),
            Cell::new(thousands(s.completed)),
            Cell::new(thousands(s.failed)),
            rate,
            Cell::new(ratio(s.avg_retries)),
            Cell::new(
                s.avg_duration_seconds
                    .map(hms)
                    .unwrap_or_else(|| NOT_AVAILABLE.into()),
            ),
            Cell::new(
                s.avg_records
                    .map(|r| thousands(r.round() as i64))
                    .unwrap_or_else(|| NOT_AVAILABLE.into()),
            ),
        ]);
    }
    let _ = writeln!(out, "{}", t.render(paint, paint.width()));
    let runs: i64 = report.tables.iter().map(|s| s.runs).sum();
    let _ = writeln!(
        out,
        "\n{} over {}.",
        count_of(runs, "table run"),
        count_of(report.tables.len() as i64, "table")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_stats(name: &str, completed: i64, failed: i64) -> TableStats {
        let done = completed + failed;
        TableStats {
            table_name: name.into(),
            runs: done,
            completed,
            failed,
            avg_retries: 0.5,
            avg_duration_seconds: Some(90.0),
            avg_records: Some(15234.4),
            success_rate: (done > 0).then(|| completed as f64 * 100.0 / done as f64),
        }
    }

    #[test]
    fn renders_failures_and_per_table_figures() {
        let failing = [FailingTable {
            connection_name: "pgsql_jkt".into(),
            table_name: "c_order".into(),
            failures: 3,
            avg_retries: 2.0,
            last_failed_at: "2026-11-26T08:45:22.000Z".into(),
            last_error: Some("connection reset by peer".into()),
        }];
        let tables = [table_stats("c_order", 1, 3), table_stats("m_product", 4, 0)];
        let report = StatsReport {
            since: None,
            failing: &failing,
            tables: &tables,
        };
        let text = render_stats(&report, "all batches", Paint::PLAIN);
        assert!(text.contains("Sync Statistics: all batches"), "{text}");
        assert!(text.contains("pgsql_jkt"), "{text}");
        assert!(text.contains("2.00"), "{text}");
        assert!(text.contains("connection reset by peer"), "{text}");
        assert!(text.contains("25.0%"), "{text}");
        assert!(text.contains("100.0%"), "{text}");
        assert!(text.contains("00:01:30"), "{text}");
        assert!(text.contains("15,234"), "{text}");
        assert!(text.contains("8 table runs over 2 tables."), "{text}");
    }

    #[test]
    fn empty_period_says_so() {
        let report = StatsReport {
            since: Some("x"),
            failing: &[],
            tables: &[],
        };
        let text = render_stats(&report, "last 7 days", Paint::PLAIN);
        assert!(
            text.contains("No tables were synced in this period."),
            "{text}"
        );
    }
}
