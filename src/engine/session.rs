//! A sync session: the journal opened for writing, the run lock held, and the
//! three ways to run a batch — new, resumed, or one model inside an existing one.

use super::plan::{self, Job, SyncOptions};
use super::resume_run::Tried;
use crate::config::Config;
use crate::exit::Outcome;
use crate::journal::{new_batch_id, BatchStatus, Journal, JournalError, ProgressStatus, RunLock};
use anyhow::Context;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the end of a batch waits for the journal mirror's last pass.
const MIRROR_FLUSH_WAIT: Duration = Duration::from_secs(5);

pub struct SyncSession<'c> {
    config: &'c Config,
    journal: Arc<Mutex<Journal>>,
    lock: RunLock,
    /// Sends the journal's changes to the central's mirror (when it has one).
    mirror: Option<crate::mirror::Pump>,
}

impl<'c> SyncSession<'c> {
    /// Open the journal and take the run lock (exit 3 when another sync holds it).
    /// Batches left `running` by a dead process are recorded `interrupted`.
    pub fn open(config: &'c Config) -> anyhow::Result<Self> {
        let mut journal = Journal::open(&config.journal.path)?;
        let lock = RunLock::acquire(&config.journal.path)?;
        journal.reconcile_liveness(true)?;
        let journal = Arc::new(Mutex::new(journal));
        Ok(SyncSession {
            config,
            mirror: crate::mirror::Pump::start(config, &journal),
            journal,
            lock,
        })
    }

    pub(super) fn journal(&self) -> std::sync::MutexGuard<'_, Journal> {
        self.journal.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Plan, journal and run a new batch.
    pub fn run_new(&mut self, opts: &SyncOptions) -> anyhow::Result<Outcome> {
        let jobs = plan::plan(self.config, opts)?;
        let threads = opts.threads.unwrap_or(self.config.engine.threads);
        let target = super::open_target(self.config, threads)?;
        let batch_id = new_batch_id();
        let options_json = serde_json::to_string(opts)?;
        let rows: Vec<_> = jobs.iter().map(Job::new_progress).collect();
        self.journal()
            .create_batch(&batch_id, &options_json, &rows)?;
        self.lock.set_holder(Some(&batch_id))?;
        crate::note!("Created new batch: {batch_id}");
        let total = jobs.len() as u64;
        self.execute(target.as_ref(), &batch_id, &jobs, threads, 0, total)
    }

    /// Resume `batch_id` (ours or the seed's form): completed rows are
    /// skipped, the others run again with the batch's stored options
    /// (`how.threads` overrides its thread count) against the current config
    /// (see `engine::resume` for rows the config or a newer batch changed).
    /// With `how.connections`, only the rows of those connections run; the
    /// others stay as they are, and so does the batch's end (interrupted or
    /// failed) until a resume runs them.
    pub fn resume(&mut self, batch_id: &str, how: &ResumeOptions) -> anyhow::Result<Outcome> {
        self.resume_in_run(batch_id, how, &mut Tried::default())
    }

    /// [`Self::resume`] as one of several batches of one run: a row whose
    /// (connection, table) this run already tried for a newer batch is
    /// left as it is, and the rows it runs are added to `tried`.
    pub(super) fn resume_in_run(
        &mut self,
        batch_id: &str,
        how: &ResumeOptions,
        tried: &mut Tried,
    ) -> anyhow::Result<Outcome> {
        let batch = self
            .journal()
            .batch(batch_id)?
            .ok_or_else(|| JournalError::UnknownBatch(batch_id.to_owned()))?;
        let batch_id = batch.batch_id.as_str();
        if batch.status == BatchStatus::Completed {
            crate::note!("Batch {batch_id} is already completed; nothing to resume.");
            return Ok(Outcome::Success);
        }
        if let Some(a) = self.journal().abandoned(batch_id)? {
            anyhow::bail!(
                "batch {batch_id} was abandoned at {} ({}); it is not resumed. Start a new batch with `{}`",
                crate::report::format::local_time(&a.abandoned_at),
                a.reason,
                crate::hint::cmd("sync-all")
            );
        }
        let opts: SyncOptions = serde_json::from_str(&batch.command_options).unwrap_or_default();
        let threads = how
            .threads
            .or(opts.threads)
            .unwrap_or(self.config.engine.threads);
        let target = super::open_target(self.config, threads)?;
        let rows = self.journal().progress_rows(batch_id, false)?;
        let done = rows.iter().filter(|r| r.status.is_done()).count();
        crate::note!("Resuming batch: {batch_id}");
        crate::note!("Progress: {done}/{} tables completed", rows.len());
        let mut jobs = Vec::new();
        let mut left = 0;
        for r in &rows {
            if r.status.is_done() {
                super::resume::skip_line(r, "already completed");
                continue;
            }
            if !how.takes(&r.connection_name) {
                continue;
            }
            let mut j = self.journal();
            let Some(job) = super::resume::job_for_unfinished(self.config, &mut j, &batch, r)?
            else {
                continue;
            };
            if let Some(newer) = tried.by(&job) {
                super::resume::left_line(r, newer);
                left += 1;
                continue;
            }
            jobs.push(job);
        }
        if jobs.is_empty() {
            return self.close_without_running(batch_id, left);
        }
        for job in &jobs {
            tried.add(job, batch_id);
        }
        self.journal().reopen_batch(batch_id)?;
        self.lock.set_holder(Some(batch_id))?;
        super::resume::announce(&jobs);
        let done = self
            .journal()
            .progress_rows(batch_id, false)?
            .iter()
            .filter(|r| r.status.is_done())
            .count();
        let total = (done + jobs.len()) as u64;
        self.execute(
            target.as_ref(),
            batch_id,
            &jobs,
            threads,
            done as u64,
            total,
        )
    }

    /// A resumed batch with nothing left to run: closed `completed` when
    /// every row is done now (newer batches completed the rest), else left
    /// as it was (`left` rows were tried in this run for a newer batch).
    fn close_without_running(&mut self, batch_id: &str, left: usize) -> anyhow::Result<Outcome> {
        let mut j = self.journal();
        let rows = j.progress_rows(batch_id, false)?;
        if rows.iter().all(|r| r.status.is_done()) {
            j.finish_batch(batch_id, BatchStatus::Completed)?;
            crate::note!("Batch {batch_id} closed: every table is completed.");
            return Ok(Outcome::Success);
        }
        let Some(b) = j.batch(batch_id)? else {
            return Ok(Outcome::Success);
        };
        if left > 0 {
            crate::note!(
                "Batch {batch_id} stays {}: its {} were tried in this run for a newer batch.",
                b.status,
                crate::report::format::count_of(left as i64, "unfinished table")
            );
        }
        Ok(match b.status {
            BatchStatus::Failed => Outcome::Failed,
            BatchStatus::Interrupted | BatchStatus::Running => Outcome::Failed,
            BatchStatus::Completed => Outcome::Success,
        })
    }

    /// Run `jobs` inside the existing batch `batch_id` (adding their rows).
    pub fn run_in_batch(&mut self, batch_id: &str, opts: &SyncOptions) -> anyhow::Result<Outcome> {
        let jobs = plan::plan(self.config, opts)?;
        let Some(batch) = self.journal().batch(batch_id)? else {
            return Err(JournalError::UnknownBatch(batch_id.to_owned()).into());
        };
        let batch_id = batch.batch_id.as_str();
        let threads = opts.threads.unwrap_or(self.config.engine.threads);
        let target = super::open_target(self.config, threads)?;
        let rows: Vec<_> = jobs.iter().map(Job::new_progress).collect();
        {
            let mut j = self.journal();
            j.add_progress_rows(batch_id, &rows)?;
            j.reopen_batch(batch_id)?;
        }
        self.lock.set_holder(Some(batch_id))?;
        crate::note!("Syncing into batch: {batch_id}");
        let all = self.journal().progress_rows(batch_id, false)?;
        let done = all.iter().filter(|r| r.status.is_done()).count() as u64;
        let total = all.len() as u64;
        self.execute(target.as_ref(), batch_id, &jobs, threads, done, total)
    }

    fn execute(
        &mut self,
        target: &dyn crate::driver::Endpoint,
        batch_id: &str,
        jobs: &[Job],
        threads: usize,
        done: u64,
        total: u64,
    ) -> anyhow::Result<Outcome> {
        let status = super::execute(
            self.config,
            &self.journal,
            target,
            batch_id,
            jobs,
            threads,
            done,
            total,
        )
        .with_context(|| format!("batch {batch_id}"))?;
        self.print_summary(batch_id)?;
        crate::notify::notify_batch_end(self.config, &mut self.journal(), batch_id);
        crate::metrics::write_after_batch(self.config, &self.journal());
        if let Some(pump) = &self.mirror {
            if !pump.flush(MIRROR_FLUSH_WAIT) {
                log::warn!(
                    "journal mirror: the central did not take batch {batch_id}'s last changes; they wait in the journal's outbox for the next command that reaches it"
                );
            }
        }
        Ok(match status {
            BatchStatus::Completed => Outcome::Success,
            BatchStatus::Failed => Outcome::Failed,
            BatchStatus::Interrupted | BatchStatus::Running => Outcome::Interrupted,
        })
    }

    fn print_summary(&self, batch_id: &str) -> anyhow::Result<()> {
        let j = self.journal();
        let Some(b) = j.batch(batch_id)? else {
            return Ok(());
        };
        let rows = j.progress_rows(batch_id, false)?;
        let records: i64 = rows.iter().map(|r| r.records_processed).sum();
        // A completed batch under -q says nothing: the exit code is the news.
        if b.status == BatchStatus::Completed && crate::logging::is_quiet() {
            return Ok(());
        }
        crate::say!();
        crate::say!(
            "Batch {batch_id} {}: {}/{} tables completed, {} failed, {}, {:.1}s",
            b.status,
            b.completed_tables,
            b.total_tables,
            b.failed_tables,
            crate::report::format::count_of_thousands(records, "record"),
            b.duration_seconds.unwrap_or(0.0)
        );
        for (failed, error) in failures_by_cause(&rows) {
            let conn = &failed[0].connection_name;
            let error = crate::report::format::error_for(error, conn);
            match failed.as_slice() {
                [r] => crate::say!(
                    "  ✗ {} from {conn}: {error}",
                    crate::report::format::table_label(&r.table_name, &r.model_name)
                ),
                _ => crate::say!(
                    "  ✗ {} from {conn} ({}): {error}",
                    crate::report::format::count_of(failed.len() as i64, "table"),
                    failed
                        .iter()
                        .map(|r| r.table_name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        if b.status != BatchStatus::Completed {
            crate::say!(
                "Resume with: {}",
                crate::hint::cmd(&format!("sync-all --resume={batch_id}"))
            );
        }
        Ok(())
    }
}

/// The failed rows grouped by connection and error (in plan order): a
/// branch that could not be reached has one cause for all its tables,
/// printed once.
fn failures_by_cause(
    rows: &[crate::journal::ProgressRow],
) -> Vec<(Vec<&crate::journal::ProgressRow>, &str)> {
    let mut groups: Vec<(Vec<&crate::journal::ProgressRow>, &str)> = Vec::new();
    for r in rows.iter().filter(|r| r.status == ProgressStatus::Failed) {
        let error = r.error_message.as_deref().unwrap_or("");
        match groups
            .iter_mut()
            .find(|(g, e)| g[0].connection_name == r.connection_name && *e == error)
        {
            Some((g, _)) => g.push(r),
            None => groups.push((vec![r], error)),
        }
    }
    groups
}

/// What a resume runs: its thread count and connections (empty: all).
#[derive(Debug, Clone, Default)]
pub struct ResumeOptions {
    pub threads: Option<usize>,
    pub connections: Vec<String>,
}

impl ResumeOptions {
    /// Does a row of connection `conn` run?
    pub fn takes(&self, conn: &str) -> bool {
        self.connections.is_empty() || self.connections.iter().any(|c| c == conn)
    }
}
