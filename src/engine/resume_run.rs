//! One `sync-resume-interrupted` run over every unfinished batch, newest
//! first. Newest first is what lets "completed by a newer batch" apply: a
//! table the newest batch completes closes the same table of every older
//! batch (see `resume.rs`), so a branch that came back is copied once, not
//! once per batch it missed. A table this run already tried for a newer batch
//! and that did not complete (its branch still down) is not tried again for
//! an older one: one run copies (or tries) each (connection, table) once.
//! A batch that fails does not stop the run; the worst outcome decides the
//! exit code.

use super::plan::Job;
use super::session::{ResumeOptions, SyncSession};
use super::EngineError;
use crate::exit::Outcome;
use crate::journal::{BatchStatus, Journal, JournalError};
use std::collections::HashMap;

/// The (connection, table) pairs this run has run, with the batch each ran in.
#[derive(Debug, Default)]
pub struct Tried(HashMap<(String, String), String>);

impl Tried {
    /// The batch this run already ran `job`'s (connection, table) in.
    pub fn by(&self, job: &Job) -> Option<&str> {
        self.0
            .get(&(job.connection.clone(), job.table_name.clone()))
            .map(String::as_str)
    }

    pub fn add(&mut self, job: &Job, batch_id: &str) {
        self.0.insert(
            (job.connection.clone(), job.table_name.clone()),
            batch_id.to_owned(),
        );
    }
}

/// All batches a cron job should finish: `interrupted` or `failed`, not
/// abandoned, and (with `how.connections`) holding an unfinished row of one
/// of those connections; newest first.
pub fn resumable_batches(
    journal: &Journal,
    how: &ResumeOptions,
) -> Result<Vec<String>, JournalError> {
    let mut ids = Vec::new();
    let statuses = [BatchStatus::Interrupted, BatchStatus::Failed];
    for b in journal.batches_with_status(&statuses)?.into_iter().rev() {
        if journal.abandoned(&b.batch_id)?.is_some() {
            continue;
        }
        let wanted = how.connections.is_empty()
            || journal
                .progress_rows(&b.batch_id, false)?
                .iter()
                .any(|r| !r.status.is_done() && how.takes(&r.connection_name));
        if wanted {
            ids.push(b.batch_id);
        }
    }
    Ok(ids)
}

impl SyncSession<'_> {
    /// Resume every interrupted or failed batch, newest first (with
    /// `how.connections`, those that have unfinished rows of them). A batch
    /// that fails, or cannot be resumed, does not stop the others; an error
    /// of the journal or of `[target]` does (nothing else could run either).
    pub fn resume_all(&mut self, how: &ResumeOptions) -> anyhow::Result<Outcome> {
        let ids = resumable_batches(&self.journal(), how)?;
        if ids.is_empty() {
            crate::note!("Nothing to resume.");
            return Ok(Outcome::Success);
        }
        let mut worst = Outcome::Success;
        let mut tried = Tried::default();
        for id in ids {
            match self.resume_in_run(&id, how, &mut tried) {
                Ok(Outcome::Interrupted) => return Ok(Outcome::Interrupted),
                Ok(Outcome::Failed) => worst = Outcome::Failed,
                Ok(Outcome::Success) => {}
                Err(e) if stops_the_run(&e) => return Err(e),
                Err(e) => {
                    log::error!("batch {id} could not be resumed: {e:#}; going on with the others");
                    worst = Outcome::Failed;
                }
            }
        }
        Ok(worst)
    }
}

/// An error no other batch would escape: the journal's, or the target's.
fn stops_the_run(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<JournalError>()
            || matches!(
                c.downcast_ref::<EngineError>(),
                Some(EngineError::Journal(_) | EngineError::Target(_))
            )
    })
}
