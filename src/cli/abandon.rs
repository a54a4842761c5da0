//! `sync-status --abandon`: give up failed or interrupted batches — the ids
//! given, or every one started before `--older-than` — so that cron stops
//! resuming them (a dead branch's batches would otherwise be retried every
//! hour, one by one). A running batch is never abandoned; a completed one
//! has nothing to give up.

use super::prune::before_now;
use super::status::find_batch;
use crate::config::parse_duration;
use crate::exit::Outcome;
use crate::journal::{format_ts, Journal, JournalError};

/// What to give up, and why.
pub(super) struct Abandon<'a> {
    pub ids: &'a [String],
    pub older_than: Option<&'a str>,
    pub reason: &'a str,
}

impl Abandon<'_> {
    /// Every id is checked before anything is written: a typo abandons
    /// nothing (exit 2). A batch that cannot be abandoned (running,
    /// completed) is named and the others still are (exit 1).
    pub(super) fn run(&self, journal: &mut Journal) -> anyhow::Result<Outcome> {
        if self.ids.is_empty() && self.older_than.is_none() {
            anyhow::bail!(
                "--abandon needs batch ids or --older-than DURATION, e.g. `{}` or `{}`",
                crate::hint::cmd("sync-status --abandon sync_20261126084522_AbCd1234"),
                crate::hint::cmd("sync-status --abandon --older-than 7d")
            );
        }
        let mut ids = Vec::new();
        for id in self.ids {
            let id = find_batch(journal, id)?.batch_id;
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if let Some(age) = self.older_than {
            let age = parse_duration(age).map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
            let cutoff = format_ts(before_now(age));
            let old = journal.abandonable_before(&cutoff)?;
            if old.is_empty() && ids.is_empty() {
                crate::say!(
                    "No failed or interrupted batch started before {} is left to abandon.",
                    crate::report::format::local_time(&cutoff)
                );
                return Ok(Outcome::Success);
            }
            for b in old {
                if !ids.contains(&b.batch_id) {
                    ids.push(b.batch_id);
                }
            }
        }
        let mut outcome = Outcome::Success;
        for id in &ids {
            if let Some(a) = journal.abandoned(id)? {
                crate::say!(
                    "Batch {id} was already abandoned at {} ({}).",
                    crate::report::format::local_time(&a.abandoned_at),
                    a.reason
                );
                continue;
            }
            match journal.abandon_batch(id, self.reason) {
                Ok(()) => crate::say!(
                    "Batch {id} abandoned ({}): sync-resume-interrupted no longer resumes it.",
                    self.reason
                ),
                Err(e @ JournalError::NotAbandonable { .. }) => {
                    crate::say!("Batch {id} not abandoned: {e}.");
                    outcome = Outcome::Failed;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(outcome)
    }
}
