//! Live progress: one overall bar (tables done/total, rows of the whole run
//! against the sum of the estimates, %, ETA) and one bar per running copy
//! (rows against the source's estimate, %, rows/s, ETA). Without a terminal
//! (cron) there are no bars: the log lines tell the story, with a heartbeat
//! line per running copy every [`heartbeat_interval`].

use super::progress_keys::{short_count, style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A copy, by (connection, journal table name).
pub type JobKey = (String, String);

/// How often a running copy is logged without a terminal: 30 s, or
/// `BRANCHSYNC_HEARTBEAT_SECS` (0 turns it off).
pub fn heartbeat_interval() -> Option<Duration> {
    let secs = std::env::var("BRANCHSYNC_HEARTBEAT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(30);
    (secs > 0).then(|| Duration::from_secs(secs))
}

pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    total_tables: u64,
    done_tables: AtomicU64,
    failed: AtomicU64,
    jobs: Mutex<HashMap<JobKey, JobState>>,
    log_prefix: String,
    heartbeat: Option<Duration>,
}

/// What the overall bar holds for one table of the run.
struct JobState {
    /// The part of the overall length that is this table's: its estimate,
    /// or its rows so far once they are more.
    in_len: Arc<AtomicU64>,
    /// Rows of the current attempt (counted in the overall position).
    rows: Arc<AtomicU64>,
    /// Set while an attempt runs: its start and the last heartbeat.
    running: Option<(Instant, Instant)>,
    estimate: Option<u64>,
}

/// The bar of one running copy (without a terminal, only its row count).
pub struct JobBar {
    bar: Option<ProgressBar>,
    overall: Option<ProgressBar>,
    rows: Arc<AtomicU64>,
    /// This copy's part of the overall length (see [`JobState::in_len`]).
    in_len: Arc<AtomicU64>,
    /// Bytes of the raw streams this attempt relayed.
    pub link: super::link_bytes::LinkTally,
}

impl Progress {
    /// Bars only when stderr is a terminal. `planned` holds each table the
    /// run will copy, with the rows expected when known (the journal's
    /// count of its last run); a copy's own estimate replaces it when the
    /// copy starts.
    pub fn new(
        total: u64,
        already_done: u64,
        planned: &[(JobKey, Option<u64>)],
        log_prefix: &str,
    ) -> Progress {
        let jobs: HashMap<JobKey, JobState> = planned
            .iter()
            .map(|(k, est)| {
                let state = JobState {
                    in_len: Arc::new(AtomicU64::new(est.unwrap_or(0))),
                    rows: Arc::default(),
                    running: None,
                    estimate: *est,
                };
                (k.clone(), state)
            })
            .collect();
        let mut progress = Progress {
            multi: None,
            overall: None,
            total_tables: total,
            done_tables: AtomicU64::new(already_done),
            failed: AtomicU64::new(0),
            log_prefix: log_prefix.to_owned(),
            heartbeat: heartbeat_interval(),
            jobs: Mutex::new(HashMap::new()),
        };
        let expected: u64 = jobs
            .values()
            .map(|j| j.in_len.load(Ordering::Relaxed))
            .sum();
        progress.jobs = Mutex::new(jobs);
        if !std::io::stderr().is_terminal() {
            return progress;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        // Hidden until added, and styled before: a bar of its own draws on
        // stderr at once, in the default style.
        let overall = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::hidden());
        if expected == 0 {
            // A length of 0 draws a full bar.
            overall.unset_length();
        }
        overall.set_style(style(
            "{prefix:.bold} [{bar:16.green/white}] {msg} {rows} {pct} {eta_}",
        ));
        overall.set_prefix("Overall");
        overall.set_message(tables_msg(already_done, 0, total));
        let overall = multi.add(overall);
        // On screen at once, before the first copy has a row.
        overall.tick();
        progress.multi = Some(multi.clone());
        progress.overall = Some(overall);
        crate::logging::set_bars(Some(multi));
        progress
    }

    /// Whether bars are drawn (stderr is a terminal).
    pub fn has_bars(&self) -> bool {
        self.multi.is_some()
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, HashMap<JobKey, JobState>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tables_message(&self) {
        if let Some(o) = &self.overall {
            let done = self.done_tables.load(Ordering::Relaxed);
            let failed = self.failed.load(Ordering::Relaxed);
            o.set_message(tables_msg(done, failed, self.total_tables));
        }
    }

    /// An attempt of the copy `key` starts; `estimate` is its expected row
    /// count (the source's estimate, or the journal's count of its last
    /// run). Rows of an earlier attempt leave the overall count.
    pub fn start_job(&self, key: &JobKey, label: &str, estimate: Option<u64>) -> JobBar {
        let rows = Arc::new(AtomicU64::new(0));
        let now = Instant::now();
        let mut jobs = self.jobs();
        let state = jobs.entry(key.clone()).or_insert_with(|| JobState {
            in_len: Arc::default(),
            rows: Arc::default(),
            running: None,
            estimate: None,
        });
        let earlier = state.rows.swap(0, Ordering::Relaxed);
        state.rows = rows.clone();
        state.running = Some((now, now));
        let estimate = estimate.or(state.estimate);
        state.estimate = estimate;
        if let Some(o) = &self.overall {
            o.set_position(o.position().saturating_sub(earlier));
            let had = state.in_len.load(Ordering::Relaxed);
            if let Some(e) = estimate.filter(|e| *e != had) {
                set_len(o, o.length().unwrap_or(0).saturating_sub(had) + e);
                state.in_len.store(e, Ordering::Relaxed);
            }
        }
        let in_len = state.in_len.clone();
        drop(jobs);
        let Some(multi) = &self.multi else {
            return JobBar {
                bar: None,
                overall: None,
                rows,
                in_len,
                link: Default::default(),
            };
        };
        let bar = match estimate {
            Some(n) if n > 0 => {
                let b = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::hidden());
                b.set_style(style(
                    "  {prefix:23!} [{bar:8.yellow/white}] {rows} {pct} {rate} {eta_}",
                ));
                b
            }
            _ => {
                let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
                b.set_style(style("  {prefix:23!} {spinner} {rows} {rate}"));
                b
            }
        };
        bar.set_prefix(fit_label(label, LABEL_WIDTH));
        let bar = multi.add(bar);
        bar.tick();
        JobBar {
            bar: Some(bar),
            overall: self.overall.clone(),
            rows,
            in_len,
            link: Default::default(),
        }
    }

    /// A line that stays above the bars once they are gone (one per
    /// finished table); nothing without a terminal, where the log says it.
    pub fn table_line(&self, line: &str) {
        if self.multi.is_none() {
            return;
        }
        if !crate::logging::print_above_bars(line) {
            // The bars were taken down (Ctrl+C): plain lines from here on.
            eprintln!("{line}");
        }
    }

    /// A table finished (completed, failed or skipped): the overall length
    /// trades its estimate for the rows copied (none when it failed).
    pub fn table_done(&self, key: &JobKey, failed: bool) {
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.done_tables.fetch_add(1, Ordering::Relaxed);
        let state = self.jobs().remove(key);
        if let (Some(o), Some(s)) = (&self.overall, state) {
            let rows = s.rows.load(Ordering::Relaxed);
            let len = o
                .length()
                .unwrap_or(0)
                .saturating_sub(s.in_len.load(Ordering::Relaxed));
            if failed {
                o.set_position(o.position().saturating_sub(rows));
                set_len(o, len);
            } else {
                set_len(o, len + rows);
            }
        }
        self.tables_message();
    }

    /// Logs each copy that has run for a heartbeat interval since it started
    /// or was last logged: rows so far, of how many, and the rate. The run
    /// calls this about once a second.
    pub fn heartbeat(&self) {
        let Some(every) = self.heartbeat else {
            return;
        };
        let now = Instant::now();
        let p = &self.log_prefix;
        for ((conn, table), s) in self.jobs().iter_mut() {
            let Some((started, last)) = s.running.as_mut() else {
                continue;
            };
            if now.duration_since(*last) < every {
                continue;
            }
            *last = now;
            let rows = s.rows.load(Ordering::Relaxed);
            let secs = now.duration_since(*started).as_secs_f64().max(0.001);
            let of = s
                .estimate
                .filter(|e| *e > 0)
                .map(|e| {
                    format!(
                        " of ~{} ({:.0}%)",
                        short_count(e),
                        (rows as f64 * 100.0 / e as f64).min(100.0)
                    )
                })
                .unwrap_or_default();
            log::info!(
                "{p}: Copying {table} from {conn}: {} records so far{of}, {}/s, {}s in",
                crate::report::format::thousands(rows as i64),
                short_count((rows as f64 / secs).round() as u64),
                now.duration_since(*started).as_secs()
            );
        }
    }

    /// The attempt of `key` ended (its bar goes; the heartbeat stops).
    fn job_stopped(&self, key: &JobKey) {
        if let Some(s) = self.jobs().get_mut(key) {
            s.running = None;
        }
    }

    pub fn finish(&self) {
        if let Some(o) = &self.overall {
            o.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
        crate::logging::set_bars(None);
    }
}

/// `3/16 tables,` or `3/16 tables (1 failed),`.
fn tables_msg(done: u64, failed: u64, total: u64) -> String {
    if failed > 0 {
        format!("{done}/{total} tables ({failed} failed),")
    } else {
        format!("{done}/{total} tables,")
    }
}

/// A length of 0 would draw a full bar: none (an empty bar) instead.
fn set_len(bar: &ProgressBar, len: u64) {
    if len == 0 {
        bar.unset_length();
    } else {
        bar.set_length(len);
    }
}

/// Columns of a copy's bar label (`connection.table`): with the rest of
/// the line it fits 80 columns.
const LABEL_WIDTH: usize = 23;

/// `conn.table` in at most `width` characters: the table's name is what a
/// person reads, so the connection is shortened first (`pgsql_j….c_invoiceline`),
/// and only a table name too long by itself is cut in its middle.
pub fn fit_label(label: &str, width: usize) -> String {
    let len = label.chars().count();
    if len <= width {
        return label.to_owned();
    }
    let (conn, table) = label.split_once('.').unwrap_or(("", label));
    let table_len = table.chars().count();
    // connection: at least 4 characters and the ellipsis, then the dot
    if table_len + 6 <= width {
        let keep = width - table_len - 2;
        let head: String = conn.chars().take(keep).collect();
        return format!("{head}….{table}");
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let chars: Vec<char> = label.chars().collect();
    let start: String = chars[..head].iter().collect();
    let end: String = chars[len - tail..].iter().collect();
    format!("{start}…{end}")
}

impl JobBar {
    /// The rows are all in and the target finishes (`building indexes`,
    /// `committing`): the bar says so instead of sitting at 99%, ETA 0s.
    pub fn phase(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_style(style("  {prefix:23!} {spinner} {rows}, {msg}…"));
            b.set_message(what.to_owned());
            // Drawn now: the bar was just drawn at 100%, and a redraw this
            // soon would otherwise wait for the next tick.
            b.force_draw();
            b.enable_steady_tick(std::time::Duration::from_millis(250));
        }
    }

    pub fn add_rows(&self, n: u64) {
        if n == 0 {
            return;
        }
        let rows = self.rows.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.inc(n);
            // An estimate is a guess: never show more than 100%.
            if b.length().is_some_and(|len| len > 0 && b.position() > len) {
                b.set_length(b.position());
            }
        }
        if let Some(o) = &self.overall {
            o.inc(n);
            // More rows than expected: the overall length grows by as many.
            let part = self.in_len.load(Ordering::Relaxed);
            if rows > part {
                set_len(o, o.length().unwrap_or(0) + rows - part);
                self.in_len.store(rows, Ordering::Relaxed);
            }
        }
    }

    pub fn finish(self, progress: &Progress, key: &JobKey) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
        progress.job_stopped(key);
    }
}

#[cfg(test)]
mod tests {
    use super::fit_label;

    #[test]
    fn bar_labels_keep_the_table_name_whole() {
        assert_eq!(
            fit_label("pgsql_jkt.c_invoiceline", 23),
            "pgsql_jkt.c_invoiceline"
        );
        let l = fit_label("pgsql_jakarta_north.c_invoiceline", 23);
        assert_eq!(l, "pgsql_ja….c_invoiceline");
        let l = fit_label("b.a_table_name_far_longer_than_the_bar_label", 23);
        assert_eq!(l.chars().count(), 23, "{l}");
        assert!(
            l.starts_with("b.a_table") && l.ends_with("bar_label"),
            "{l}"
        );
    }
}
