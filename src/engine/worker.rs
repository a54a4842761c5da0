//! One (connection, table) copy with its retries: the journal is told before
//! each step, the target commits before the row says `completed`, and a
//! cancelled copy goes back to `pending`. What one attempt does is in
//! `attempt.rs`.

use super::cancel::Cancel;
use super::link_bytes::TallyWriter;
use super::live::{LiveBoard, LiveTable};
use super::plan::Job;
use super::progress::{JobBar, Progress};
use crate::config::Config;
use crate::driver::{DriverError, Endpoint, ErrorKind, RawFormat, RowSink, Value};
use crate::journal::{Journal, JournalError};
use rand::RngExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the workers of one run share (read-only but for the journal).
pub struct RunContext<'a> {
    pub config: &'a Config,
    pub batch_id: &'a str,
    pub journal: &'a Mutex<Journal>,
    pub target: &'a dyn Endpoint,
    pub sources: &'a HashMap<String, Box<dyn Endpoint>>,
    pub cancel: &'a Arc<Cancel>,
    pub progress: &'a Progress,
    pub retries: u32,
    pub backoff: Duration,
    /// The longest wait between two retries.
    pub backoff_max: Duration,
    /// Rows per committed chunk of a staged copy.
    pub chunk_rows: u64,
    /// Set when the journal cannot be written: the run stops.
    pub journal_error: &'a Mutex<Option<JournalError>>,
    /// When each in-flight attempt started, for the stall watchdog.
    pub attempts: &'a Mutex<HashMap<(String, String), std::time::Instant>>,
    /// The seed's log-line prefix of the command that made the batch:
    /// `SyncAll` or `SyncTable`.
    pub log_prefix: &'a str,
    /// Rows so far of the copies in flight (the dashboard's live figures).
    pub live: &'a LiveBoard,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    Completed,
    Failed,
    /// Cancelled or stopped: back to pending.
    Pending,
}

impl RunContext<'_> {
    pub(super) fn journal<T>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, JournalError>,
    ) -> Option<T> {
        let mut j = self.journal.lock().unwrap_or_else(|e| e.into_inner());
        match f(&mut j) {
            Ok(v) => Some(v),
            Err(e) => {
                log::error!("journal write failed: {e}");
                let mut slot = self.journal_error.lock().unwrap_or_else(|e| e.into_inner());
                if slot.is_none() {
                    *slot = Some(e);
                }
                drop(slot);
                self.cancel.cancel();
                None
            }
        }
    }

    /// Run one job to its end (with retries). `probe_retries`: the
    /// retries its branch's connection probe took before it answered; the
    /// row's `retry_count` counts them too (the table's own budget of
    /// retries is whole).
    pub fn run_job(&self, job: &Job, probe_retries: u32) -> JobEnd {
        let table = job.table_name.as_str();
        let conn = job.connection.as_str();
        if self.cancel.is_cancelled() {
            return JobEnd::Pending;
        }
        if self
            .journal(|j| j.start_progress(self.batch_id, conn, table))
            .is_none()
        {
            return JobEnd::Pending;
        }
        if probe_retries > 0 {
            let why = format!(
                "the connection to {conn} was retried {probe_retries} times before it answered"
            );
            if self
                .journal(|j| j.record_retry(self.batch_id, conn, table, probe_retries, &why))
                .is_none()
            {
                return JobEnd::Pending;
            }
        }
        let p = self.log_prefix;
        log::info!("{p}: Starting for {table} from {conn}");
        let mut attempt: u32 = 0;
        let key = (conn.to_owned(), table.to_owned());
        loop {
            self.attempts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone(), std::time::Instant::now());
            let mut progressed = false;
            let result = self.copy_once(job, &mut progressed);
            self.live.end(conn, table);
            self.attempts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
            match result {
                Ok(counts) => {
                    if self
                        .journal(|j| j.complete_progress(self.batch_id, conn, table, counts))
                        .is_none()
                    {
                        return JobEnd::Pending;
                    }
                    self.progress.table_line(&format!(
                        "  ✓ {table} from {conn}: {}{}",
                        crate::report::format::count_of_thousands(
                            counts.processed as i64,
                            "record"
                        ),
                        if counts.skipped > 0 {
                            format!(
                                " ({} skipped)",
                                crate::report::format::thousands(counts.skipped as i64)
                            )
                        } else {
                            String::new()
                        }
                    ));
                    log::info!(
                        "{p}: Completed for {table} from {conn} ({}{})",
                        crate::report::format::count_of_thousands(
                            counts.processed as i64,
                            "record"
                        ),
                        if counts.skipped > 0 {
                            format!(", {} skipped", counts.skipped)
                        } else {
                            String::new()
                        }
                    );
                    return JobEnd::Completed;
                }
                Err(e) if e.kind == ErrorKind::Cancelled || self.cancel.is_cancelled() => {
                    log::warn!("{p}: Cancelled {table} from {conn}; it will run again on resume");
                    self.journal(|j| j.reset_progress(self.batch_id, conn, table));
                    return JobEnd::Pending;
                }
                Err(e) if e.kind.is_retryable() && (progressed || attempt < self.retries) => {
                    // The seed's words where they are true: a refused or
                    // dropped connection is not a timeout.
                    let what = if e.kind == ErrorKind::Timeout {
                        "Connection timeout"
                    } else {
                        "Connection failed,"
                    };
                    // An attempt that committed chunks moved the copy on: it
                    // does not use up the retries (and so a link that breaks
                    // often still lets a chunked copy finish).
                    if progressed {
                        log::warn!(
                            "{p}: {what} retry for {table} from {conn} after committed chunks (not counted, {attempt}/{} used): {e}",
                            self.retries
                        );
                    } else {
                        attempt += 1;
                        log::warn!(
                            "{p}: {what} retry {attempt}/{} for {table} from {conn}: {e}",
                            self.retries
                        );
                    }
                    if self
                        .journal(|j| {
                            let count = probe_retries + attempt;
                            j.record_retry(self.batch_id, conn, table, count, &e.message)
                        })
                        .is_none()
                    {
                        return JobEnd::Pending;
                    }
                    let wait = backoff(self.backoff, attempt.max(1), self.backoff_max);
                    if !self.cancel.sleep(wait) {
                        self.journal(|j| j.reset_progress(self.batch_id, conn, table));
                        return JobEnd::Pending;
                    }
                }
                Err(e) => {
                    if e.kind.is_retryable() && attempt > 0 {
                        log::error!(
                            "{p}: Final retry failed for {table} from {conn}: {e}. Resume with: {}",
                            crate::hint::cmd(&format!("sync-all --resume={}", self.batch_id))
                        );
                    } else {
                        log::error!("{p}: Failed for {table} from {conn}: {e}");
                    }
                    self.progress
                        .table_line(&format!("  ✗ {table} from {conn}: failed"));
                    if self
                        .journal(|j| j.fail_progress(self.batch_id, conn, table, &e.message))
                        .is_none()
                    {
                        return JobEnd::Pending;
                    }
                    return JobEnd::Failed;
                }
            }
        }
    }

    /// The attempt of (conn, table) is making progress: the stall watchdog
    /// measures from now.
    pub(super) fn attempt_alive(&self, conn: &str, table: &str) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(started) = attempts.get_mut(&(conn.to_owned(), table.to_owned())) {
            *started = std::time::Instant::now();
        }
    }
}

/// Exponential backoff with jitter: base·2^(attempt-1) · [0.5, 1.5), never
/// more than `max`.
pub(super) fn backoff(base: Duration, attempt: u32, max: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).min(16));
    let jitter: f64 = rand::rng().random_range(0.5..1.5);
    exp.mul_f64(jitter).min(max)
}

/// Counts rows on their way to the target, for the progress bar and the
/// live figures; on a raw passthrough the source tells the rows it has
/// framed (nothing per row).
pub(super) struct CountingSink<'s, 'b> {
    /// The target's sink; handed over to `binary` when the source streams
    /// a raw format the target took (it then never sends rows).
    inner: Option<&'s mut dyn RowSink>,
    binary: Option<TallyWriter<'s, 'b>>,
    /// Rows the source said its raw stream carried so far.
    raw_rows: u64,
    key_order: bool,
    bar: &'b JobBar,
    live: &'b LiveTable,
    pending: u64,
}

impl<'s, 'b> CountingSink<'s, 'b> {
    pub(super) fn new(sink: &'s mut dyn RowSink, bar: &'b JobBar, live: &'b LiveTable) -> Self {
        CountingSink {
            key_order: sink.wants_key_order(),
            inner: Some(sink),
            binary: None,
            raw_rows: 0,
            bar,
            live,
            pending: 0,
        }
    }

    pub(super) fn flush(&mut self) {
        self.bar.add_rows(self.pending);
        self.live.add_rows(self.pending);
        self.pending = 0;
    }
}

impl RowSink for CountingSink<'_, '_> {
    fn row(&mut self, values: &[Value]) -> Result<(), DriverError> {
        self.pending += 1;
        if self.pending >= 4096 {
            self.flush();
        }
        match self.inner.as_mut() {
            Some(inner) => inner.row(values),
            None => Err(DriverError::other(
                "a row arrived after the binary stream began",
            )),
        }
    }

    fn raw(&mut self, format: RawFormat) -> Option<&mut dyn std::io::Write> {
        if self.binary.is_none() {
            // The target's answer does not change between calls; ask once
            // briefly, then hand the sink over for the whole stream.
            self.inner.as_mut()?.raw(format)?;
            let inner = self.inner.take()?;
            self.binary = Some(TallyWriter {
                inner: inner.raw(format)?,
                tally: &self.bar.link,
            });
        }
        self.binary.as_mut().map(|w| w as &mut dyn std::io::Write)
    }

    fn raw_rows(&mut self, rows: u64) {
        self.bar.link.add_rows(rows.saturating_sub(self.raw_rows));
        self.bar.add_rows(rows.saturating_sub(self.raw_rows));
        self.live.add_rows(rows.saturating_sub(self.raw_rows));
        self.raw_rows = self.raw_rows.max(rows);
    }

    fn wants_key_order(&self) -> bool {
        self.key_order
    }
}
