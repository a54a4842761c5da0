//! The copy engine: runs a batch's jobs on a dedicated rayon pool (step 1,
//! then step 2), one worker per table copy, with retries, cancellation, the
//! journal written before each step, and live progress. Each branch is
//! probed once per batch before its tables start (`reach.rs`): one that
//! cannot connect fails only its own tables (`dispatch.rs`).

mod attempt;
pub mod cancel;
mod dispatch;
mod link_bytes;
pub mod live;
pub mod plan;
mod progress;
mod progress_keys;
mod reach;
mod rejects;
mod resume;
pub mod resume_run;
mod schema_describe;
pub mod schema_plan;
pub mod session;
mod staged;
mod worker;

pub use plan::{Job, SyncOptions};
pub use session::{ResumeOptions, SyncSession};

use crate::config::Config;
use crate::driver::{open_endpoint, Endpoint};
use crate::journal::{BatchStatus, Journal, JournalError, ProgressStatus};
use cancel::Cancel;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use worker::RunContext;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Driver(#[from] crate::driver::DriverError),
    /// The target cannot be opened: no table could be written.
    #[error("{0}")]
    Target(crate::driver::DriverError),
    #[error("cannot start the worker pool: {0}")]
    Pool(String),
}

/// How often the live figures of the copies in flight are written.
const LIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
/// How often the journal records that the run is alive: the precision of the
/// "Interrupted at" time and the working time after a SIGKILL or power cut.
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// The target's endpoint, opened before anything is journaled: an error in
/// `[target]` (its URL, a missing secret) stops the command before it
/// creates or reopens a batch (exit 2), since no table could be written. A
/// target that is only down fails the tables (retried per table).
pub fn open_target(config: &Config, threads: usize) -> Result<Box<dyn Endpoint>, EngineError> {
    let target_cfg = config.target.as_ref().ok_or_else(|| {
        EngineError::Target(crate::driver::DriverError::other(
            "no [target] in the config",
        ))
    })?;
    open_endpoint(target_cfg, &config.engine, threads.max(1) as u32).map_err(EngineError::Target)
}

/// Run `jobs` of batch `batch_id` to their end and close the batch.
/// `already_done` is how many of the batch's tables were finished before.
/// A branch whose endpoint cannot be opened (a missing secret) or whose
/// probe fails fails its own tables (`reach.rs`); the others run.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    config: &Config,
    journal: &Mutex<Journal>,
    target: &dyn Endpoint,
    batch_id: &str,
    jobs: &[Job],
    threads: usize,
    already_done: u64,
    total: u64,
) -> Result<BatchStatus, EngineError> {
    let threads = threads.max(1);
    let (answer, answers) = std::sync::mpsc::channel();
    let sources = reach::open_sources(config, jobs, threads, &answer);

    // One schema plan for the batch, before any copy. A plan that cannot
    // be made (the central does not answer) stops nothing: each copy then
    // prepares its own table, and fails or retries as it would have.
    let plans = schema_plan::run(config, target, &sources, jobs, Some(journal), false)
        .unwrap_or_else(|e| {
            log::warn!("schema plan not made ({e}): each copy prepares its own table");
            Vec::new()
        });
    let refused = refuse_tables(&plans, jobs, journal, batch_id)?;

    let cancel = Arc::new(Cancel::default());
    cancel::install_signal_handler(cancel.clone());
    let (journal_path, id) = (
        journal
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .path()
            .to_path_buf(),
        batch_id.to_owned(),
    );
    let hook_path = journal_path.clone();
    cancel::set_on_stuck(Some(Box::new(move || {
        // A second connection: the run's own may be held by a stuck worker.
        if let Ok(mut j) = Journal::open(&hook_path) {
            let failed = j
                .progress_rows(&id, true)
                .map(|r| !r.is_empty())
                .unwrap_or(false);
            let status = if failed {
                BatchStatus::Failed
            } else {
                BatchStatus::Interrupted
            };
            let _ = j.finish_batch(&id, status);
        }
    })));
    let command = journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .batch(batch_id)?
        .and_then(|b| serde_json::from_str::<SyncOptions>(&b.command_options).ok())
        .map(|o| o.command)
        .unwrap_or_default();
    let log_prefix = if command == "sync-table" {
        "SyncTable"
    } else {
        "SyncAll"
    };
    // The rows each table is expected to bring: its count in the journal's
    // last completed run (a copy's own estimate replaces it as it starts).
    let last_counts = journal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .last_row_counts()?;
    let planned: Vec<_> = jobs
        .iter()
        .map(|j| {
            let key = (j.connection.clone(), j.table_name.clone());
            let expected = last_counts.get(&key).copied();
            (key, expected)
        })
        .collect();
    let progress = progress::Progress::new(total, already_done, &planned, log_prefix);
    for j in jobs.iter().filter(|j| refused.contains(&j.table_index)) {
        progress.table_done(&(j.connection.clone(), j.table_name.clone()), true);
    }
    let journal_error = Mutex::new(None);
    let attempts = Mutex::new(HashMap::new());
    let live = live::LiveBoard::new(
        journal_path.parent().unwrap_or(std::path::Path::new(".")),
        batch_id,
    );
    let ctx = RunContext {
        config,
        batch_id,
        journal,
        target,
        sources: &sources,
        cancel: &cancel,
        progress: &progress,
        retries: config.engine.retries,
        backoff: config.engine.retry_backoff.0,
        backoff_max: config.engine.retry_backoff_max.0,
        chunk_rows: config.engine.chunk_rows,
        journal_error: &journal_error,
        attempts: &attempts,
        log_prefix,
        live: &live,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("branchsync-copy-{i}"))
        .build()
        .map_err(|e| EngineError::Pool(e.to_string()))?;

    let done = std::sync::atomic::AtomicBool::new(false);
    let stall_limit = stall_limit(config);
    std::thread::scope(|scope| {
        let dog = scope.spawn(|| {
            watchdog(
                &done,
                &attempts,
                stall_limit,
                &cancel,
                &journal_path,
                batch_id,
            )
        });
        let beat = scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::park_timeout(std::time::Duration::from_secs(1));
                progress.heartbeat();
            }
        });
        let writer = scope.spawn(|| {
            let mut beat_at = std::time::Instant::now();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::park_timeout(LIVE_EVERY);
                live.write();
                if beat_at.elapsed() >= HEARTBEAT_EVERY {
                    beat_at = std::time::Instant::now();
                    // try_lock: a worker holding the journal just touched it.
                    if let Ok(mut j) = journal.try_lock() {
                        if let Err(e) = j.heartbeat(batch_id) {
                            log::debug!("journal heartbeat: {e}");
                        }
                    }
                }
            }
        });
        let retry = reach::Retry {
            retries: config.engine.retries,
            backoff: config.engine.retry_backoff.0,
            backoff_max: config.engine.retry_backoff_max.0,
        };
        for (name, endpoint) in &sources {
            let (answer, cancel) = (answer.clone(), &cancel);
            scope.spawn(move || {
                reach::probe(name, endpoint.as_ref(), retry, cancel, log_prefix, &answer)
            });
        }
        drop(answer);
        let mut dispatch = dispatch::Dispatch::new(answers, jobs);
        for step in [1, 2] {
            let step_jobs: Vec<&Job> = jobs
                .iter()
                .filter(|j| j.step == step && !refused.contains(&j.table_index))
                .collect();
            if step_jobs.is_empty() || cancel.is_cancelled() {
                continue;
            }
            dispatch.run_step(&pool, &ctx, step_jobs);
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake it now rather than at its next look: the run ends at once.
        dog.thread().unpark();
        beat.thread().unpark();
        writer.thread().unpark();
    });
    live.remove();
    progress.finish();
    cancel::set_on_stuck(None);

    if let Some(e) = journal_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        return Err(e.into());
    }
    let mut j = journal.lock().unwrap_or_else(|e| e.into_inner());
    let status = if cancel.is_cancelled() {
        BatchStatus::Interrupted
    } else {
        let rows = j.progress_rows(batch_id, false)?;
        if rows.iter().any(|r| r.status == ProgressStatus::Failed) {
            BatchStatus::Failed
        } else if rows.iter().any(|r| {
            matches!(
                r.status,
                ProgressStatus::Pending | ProgressStatus::InProgress
            )
        }) {
            BatchStatus::Interrupted
        } else {
            BatchStatus::Completed
        }
    };
    j.finish_batch(batch_id, status)?;
    Ok(status)
}

/// The tables whose plan refused them: their copies fail before any row
/// moves, with the plan's message.
fn refuse_tables(
    plans: &[schema_plan::TablePlan],
    jobs: &[Job],
    journal: &Mutex<Journal>,
    batch_id: &str,
) -> Result<std::collections::HashSet<usize>, EngineError> {
    let mut refused = std::collections::HashSet::new();
    for p in plans {
        let Some(why) = &p.refusal else { continue };
        refused.insert(p.table_index);
        for j in jobs.iter().filter(|j| j.table_index == p.table_index) {
            let msg = format!("{}: {why}", p.table);
            log::error!("Plan: refused {} from {}: {msg}", p.table, j.connection);
            journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .fail_progress(batch_id, &j.connection, &j.table_name, &msg)?;
        }
    }
    Ok(refused)
}

/// The longest one attempt of a table copy can take while its links work:
/// every statement is bounded by `statement_timeout` at the server, and the
/// source and target statements of a copy overlap. Longer means a link went
/// silent with its TCP session still open (which no timeout of the client
/// library sees).
fn stall_limit(config: &Config) -> std::time::Duration {
    config.engine.statement_timeout.0 * 2
        + config.engine.connect_timeout.0
        + std::time::Duration::from_secs(2)
}

/// Watches in-flight attempts; a stalled one stops the run: the others are
/// cancelled (rolled back, pending again), the stalled table is recorded
/// `failed`, and the process exits 1 after the grace period (its blocked
/// thread cannot be woken).
fn watchdog(
    done: &std::sync::atomic::AtomicBool,
    attempts: &Mutex<HashMap<(String, String), std::time::Instant>>,
    limit: std::time::Duration,
    cancel: &Arc<Cancel>,
    journal_path: &std::path::Path,
    batch_id: &str,
) {
    while !done.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::park_timeout(std::time::Duration::from_millis(200));
        if done.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let stalled = attempts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(_, started)| started.elapsed() > limit)
            .map(|(k, _)| k.clone());
        let Some((conn, table)) = stalled else {
            continue;
        };
        let msg = format!(
            "no answer from {conn} for over {}s while copying {table}: the link stalled with its connection still open. Check the network path to {conn}, then resume the batch",
            limit.as_secs()
        );
        log::error!(
            "SyncAll: Failed for {table} from {conn}: {msg}. Resume with: {}",
            crate::hint::cmd(&format!("sync-all --resume={batch_id}"))
        );
        let (path, id) = (journal_path.to_path_buf(), batch_id.to_owned());
        cancel::start_grace_timer(
            1,
            Some(Box::new(move || {
                if let Ok(mut j) = Journal::open(&path) {
                    let _ = j.fail_progress(&id, &conn, &table, &msg);
                }
            })),
        );
        cancel.cancel();
        return;
    }
}
