//! `sync-status --abandon`: give up failed or interrupted batches — the ids
//! given, or every one started before `--older-than` — so that cron stops
//! resuming them (a dead branch's batches would otherwise be retried every
//! hour, one by one). A running batch is never abandoned; a completed one
//! has nothing to give up.

use super::prune::before_now;
use super::status::find_batch;
use crate::config::parse_duration;
use crate::exit::Outcome;
use crate::journal::{format_ts, BatchStatus, Journal, JournalError};

/// What to give up, and why.
pub(super) struct Abandon<'a> {
    pub ids: &'a [String],
    pub older_than: Option<&'a str>,
    pub reason: &'a str,
}

impl Abandon<'_> {
    /// Every id is checked before anything is written: a typo, or a batch
    /// that is running or completed, abandons nothing (exit 2).
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
            let batch = find_batch(journal, id)?;
            if matches!(batch.status, BatchStatus::Running | BatchStatus::Completed) {
                return Err(JournalError::NotAbandonable {
                    batch_id: batch.batch_id,
                    status: batch.status,
                }
                .into());
            }
            if !ids.contains(&batch.batch_id) {
                ids.push(batch.batch_id);
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
        for id in &ids {
            if let Some(a) = journal.abandoned(id)? {
                crate::say!(
                    "Batch {id} was already abandoned at {} ({}).",
                    crate::report::format::local_time(&a.abandoned_at),
                    a.reason
                );
                continue;
            }
            journal.abandon_batch(id, self.reason)?;
            crate::say!(
                "Batch {id} abandoned ({}): sync-resume-interrupted no longer resumes it.",
                self.reason
            );
        }
        Ok(Outcome::Success)
    }
}
