//! `serve --fleet`: the fleet as the central's journal mirror holds it — the
//! page and JSON of `sync-status --fleet` (every runner's latest batch,
//! status, age, progress, failed tables, stale flag) and a drill-down to any
//! mirrored batch (its tables, rows and errors). The dashboard only reads the
//! mirror: it sends nothing from the local journal's outbox (the runners'
//! own commands do), so serving stays read-only.

use super::auth::{percent_decode, percent_encode};
use super::pages::Reply;
use crate::driver::JournalMirror;
use crate::journal::{is_batch_id, BatchStatus, FleetRunner};
use crate::report::fleet::{entries, fleet_json, FleetEntry};
use crate::report::format::{hms, local_time, percent};
use crate::report::html::{self, badge, escape};
use crate::report::{charts, json};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Failed tables listed per runner on the fleet page.
const FAILED_SHOWN: usize = 3;

/// Seconds between reloads of the fleet page.
pub const FLEET_REFRESH: u32 = 30;

/// The central's mirror, read by one request at a time.
pub struct FleetView {
    sink: Mutex<Box<dyn JournalMirror>>,
    /// A runner whose last completed batch is older is stale.
    pub stale: Duration,
}

impl std::fmt::Debug for FleetView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FleetView")
            .field("stale", &self.stale)
            .finish_non_exhaustive()
    }
}

impl FleetView {
    pub fn new(sink: Box<dyn JournalMirror>, stale: Duration) -> FleetView {
        FleetView {
            sink: Mutex::new(sink),
            stale,
        }
    }

    /// The reply to `path` (`/fleet…` or `/api/fleet…`), or `None` when the
    /// path is not the fleet's.
    pub fn route(&self, path: &str) -> Option<Reply> {
        let (api, rest) = if let Some(rest) = path.strip_prefix("/api/fleet") {
            (true, rest)
        } else if let Some(rest) = path.strip_prefix("/fleet") {
            (false, rest)
        } else {
            return None;
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Some(self.overview(api));
        }
        let rest = rest.strip_prefix('/')?;
        let Some((runner, id)) = rest.split_once('/') else {
            return Some(Reply::error(
                404,
                api,
                "a fleet batch is /fleet/<runner>/<batch id>",
            ));
        };
        Some(self.batch(api, &percent_decode(runner), id))
    }

    fn sink(&self) -> std::sync::MutexGuard<'_, Box<dyn JournalMirror>> {
        self.sink.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn overview(&self, api: bool) -> Reply {
        let runners = match self.sink().fleet() {
            Ok(r) => r,
            Err(e) => return unreachable_central(api, &e),
        };
        let now = chrono::Utc::now();
        let list = entries(&runners, self.stale, now);
        if api {
            Reply::json(fleet_json(&list))
        } else {
            Reply::html(fleet_page(&runners, &list, self.stale))
        }
    }

    fn batch(&self, api: bool, runner: &str, id: &str) -> Reply {
        if !is_batch_id(id) {
            return Reply::error(
                400,
                api,
                &format!("{id:?} is not a batch id (they look like sync_20261126084522_AbCd1234)"),
            );
        }
        let found = match self.sink().batch(runner, id) {
            Ok(found) => found,
            Err(e) => return unreachable_central(api, &e),
        };
        let Some((mut batch, rows)) = found else {
            return Reply::error(
                404,
                api,
                &format!("the central's mirror holds no batch {id} of runner {runner:?}"),
            );
        };
        if api {
            return Reply::json(json::batch_json(&batch, &rows));
        }
        // The mirror has no host or pid: the runner is the machine.
        batch.host = Some(runner.to_owned());
        let mut body =
            String::from("<nav class=\"no-print\"><a href=\"/fleet\">← Fleet</a></nav>\n");
        let _ = writeln!(
            body,
            "<h1>{} — <code>{}</code></h1>",
            escape(runner),
            escape(&batch.batch_id)
        );
        let _ = writeln!(
            body,
            "<p class=\"meta\">As the central's journal mirror holds it. JSON: <a href=\"/api/fleet/{r}/{id}\">/api/fleet/{r}/{id}</a></p>",
            r = escape(&percent_encode(runner)),
            id = escape(id)
        );
        body.push_str(&html::summary_section(&batch, &rows));
        body.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
        body.push_str(&charts::duration_per_table(&rows));
        body.push_str(&charts::records_per_table(&rows));
        body.push_str("</div>\n");
        let _ = writeln!(body, "<h2>Table Progress ({})</h2>", rows.len());
        // The mirror carries no live figures: a running table shows its time so far.
        body.push_str(&html::progress_table(&rows, &Default::default()));
        let live = (batch.status == BatchStatus::Running).then_some(super::pages::LIVE_REFRESH);
        Reply::html(html::served_document(
            &format!("{runner} — {}", batch.batch_id),
            &body,
            live,
        ))
    }
}

fn unreachable_central(api: bool, e: &crate::driver::DriverError) -> Reply {
    log::warn!("serve --fleet: {e}");
    Reply::error(
        503,
        api,
        &format!("the central database cannot be read right now: {e}"),
    )
}

/// The fleet page: one row per runner, stale ones first-class visible.
fn fleet_page(runners: &[FleetRunner], list: &[FleetEntry], stale_after: Duration) -> String {
    let stale = list.iter().filter(|e| e.stale).count();
    let failing = list.iter().filter(|e| !e.failed.is_empty()).count();
    let running = runners
        .iter()
        .filter(|r| r.batch.status == BatchStatus::Running)
        .count();
    let mut body = String::from("<nav class=\"no-print\"><a href=\"/\">This machine's batches →</a></nav>\n<h1>branchsync — fleet</h1>\n");
    let _ = writeln!(
        body,
        "<p class=\"meta\" id=\"fleet-counts\">{n} runner{s} · <strong class=\"{sc}\">{stale} stale</strong> (no completed batch in {age}) · {failing} with failed tables · {running} running. From the central's journal mirror; this page reloads every {FLEET_REFRESH} s. JSON: <a href=\"/api/fleet\">/api/fleet</a></p>",
        n = list.len(),
        s = if list.len() == 1 { "" } else { "s" },
        sc = if stale > 0 { "bad" } else { "good" },
        age = escape(&hms(stale_after.as_secs_f64())),
    );
    if list.is_empty() {
        body.push_str("<p class=\"empty\">The central's journal mirror holds no batch yet: runners write to it when they sync into a PostgreSQL target with <code>[journal] mirror</code> on.</p>\n");
    } else {
        body.push_str("<table class=\"sortable\" id=\"fleet\">\n<thead><tr><th>Runner</th><th>Latest batch</th><th>Status</th><th class=\"num\">Age</th><th class=\"num\">Duration</th><th class=\"num\">Progress</th><th>Failed tables</th><th>Last completed</th></tr></thead>\n<tbody>\n");
        for (r, e) in runners.iter().zip(list) {
            body.push_str(&fleet_row(r, e));
        }
        body.push_str("</tbody>\n</table>\n");
    }
    html::served_document("branchsync — fleet", &body, Some(FLEET_REFRESH))
}

fn fleet_row(r: &FleetRunner, e: &FleetEntry) -> String {
    let b = &r.batch;
    let href = format!(
        "/fleet/{}/{}",
        percent_encode(&r.runner),
        percent_encode(&b.batch_id)
    );
    let stale = if e.stale {
        " <span class=\"status s-stale\" title=\"no completed batch within the allowed age\">stale</span>"
    } else {
        ""
    };
    // One per line, at most FAILED_SHOWN: the drill-down has them all.
    let mut failed: String = e
        .failed
        .iter()
        .take(FAILED_SHOWN)
        .map(|f| {
            format!(
                "<span class=\"failed-table\" title=\"{}\">{}.{}</span>",
                escape(f.error_message.unwrap_or("")),
                escape(f.connection_name),
                escape(f.table_name)
            )
        })
        .collect();
    if e.failed.len() > FAILED_SHOWN {
        let _ = write!(
            failed,
            "<a href=\"{}\">and {} more</a>",
            escape(&href),
            e.failed.len() - FAILED_SHOWN
        );
    } else if e.failed.is_empty() {
        failed.push_str("<span class=\"meta\">none</span>");
    }
    let total = b.total_tables.max(1) as f64;
    format!(
        "<tr data-runner=\"{runner}\" data-stale=\"{is_stale}\"><td class=\"runner\">{runner}{stale}</td><td><a href=\"{href}\"><code>{id}</code></a></td><td data-sort=\"{status}\">{badge}</td><td class=\"num\" data-sort=\"{age_raw}\" title=\"started {started}\">{age}</td><td class=\"num\" data-sort=\"{secs}\">{duration}</td><td class=\"num nowrap\" data-sort=\"{done}\">{done}/{total_tables} ({pct}){bar}</td><td class=\"failed-list\">{failed}</td><td class=\"time\">{last}</td></tr>\n",
        runner = escape(&r.runner),
        is_stale = e.stale,
        href = escape(&href),
        id = escape(&b.batch_id),
        status = b.status.as_str(),
        badge = badge(b.status.as_str()),
        started = escape(&local_time(&b.started_at)),
        age_raw = e.age_seconds.unwrap_or(0.0),
        age = escape(&e.age_seconds.map(hms).unwrap_or_default()),
        secs = b.duration_seconds.unwrap_or(0.0),
        duration = escape(&crate::report::status::batch_duration(b)),
        done = b.completed_tables,
        total_tables = b.total_tables,
        pct = percent(b.completed_tables, b.total_tables),
        bar = crate::report::page::bar(
            "progress mini",
            &format!("{} completed, {} failed", b.completed_tables, b.failed_tables),
            &[
                (b.completed_tables as f64 * 100.0 / total, "ok"),
                (b.failed_tables as f64 * 100.0 / total, "failed"),
            ]
        ),
        last = escape(&r.last_completed_at.as_deref().map_or_else(|| "never".to_owned(), local_time)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{ProgressRow, ProgressStatus};
    use crate::report::test_rows::{batch, row};

    #[test]
    fn the_page_flags_stale_runners_links_each_batch_and_escapes() {
        let mut failed = row("lmp", "c_order", ProgressStatus::Failed);
        failed.error_message = Some("<b>timeout</b>".into());
        let runners = vec![
            FleetRunner {
                runner: "hq 01/<a>".into(),
                batch: batch("sync_20261126084522_AbCd1234", BatchStatus::Failed),
                last_completed_at: None,
                failed: vec![failed],
            },
            FleetRunner {
                runner: "branch-7".into(),
                batch: batch("sync_20261126084522_XyZw9876", BatchStatus::Completed),
                last_completed_at: Some(crate::journal::now_utc()),
                failed: Vec::<ProgressRow>::new(),
            },
        ];
        let list = entries(&runners, Duration::from_secs(3600), chrono::Utc::now());
        let page = fleet_page(&runners, &list, Duration::from_secs(3600));
        assert!(page.contains("2 runners"), "{page}");
        assert!(page.contains("1 stale"), "{page}");
        assert!(page.contains("href=\"/fleet/hq%2001%2F%3Ca%3E/sync_20261126084522_AbCd1234\""));
        assert!(page.contains("data-stale=\"true\""));
        assert!(page.contains("data-runner=\"branch-7\" data-stale=\"false\""));
        assert!(page.contains("lmp.c_order"));
        assert!(!page.contains("<b>timeout"));
        assert!(!page.contains("<a>"));
        assert!(!page.contains("more</a>"));
    }

    #[test]
    fn a_long_failure_list_is_cut_with_a_link_to_the_batch() {
        let failed: Vec<ProgressRow> = (0..5)
            .map(|i| row("lmp", &format!("t{i}"), ProgressStatus::Failed))
            .collect();
        let runners = vec![FleetRunner {
            runner: "hq".into(),
            batch: batch("sync_20261126084522_AbCd1234", BatchStatus::Failed),
            last_completed_at: None,
            failed,
        }];
        let list = entries(&runners, Duration::from_secs(3600), chrono::Utc::now());
        let page = fleet_page(&runners, &list, Duration::from_secs(3600));
        assert!(
            page.contains("lmp.t2") && !page.contains("lmp.t3"),
            "{page}"
        );
        assert!(page.contains("<a href=\"/fleet/hq/sync_20261126084522_AbCd1234\">and 2 more</a>"));
    }
}
