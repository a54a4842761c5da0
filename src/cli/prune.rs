//! `prune`: delete old batches and their progress rows (never a running one),
//! so the journal does not grow forever under a cron schedule.

use super::status::{emit, explain_damage, open_for_reading};
use super::Global;
use crate::config::parse_duration;
use crate::exit::Outcome;
use crate::journal::{format_ts, BatchStatus};
use crate::report::prune::render_prune;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Age cut-off, e.g. 30d
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
    /// Only say what would be deleted
    #[arg(long)]
    pub dry_run: bool,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.prune(global).map_err(explain_damage)
    }

    fn prune(self, global: &Global) -> anyhow::Result<Outcome> {
        let age =
            parse_duration(&self.older_than).map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
        let cutoff = format_ts(before_now(age));
        // Liveness first: a batch whose process died is no longer running.
        let mut journal = open_for_reading(global)?;
        let mut doomed = journal.prunable_batches(&cutoff)?;
        let kept: Vec<_> = journal
            .batches_with_status(&[BatchStatus::Running])?
            .into_iter()
            .filter(|b| b.started_at < cutoff)
            .collect();
        if !self.dry_run && !doomed.is_empty() {
            let ids: Vec<String> = doomed.iter().map(|b| b.batch_id.clone()).collect();
            let deleted = journal.delete_batches(&ids)?;
            if deleted < ids.len() {
                // A batch resumed meanwhile is running again and was kept.
                let mut gone = Vec::with_capacity(deleted);
                for b in doomed {
                    if journal.batch(&b.batch_id)?.is_none() {
                        gone.push(b);
                    }
                }
                doomed = gone;
            }
        }
        emit(&render_prune(&doomed, &kept, &cutoff, self.dry_run))?;
        Ok(Outcome::Success)
    }
}

/// Now minus `age`; an age beyond the calendar's range reaches back to its
/// start (nothing is that old).
pub(super) fn before_now(age: std::time::Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}
