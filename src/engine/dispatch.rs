//! Hands a step's tables to the copy pool as the probes of their branches
//! answer (`reach.rs`): the tables of a reached branch are copied, those of
//! a branch that cannot be reached or logged into fail at once with the
//! probe's cause, and a slow or dead branch never holds up the others' tables.

use super::plan::Job;
use super::reach::{failure_words, Verdict};
use super::worker::{JobEnd, RunContext};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

/// How often the dispatcher looks at the cancel flag while it waits for a probe.
const LOOK: Duration = Duration::from_millis(200);

/// The probes' answers of one run, as they arrive.
pub(super) struct Dispatch<'j> {
    verdicts: HashMap<String, Verdict>,
    answers: Receiver<(String, Verdict)>,
    /// Every job of the run (for the count of a dead branch's tables).
    all: &'j [Job],
}

impl<'j> Dispatch<'j> {
    pub(super) fn new(answers: Receiver<(String, Verdict)>, all: &'j [Job]) -> Self {
        Dispatch {
            verdicts: HashMap::new(),
            answers,
            all,
        }
    }

    /// Run `jobs` (one step) on `pool` to their end: each starts when its
    /// branch's probe has answered. Returns when all have ended, or at once
    /// (the rest left pending) when the run is cancelled.
    pub(super) fn run_step(
        &mut self,
        pool: &rayon::ThreadPool,
        ctx: &RunContext<'_>,
        jobs: Vec<&'j Job>,
    ) {
        let mut waiting = jobs;
        pool.in_place_scope(|s| loop {
            let mut unreached: Vec<&Job> = Vec::new();
            waiting.retain(|&job| match self.verdicts.get(&job.connection) {
                None => true,
                Some(&Verdict::Reached { retries }) => {
                    s.spawn(move |_| {
                        let end = ctx.run_job(job, retries);
                        if end != JobEnd::Pending {
                            let key = (job.connection.clone(), job.table_name.clone());
                            ctx.progress.table_done(&key, end == JobEnd::Failed);
                        }
                    });
                    false
                }
                Some(Verdict::Unreached { .. }) => {
                    unreached.push(job);
                    false
                }
                Some(Verdict::Cancelled) => false,
            });
            self.fail_untried(ctx, &unreached);
            if waiting.is_empty() || ctx.cancel.is_cancelled() {
                break;
            }
            match self.answers.recv_timeout(LOOK) {
                Ok((conn, verdict)) => {
                    self.report(ctx, &conn, &verdict);
                    self.verdicts.insert(conn, verdict);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Every probe has answered: a job still waiting has no
                // branch to run on (cannot happen: each gets a verdict).
                Err(RecvTimeoutError::Disconnected) => break,
            }
        });
    }

    /// Fail `jobs` (of unreached branches) with their probe's cause, one
    /// journal transaction per branch.
    fn fail_untried(&self, ctx: &RunContext<'_>, jobs: &[&Job]) {
        let mut by_conn: Vec<(&str, Vec<&str>)> = Vec::new();
        for job in jobs {
            match by_conn.iter_mut().find(|(c, _)| *c == job.connection) {
                Some((_, tables)) => tables.push(&job.table_name),
                None => by_conn.push((&job.connection, vec![&job.table_name])),
            }
        }
        for (conn, tables) in by_conn {
            let Some(Verdict::Unreached { error, retries }) = self.verdicts.get(conn) else {
                continue;
            };
            let written = ctx.journal(|j| {
                j.fail_unreached(ctx.batch_id, conn, &tables, *retries, &error.message)
            });
            if written.is_none() {
                return;
            }
            for table in tables {
                ctx.progress
                    .table_done(&(conn.to_owned(), table.to_owned()), true);
            }
        }
    }

    /// The one line (log and screen) of a branch whose tables fail untried.
    fn report(&self, ctx: &RunContext<'_>, conn: &str, verdict: &Verdict) {
        let Verdict::Unreached { error, retries } = verdict else {
            return;
        };
        let n = self.all.iter().filter(|j| j.connection == conn).count();
        let tables = crate::report::format::count_of(n as i64, "table");
        log::error!(
            "{}: {conn} {}, its {tables} fail without being tried: {}. Resume once it answers: {}",
            ctx.log_prefix,
            failure_words(error, *retries),
            crate::report::format::error_for(&error.message, conn),
            crate::hint::cmd(&format!("sync-all --resume={}", ctx.batch_id))
        );
        ctx.progress.table_line(&format!(
            "  ✗ {conn}: {tables} not tried ({})",
            failure_words(error, *retries)
        ));
    }
}
