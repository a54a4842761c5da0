//! Live progress: one overall bar (tables done/total, failed, ETA) and one bar
//! per running copy (connection.table, rows, rows/s). Without a terminal
//! (cron) there are no bars; the log lines tell the story instead.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    failed: AtomicU64,
}

/// The bar of one running copy (a no-op without a terminal).
pub struct JobBar {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Bars only when stderr is a terminal.
    pub fn new(total: u64, already_done: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress {
                multi: None,
                overall: None,
                failed: AtomicU64::new(0),
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30.green/white}] {pos}/{len} tables {msg} (ETA {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix("Overall");
        overall.set_position(already_done);
        crate::logging::set_bars(Some(multi.clone()));
        Progress {
            multi: Some(multi),
            overall: Some(overall),
            failed: AtomicU64::new(0),
        }
    }

    /// Whether bars are drawn (stderr is a terminal).
    pub fn has_bars(&self) -> bool {
        self.multi.is_some()
    }

    pub fn start_job(&self, label: &str, estimate: Option<u64>) -> JobBar {
        let Some(multi) = &self.multi else {
            return JobBar { bar: None };
        };
        let bar = match estimate {
            Some(n) if n > 0 => {
                let b = ProgressBar::new(n);
                b.set_style(
                    ProgressStyle::with_template("  {prefix:24} [{bar:16.yellow/white}] {human_pos}/~{human_len} rows {rate}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .with_key("rate", rows_per_sec)
                        .progress_chars("=> "),
                );
                b
            }
            _ => {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("  {prefix:24} {spinner} {human_pos} rows {rate}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner())
                        .with_key("rate", rows_per_sec),
                );
                b
            }
        };
        let bar = multi.add(bar);
        bar.set_prefix(label.to_owned());
        JobBar { bar: Some(bar) }
    }

    /// A line that stays above the bars once they are gone (one per
    /// finished table); nothing without a terminal, where the log says it.
    pub fn table_line(&self, line: &str) {
        if let Some(m) = &self.multi {
            let _ = m.println(line);
        }
    }

    /// A table finished (completed, failed or skipped).
    pub fn table_done(&self, failed: bool) {
        if failed {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(o) = &self.overall {
            o.inc(1);
            let f = self.failed.load(Ordering::Relaxed);
            if f > 0 {
                o.set_message(format!("({f} failed)"));
            }
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

impl JobBar {
    pub fn add_rows(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// The copy streams PostgreSQL binary data: show bytes, not rows.
    pub fn bytes_mode(&self) {
        if let Some(b) = &self.bar {
            b.set_style(
                ProgressStyle::with_template(
                    "  {prefix:24} {spinner} {binary_bytes} ({binary_bytes_per_sec})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.unset_length();
            b.set_position(0);
        }
    }

    pub fn add_bytes(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// `12,345 rows/s`: whole rows, grouped like every other count (indicatif's
/// `{per_sec}` prints `113,926.8255/s`, which also wraps at 80 columns).
fn rows_per_sec(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let rate = state.per_sec();
    let rate = if rate.is_finite() {
        rate.round() as i64
    } else {
        0
    };
    let _ = write!(w, "{}/s", crate::report::format::thousands(rate));
}
