//! One (connection, table) copy with its retries: the journal is told before
//! each step, the target commits before the row says `completed`, and a
//! cancelled copy goes back to `pending`.

use super::cancel::Cancel;
use super::link_bytes::{journaled_bytes, TallyWriter};
use super::live::{LiveBoard, LiveTable};
use super::plan::Job;
use super::progress::{JobBar, Progress};
use super::rejects::RejectWriter;
use super::staged::StagedCopy;
use crate::config::{Config, Mode, Partitions};
use crate::driver::mirror::Tuning;
use crate::driver::registry::Route;
use crate::driver::{
    negotiate, DriverError, Endpoint, ErrorKind, RawFormat, ReadRequest, RowSink, Value,
    WriteOutcome, WritePlan,
};
use crate::journal::{Journal, JournalError, RowCounts};
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

    /// Run one job to its end (with retries).
    pub fn run_job(&self, job: &Job) -> JobEnd {
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
                        crate::report::format::count_of(counts.processed as i64, "record"),
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
                            j.record_retry(self.batch_id, conn, table, attempt, &e.message)
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

    /// One attempt: describe, prepare, (watermark), then stream in one
    /// target transaction, or in committed chunks into a stage that is
    /// published at the end (`progressed` says a chunk was committed).
    fn copy_once(&self, job: &Job, progressed: &mut bool) -> Result<RowCounts, DriverError> {
        let tcfg = job.table(self.config);
        let conn = job.connection.as_str();
        let src_ep = self
            .sources
            .get(conn)
            .ok_or_else(|| DriverError::other(format!("connection {conn} is not configured")))?;
        let mut source = src_ep.source().map_err(|e| name_server(e, conn))?;
        let _src_reg = self.cancel.register(source.cancel_handle());
        let schema = source
            .describe(tcfg.source_schema(), tcfg.source_table())?
            .ok_or_else(|| {
                DriverError::new(
                    ErrorKind::MissingTable,
                    format!(
                        "table {} not found at connection {conn}. Create it there, or remove/adjust the [[table]] entry for model {}",
                        tcfg.source, tcfg.model
                    ),
                )
            })?;
        for k in &tcfg.key {
            if schema.column(k).is_none() {
                return Err(DriverError::schema(format!(
                    "key column {k} of table {} is missing at connection {conn}; fix the [[table]] key of model {} or the source table",
                    tcfg.source, tcfg.model
                )));
            }
        }
        if let Some(c) = &tcfg.cursor {
            if schema.column(c).is_none() {
                return Err(DriverError::schema(format!(
                    "cursor column {c} of table {} is missing at connection {conn}",
                    tcfg.source
                )));
            }
        }
        let branch_col = self
            .config
            .target
            .as_ref()
            .map(|t| t.branch_column())
            .unwrap_or("branch");
        let target_schema = self
            .config
            .target
            .as_ref()
            .and_then(|t| t.schema.as_deref())
            .unwrap_or_else(|| self.target.default_schema());
        let plan = WritePlan {
            schema: target_schema,
            table: tcfg.target_table(),
            columns: &schema.columns,
            key: &tcfg.key,
            mode: tcfg.mode,
            cursor: tcfg.cursor.as_deref(),
            branch: tcfg.branch_tagged().then_some((branch_col, conn)),
            partition_by_branch: self
                .config
                .target
                .as_ref()
                .and_then(|t| t.partitions)
                .unwrap_or_default()
                == Partitions::PerBranch,
        };
        let mut target = self.target.target().map_err(|e| name_server(e, "target"))?;
        let _tgt_reg = self.cancel.register(target.cancel_handle());
        target.prepare(&plan)?;
        let watermark: Option<Value> = if tcfg.mode == Mode::Incremental {
            target.watermark(&plan)?
        } else {
            None
        };
        // The estimate only sizes the bars; without bars (cron) it is not
        // asked for (for SQLite it may read the whole table). An
        // incremental copy reads only what changed: the journal's count of
        // its last run says more than the size of the table.
        let estimate = if self.progress.has_bars() && tcfg.mode != Mode::Incremental {
            source.estimate_rows(tcfg.source_schema(), tcfg.source_table())
        } else {
            None
        };
        let key = (conn.to_owned(), job.table_name.clone());
        let bar =
            self.progress
                .start_job(&key, &format!("{conn}.{}", tcfg.target_table()), estimate);
        let live = self.live.start(conn, &job.table_name);
        let req = ReadRequest {
            schema: tcfg.source_schema(),
            table: tcfg.source_table(),
            columns: &schema.columns,
            key: &tcfg.key,
            since: match (&tcfg.cursor, &watermark) {
                (Some(c), Some(w)) if !w.is_null() => Some((c.as_str(), w)),
                _ => None,
            },
            range: Default::default(),
        };
        let mut rejects = RejectWriter::new(
            &self.config.storage_dir(),
            self.batch_id,
            conn,
            tcfg.target_table(),
        );
        let pairing = negotiate(&src_ep.capabilities(), &self.target.capabilities());
        log::debug!(
            "{}: {} from {conn}: {}",
            self.log_prefix,
            job.table_name,
            Route::of(&pairing, tcfg.mode).describe(tcfg.mode)
        );
        // mirror: by range checksums when both ends compute the same kind,
        // else through the write below (the target deletes unseen keys).
        let mirrored = match (tcfg.mode, pairing.checksums) {
            (Mode::Mirror, Some(dialect)) => {
                match source.range_checksums(&req, dialect, &mut rejects) {
                    Ok(Some(mut side)) => {
                        let tuning = Tuning {
                            factor: self.config.engine.mirror_factor,
                            leaf_rows: self.config.engine.mirror_leaf_rows,
                            ..Tuning::default()
                        };
                        let r = target.mirror(&plan, &mut *side, &tuning);
                        if let Ok(o) = &r {
                            bar.add_rows(o.processed);
                            live.add_rows(o.processed);
                        }
                        Some(r)
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                }
            }
            _ => None,
        };
        let staged = mirrored.is_none() && tcfg.mode == Mode::Full && target.can_stage(&plan)?;
        let outcome: Result<WriteOutcome, DriverError> = match mirrored {
            Some(outcome) => outcome,
            None if staged => {
                let job = StagedCopy {
                    conn,
                    table: tcfg.target_table(),
                    plan: &plan,
                    req: &req,
                    bar: &bar,
                    live: &live,
                };
                self.staged_copy(
                    &job,
                    source.as_mut(),
                    target.as_mut(),
                    &mut rejects,
                    progressed,
                )
            }
            None => {
                let mut feed = |sink: &mut dyn RowSink| {
                    let mut counting = CountingSink::new(sink, &bar, &live);
                    let n = source.read(&req, &mut counting, &mut rejects);
                    counting.flush();
                    n
                };
                target.write(&plan, &mut feed)
            }
        };
        let (bytes_read, bytes_written) = match &outcome {
            Ok(o) => journaled_bytes(o, tcfg.mode, staged, &bar.link, || target.copy_bytes_sent()),
            Err(_) => (None, None),
        };
        bar.finish(self.progress, &key);
        rejects.finish()?;
        let outcome = outcome?;
        if rejects.count > 0 {
            log::warn!(
                "{}: {} rows of {} from {conn} were rejected (a NULL key, or a value no target can hold); reasons and rows in {}",
                self.log_prefix,
                rejects.count,
                tcfg.target_table(),
                rejects.path().display()
            );
        }
        Ok(RowCounts {
            processed: outcome.processed + rejects.count,
            skipped: outcome.skipped + rejects.count,
            written: outcome.processed.saturating_sub(outcome.skipped),
            deleted: outcome.deleted,
            bytes_read,
            bytes_written,
        })
    }
}

/// Exponential backoff with jitter: base·2^(attempt-1) · [0.5, 1.5), never
/// more than `max`.
fn backoff(base: Duration, attempt: u32, max: Duration) -> Duration {
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

/// Errors from opening a session name their server; drivers usually do, so
/// the name is added only when missing.
fn name_server(e: DriverError, server: &str) -> DriverError {
    if e.message.contains(server) {
        e
    } else {
        e.context(server)
    }
}
