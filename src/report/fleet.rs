//! The fleet view (`sync-status --fleet`, `serve --fleet`): every runner's
//! latest batch as the central's journal mirror holds it, and whether the
//! runner is stale — its last completed batch ended longer ago than the
//! allowed age (or it never completed one).

use super::fit::Grid;
use super::format::{hms, local_time, percent};
use super::status::batch_duration;
use super::{Paint, Tint};
use crate::journal::{parse_ts, FleetRunner};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write;
use std::time::Duration;

/// One runner with the judgement the views show.
#[derive(Debug, Clone, Serialize)]
pub struct FleetEntry<'a> {
    pub runner: &'a str,
    pub stale: bool,
    /// Seconds since the latest batch started.
    pub age_seconds: Option<f64>,
    pub last_completed_at: Option<&'a str>,
    /// The seed's `sync_batches` columns.
    pub batch: MirrorBatch<'a>,
    /// `connection.table` of each failed table, with its error.
    pub failed: Vec<FailedTable<'a>>,
}

/// The mirrored columns of a batch (the seed's), as `--json` prints them.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorBatch<'a> {
    pub batch_id: &'a str,
    pub status: &'a str,
    pub total_tables: i64,
    pub completed_tables: i64,
    pub failed_tables: i64,
    #[serde(serialize_with = "crate::journal::json_text")]
    pub command_options: &'a str,
    pub started_at: &'a str,
    pub completed_at: Option<&'a str>,
    pub duration_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedTable<'a> {
    pub connection_name: &'a str,
    pub table_name: &'a str,
    pub error_message: Option<&'a str>,
}

/// Judge every runner against `stale_after` at `now`.
pub fn entries<'a>(
    runners: &'a [FleetRunner],
    stale_after: Duration,
    now: DateTime<Utc>,
) -> Vec<FleetEntry<'a>> {
    let limit = chrono::Duration::from_std(stale_after).unwrap_or(chrono::Duration::MAX);
    runners
        .iter()
        .map(|r| {
            let b = &r.batch;
            let stale = match r.last_completed_at.as_deref().and_then(parse_ts) {
                Some(t) => now - t > limit,
                None => true,
            };
            FleetEntry {
                runner: &r.runner,
                stale,
                age_seconds: parse_ts(&b.started_at)
                    .map(|t| ((now - t).num_milliseconds() as f64 / 1000.0).max(0.0)),
                last_completed_at: r.last_completed_at.as_deref(),
                batch: MirrorBatch {
                    batch_id: &b.batch_id,
                    status: b.status.as_str(),
                    total_tables: b.total_tables,
                    completed_tables: b.completed_tables,
                    failed_tables: b.failed_tables,
                    command_options: &b.command_options,
                    started_at: &b.started_at,
                    completed_at: b.completed_at.as_deref(),
                    duration_seconds: b.duration_seconds,
                },
                failed: r
                    .failed
                    .iter()
                    .map(|f| FailedTable {
                        connection_name: &f.connection_name,
                        table_name: &f.table_name,
                        error_message: f.error_message.as_deref(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `--json`: `[{"runner": …, "stale": …, "batch": {…}, …}]`.
pub fn fleet_json(entries: &[FleetEntry]) -> String {
    super::json::pretty(entries)
}

/// The terminal table.
pub fn render_fleet(runners: &[FleetRunner], entries: &[FleetEntry], paint: Paint) -> String {
    let mut out = String::new();
    let stale = entries.iter().filter(|e| e.stale).count();
    let _ = writeln!(
        out,
        "Fleet: {} runner{}, {stale} stale",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "The central's journal mirror holds no batch yet: runners write to it when they sync into a PostgreSQL target with [journal] mirror on."
        );
        return out;
    }
    // Narrow terminals lose the start time (the age says it), then the
    // duration; the failed tables wrap.
    let mut table = Grid::new(vec![
        "Runner",
        "Latest batch",
        "Status",
        "Started",
        "Age",
        "Duration",
        "Progress",
        "Failed tables",
    ]);
    table.drop_order = vec![3, 5];
    table.whole = vec![0, 1];
    for (r, e) in runners.iter().zip(entries) {
        let b = &r.batch;
        let failed = e
            .failed
            .iter()
            .map(|f| format!("{}.{}", f.connection_name, f.table_name))
            .collect::<Vec<_>>()
            .join(", ");
        let runner = if e.stale {
            paint.cell(&format!("{} (stale)", e.runner), Tint::Red)
        } else {
            comfy_table::Cell::new(e.runner)
        };
        table.rows.push(vec![
            runner,
            comfy_table::Cell::new(&b.batch_id),
            paint.cell(b.status.as_str(), Tint::of_batch(b.status)),
            comfy_table::Cell::new(local_time(&b.started_at)),
            comfy_table::Cell::new(e.age_seconds.map(hms).unwrap_or_default()),
            comfy_table::Cell::new(batch_duration(b)),
            comfy_table::Cell::new(format!(
                "{}/{} ({})",
                b.completed_tables,
                b.total_tables,
                percent(b.completed_tables, b.total_tables)
            )),
            comfy_table::Cell::new(failed),
        ]);
    }
    let _ = writeln!(out, "{}", table.render(paint, paint.width()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{BatchStatus, ProgressStatus};
    use crate::report::test_rows::{batch, row};

    fn runner(name: &str, last: Option<&str>) -> FleetRunner {
        let mut failed = row("lmp", "c_order", ProgressStatus::Failed);
        failed.error_message = Some("timeout".into());
        FleetRunner {
            runner: name.into(),
            batch: batch("sync_20261126084522_AbCd1234", BatchStatus::Failed),
            last_completed_at: last.map(str::to_owned),
            failed: vec![failed],
        }
    }

    #[test]
    fn stale_when_the_last_completed_batch_is_older_than_allowed_or_missing() {
        let now = parse_ts("2026-11-27T12:00:00.000Z").unwrap();
        let runners = [
            runner("fresh", Some("2026-11-27T01:00:00.000Z")),
            runner("old", Some("2026-11-26T09:00:00.000Z")),
            runner("never", None),
        ];
        let e = entries(&runners, Duration::from_secs(26 * 3600), now);
        let stale: Vec<_> = e.iter().map(|e| (e.runner, e.stale)).collect();
        assert_eq!(stale, [("fresh", false), ("old", true), ("never", true)]);
        let v: serde_json::Value = serde_json::from_str(&fleet_json(&e)).unwrap();
        assert_eq!(v[0]["runner"], "fresh");
        assert_eq!(v[0]["batch"]["status"], "failed");
        assert_eq!(v[0]["failed"][0]["table_name"], "c_order");
        let text = render_fleet(&runners, &e, Paint::PLAIN);
        assert!(text.contains("old (stale)"), "{text}");
        assert!(text.contains("lmp.c_order"), "{text}");
    }
}
