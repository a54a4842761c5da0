//! What a notification says, whatever carries it: the batch id, its outcome,
//! progress, duration, host, and the failed tables with their errors — cut to
//! fit the channel (Discord takes 2,000 characters, an email much more).

use crate::config::NotifyEvent;
use crate::journal::{BatchRow, BatchStatus, Journal, JournalError, ProgressRow};
use crate::report::format::{cut, error_for, hms, local_time};
use serde_json::{json, Value};
use std::fmt::Write;

/// Failed tables listed by name in a message; the rest are counted.
const LISTED_FAILURES: usize = 20;
/// Characters of one table's error in a message (the journal keeps it whole).
const ERROR_CHARS: usize = 300;

/// A batch that just ended, as every channel announces it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub batch: BatchRow,
    pub event: NotifyEvent,
    /// The failed progress rows, in plan order.
    pub failed: Vec<ProgressRow>,
    /// The host that ran the batch.
    pub host: String,
}

impl Notice {
    /// The notice for `batch_id`; `None` when the batch is unknown or has
    /// not ended (a running batch announces nothing).
    pub fn load(journal: &Journal, batch_id: &str) -> Result<Option<Notice>, JournalError> {
        let Some(batch) = journal.batch(batch_id)? else {
            return Ok(None);
        };
        let event = match batch.status {
            BatchStatus::Completed => NotifyEvent::Completed,
            BatchStatus::Failed => NotifyEvent::Failed,
            BatchStatus::Interrupted => NotifyEvent::Interrupted,
            BatchStatus::Running => return Ok(None),
        };
        let failed = journal.progress_rows(batch_id, true)?;
        let host = batch.host.clone().unwrap_or_else(|| "unknown host".into());
        Ok(Some(Notice {
            batch,
            event,
            failed,
            host,
        }))
    }

    /// Tables neither completed nor failed (interrupted batches have some).
    pub fn unfinished(&self) -> i64 {
        (self.batch.total_tables - self.batch.completed_tables - self.batch.failed_tables).max(0)
    }

    /// `45/120 tables completed, 2 failed`.
    pub fn progress(&self) -> String {
        let b = &self.batch;
        let mut s = format!(
            "{}/{} tables completed, {} failed",
            b.completed_tables, b.total_tables, b.failed_tables
        );
        if self.unfinished() > 0 {
            let _ = write!(s, ", {} not run", self.unfinished());
        }
        s
    }

    /// `01:02:05`, or `N/A` when the journal has no duration.
    pub fn duration(&self) -> String {
        self.batch
            .duration_seconds
            .map_or_else(|| "N/A".to_owned(), hms)
    }

    /// One line: `Batch sync_… failed on backup01 (2 of 120 tables failed)`.
    pub fn headline(&self) -> String {
        let b = &self.batch;
        let detail = match self.event {
            NotifyEvent::Completed => format!("{} tables", b.total_tables),
            NotifyEvent::Failed => {
                format!("{} of {} tables failed", b.failed_tables, b.total_tables)
            }
            NotifyEvent::Interrupted => format!(
                "{}/{} tables completed before the stop",
                b.completed_tables, b.total_tables
            ),
        };
        format!(
            "Batch {} {} on {} ({detail})",
            b.batch_id,
            self.event.as_str(),
            self.host
        )
    }

    /// The email subject.
    pub fn subject(&self) -> String {
        format!("[branchsync] {}", self.headline())
    }

    /// One line per failed table (at most [`LISTED_FAILURES`]), errors cut.
    pub fn failure_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .failed
            .iter()
            .take(LISTED_FAILURES)
            .map(|r| {
                let retries = match r.retry_count {
                    0 => String::new(),
                    1 => " (1 retry)".into(),
                    n => format!(" ({n} retries)"),
                };
                format!(
                    "{} from {}{retries}: {}",
                    r.table_name,
                    r.connection_name,
                    cut(
                        error_for(
                            r.error_message.as_deref().unwrap_or("no error recorded"),
                            &r.connection_name
                        ),
                        ERROR_CHARS
                    )
                )
            })
            .collect();
        if self.failed.len() > LISTED_FAILURES {
            lines.push(format!(
                "… and {} more: {}",
                self.failed.len() - LISTED_FAILURES,
                crate::hint::cmd(&format!("sync-status {} --failed", self.batch.batch_id))
            ));
        }
        lines
    }

    /// The details under the headline, plain text, at most `max` characters.
    pub fn body(&self, max: usize) -> String {
        let b = &self.batch;
        let mut out = String::new();
        let _ = writeln!(out, "Status: {}", self.event.as_str());
        let _ = writeln!(out, "Progress: {}", self.progress());
        let _ = writeln!(out, "Duration: {}", self.duration());
        let _ = writeln!(out, "Started: {}", local_time(&b.started_at));
        if let Some(end) = &b.completed_at {
            let _ = writeln!(out, "Ended: {}", local_time(end));
        }
        let _ = writeln!(out, "Host: {}", self.host);
        let lines = self.failure_lines();
        if !lines.is_empty() {
            out.push_str("\nFailed tables:\n");
            for l in lines {
                let _ = writeln!(out, "  - {l}");
            }
        }
        if self.event != NotifyEvent::Completed {
            let _ = writeln!(
                out,
                "\nResume with: {}",
                crate::hint::cmd(&format!("sync-all --resume={}", b.batch_id))
            );
        }
        fit(&out, max)
    }

    /// Headline and body, plain text, at most `max` characters.
    pub fn text(&self, max: usize) -> String {
        let headline = self.headline();
        let room = max.saturating_sub(headline.chars().count() + 2);
        fit(&format!("{headline}\n\n{}", self.body(room)), max)
    }

    /// The generic webhook's JSON document.
    pub fn json(&self) -> Value {
        let b = &self.batch;
        let failed: Vec<Value> = self
            .failed
            .iter()
            .take(LISTED_FAILURES)
            .map(|r| {
                json!({
                    "connection_name": r.connection_name,
                    "table_name": r.table_name,
                    "model_name": r.model_name,
                    "retry_count": r.retry_count,
                    "error_message": r.error_message.as_deref().map(|e| cut(e, 1000)),
                })
            })
            .collect();
        json!({
            "event": self.event.as_str(),
            "batch_id": b.batch_id,
            "status": b.status.as_str(),
            "host": self.host,
            "total_tables": b.total_tables,
            "completed_tables": b.completed_tables,
            "failed_tables": b.failed_tables,
            "progress": self.progress(),
            "started_at": b.started_at,
            "completed_at": b.completed_at,
            "duration_seconds": b.duration_seconds,
            "failed": failed,
            "failed_not_listed": self.failed.len().saturating_sub(LISTED_FAILURES),
            "text": self.text(4000),
        })
    }
}

/// `text` whole when it fits in `max` characters; else cut at a line end
/// (or mid-line when one line is too long) and ended with `…`.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    if let Some(nl) = out.rfind('\n') {
        if nl > out.len() / 2 {
            out.truncate(nl + 1);
        }
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::ProgressStatus;
    use crate::report::test_rows::{batch, row};

    fn failed_notice(n: usize) -> Notice {
        let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
        b.total_tables = 120;
        b.completed_tables = 120 - n as i64;
        b.failed_tables = n as i64;
        let failed = (0..n)
            .map(|i| {
                let mut r = row("pgsql_lmp", &format!("t{i}"), ProgressStatus::Failed);
                r.error_message = Some(format!("timeout {}", "x".repeat(1000)));
                r.retry_count = 3;
                r
            })
            .collect();
        Notice {
            batch: b,
            event: NotifyEvent::Failed,
            failed,
            host: "backup01".into(),
        }
    }

    #[test]
    fn headline_names_batch_outcome_host_and_failures() {
        let n = failed_notice(2);
        assert_eq!(
            n.headline(),
            "Batch sync_20261126084522_AbCd1234 failed on backup01 (2 of 120 tables failed)"
        );
        let body = n.body(10_000);
        assert!(
            body.contains("Progress: 118/120 tables completed, 2 failed"),
            "{body}"
        );
        assert!(body.contains("Duration: 01:02:05"), "{body}");
        assert!(
            body.contains("t1 from pgsql_lmp (3 retries): timeout xxx"),
            "{body}"
        );
        assert!(
            body.contains("--resume=sync_20261126084522_AbCd1234"),
            "{body}"
        );
    }

    #[test]
    fn a_failure_line_names_its_connection_once() {
        let mut n = failed_notice(1);
        n.failed[0].error_message = Some("pgsql_lmp: connecting: refused".into());
        let lines = n.failure_lines();
        assert_eq!(
            lines[0],
            "t0 from pgsql_lmp (3 retries): connecting: refused"
        );
    }

    #[test]
    fn long_lists_and_errors_are_cut_to_fit() {
        let n = failed_notice(50);
        let lines = n.failure_lines();
        assert_eq!(lines.len(), LISTED_FAILURES + 1);
        assert!(lines[0].chars().count() < ERROR_CHARS + 60);
        assert!(lines.last().unwrap().contains("and 30 more"));
        let text = n.text(2000);
        assert!(text.chars().count() <= 2000);
        assert!(text.starts_with("Batch sync_20261126084522_AbCd1234 failed"));
        assert!(text.ends_with('…'));
        assert_eq!(
            n.json()["failed"].as_array().unwrap().len(),
            LISTED_FAILURES
        );
        assert_eq!(n.json()["failed_not_listed"], 30);
    }
}
