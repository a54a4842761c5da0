//! `prune`: delete old batches and their progress rows (never a running one),
//! so the journal does not grow forever under a cron schedule.
//!
//! `m` is minutes, so `--older-than 1m` written for "a month" would delete
//! nearly everything: a cut-off under an hour is refused unless `--yes` says
//! it is meant, and the refusal shows how a month is written (`1mo`).

use super::status::{emit, explain_damage, open_for_reading};
use super::Global;
use crate::config::parse_duration;
use crate::exit::Outcome;
use crate::journal::{format_ts, BatchStatus};
use crate::report::prune::render_prune;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Age cut-off: 30d, 2w or 3mo (mo = 30 days; m is minutes). Under one
    /// hour it is refused unless --yes is given
    #[arg(long, value_name = "DURATION")]
    pub older_than: String,
    /// Only say what would be deleted
    #[arg(long)]
    pub dry_run: bool,
    /// Accept a cut-off under one hour (e.g. --older-than 30m --yes)
    #[arg(long)]
    pub yes: bool,
}

/// The shortest cut-off taken without `--yes`.
const SHORTEST: std::time::Duration = std::time::Duration::from_secs(3600);

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.prune(global).map_err(explain_damage)
    }

    fn prune(self, global: &Global) -> anyhow::Result<Outcome> {
        let age =
            parse_duration(&self.older_than).map_err(|e| anyhow::anyhow!("--older-than: {e}"))?;
        if age < SHORTEST && !self.yes {
            anyhow::bail!(
                "--older-than {} means {}{}: it would delete every \
                 finished batch started more than {} ago. A month is written mo: `{}`. \
                 To prune batches younger than an hour, add --yes: `{}`",
                self.older_than.trim(),
                spelled(age),
                if self.older_than.contains('m') {
                    ", not a month (m is minutes)"
                } else {
                    ""
                },
                spelled(age),
                crate::hint::cmd("prune --older-than 1mo"),
                crate::hint::cmd(&format!(
                    "prune --older-than {} --yes",
                    crate::hint::shell_quote(self.older_than.trim())
                )),
            );
        }
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
        // Under cron (-q) a prune that went as asked prints nothing.
        if !global.quiet || self.dry_run {
            emit(&render_prune(&doomed, &kept, &cutoff, self.dry_run))?;
        }
        Ok(Outcome::Success)
    }
}

/// A short age in words: "1 minute", "90 seconds".
fn spelled(age: std::time::Duration) -> String {
    let secs = age.as_secs();
    let (n, unit) = if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Now minus `age`; an age beyond the calendar's range reaches back to its
/// start (nothing is that old).
pub(super) fn before_now(age: std::time::Duration) -> chrono::DateTime<chrono::Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| chrono::Utc::now().checked_sub_signed(age))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC)
}
