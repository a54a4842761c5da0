//! `sync-status`: show one batch in detail, or the list of batches. Also the
//! opening of the journal that every reading command shares: load `[journal]`,
//! open without creating, and record dead `running` batches as `interrupted`.

use super::Global;
use crate::exit::Outcome;
use crate::journal::{is_batch_id, BatchRow, BatchStatus, Journal, JournalError};
use crate::report::{fleet, json, status, Paint};
use anyhow::Context;
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch to show [default: the latest]
    pub batch_id: Option<String>,
    /// Show the latest batch
    #[arg(long, conflicts_with = "batch_id")]
    pub latest: bool,
    /// List batches (20 newest unless --limit)
    #[arg(long, conflicts_with_all = ["batch_id", "latest", "failed"])]
    pub all: bool,
    /// Only failed tables
    #[arg(long)]
    pub failed: bool,
    /// Print JSON instead of tables
    #[arg(long)]
    pub json: bool,
    /// How many batches --all lists
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Give up these failed or interrupted batches (the BATCH_ID before it,
    /// the ids after it, or every one older than --older-than): the journal
    /// records it and sync-resume-interrupted no longer resumes them
    #[arg(long, num_args = 0.., value_name = "ID", conflicts_with_all = ["latest", "all", "failed", "json"])]
    pub abandon: Option<Vec<String>>,
    /// With --abandon: every failed or interrupted batch started before this
    /// age (e.g. 7d), never a running one
    #[arg(long, value_name = "DURATION", requires = "abandon")]
    pub older_than: Option<String>,
    /// Why the batches are given up (recorded with --abandon)
    #[arg(long, requires = "abandon", value_name = "TEXT")]
    pub reason: Option<String>,
    /// Every runner's latest batch, from the journal mirror in the central
    /// database (needs [target]); sends this journal's pending changes first
    #[arg(long, conflicts_with_all = ["batch_id", "latest", "all", "failed"])]
    pub fleet: bool,
    /// With --fleet: a runner whose last completed batch is older is stale
    #[arg(long, default_value = "26h", value_name = "DURATION", value_parser = parse_age, requires = "fleet")]
    pub stale: std::time::Duration,
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(s)
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.show(global).map_err(explain_damage)
    }

    fn show(self, global: &Global) -> anyhow::Result<Outcome> {
        if self.fleet {
            return self.show_fleet(global);
        }
        let mut journal = open_for_reading(global)?;
        let paint = Paint::for_stdout();
        if let Some(more) = &self.abandon {
            let ids: Vec<String> = self.batch_id.iter().chain(more).cloned().collect();
            let abandon = super::abandon::Abandon {
                ids: &ids,
                older_than: self.older_than.as_deref(),
                reason: self.reason.as_deref().unwrap_or("given up by the operator"),
            };
            return abandon.run(&mut journal);
        }
        let text = if self.all {
            let batches = journal.list_batches(self.limit)?;
            if self.json {
                json::batch_list_json(&batches)
            } else {
                let mut abandoned = Vec::new();
                for b in &batches {
                    if journal.abandoned(&b.batch_id)?.is_some() {
                        abandoned.push(b.batch_id.clone());
                    }
                }
                match journal.batch_count()? {
                    0 => status::render_no_batches(journal.path()),
                    total => status::render_batch_list(&batches, total, &abandoned, paint),
                }
            }
        } else {
            let batch = match &self.batch_id {
                Some(id) => Some(find_batch(&journal, id)?),
                None => journal.latest_batch()?,
            };
            match batch {
                Some(batch) => {
                    let rows = journal.progress_rows(&batch.batch_id, self.failed)?;
                    if self.json {
                        json::batch_json(&batch, &rows)
                    } else {
                        let segments = journal.segments(&batch.batch_id)?;
                        let abandoned = journal.abandoned(&batch.batch_id)?;
                        let live = (batch.status == BatchStatus::Running).then(|| {
                            crate::engine::live::read(
                                journal.path().parent().unwrap_or(std::path::Path::new(".")),
                                &batch.batch_id,
                            )
                        });
                        let history = status::RunHistory {
                            segments: &segments,
                            abandoned: abandoned.as_ref(),
                            live: live.as_ref(),
                        };
                        status::render_batch_detail(&batch, &rows, history, self.failed, paint)
                    }
                }
                None if self.json => {
                    json::pretty(&serde_json::json!({"batch": null, "tables": []}))
                }
                None => status::render_no_batches(journal.path()),
            }
        };
        emit(&text)?;
        Ok(Outcome::Success)
    }
}

impl Args {
    fn show_fleet(&self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_config()?;
        let runners = crate::mirror::fleet(&config, open_for_reading(global)?)?;
        let entries = fleet::entries(&runners, self.stale, chrono::Utc::now());
        let text = if self.json {
            fleet::fleet_json(&entries)
        } else {
            fleet::render_fleet(&runners, &entries, Paint::for_stdout())
        };
        emit(&text)?;
        Ok(Outcome::Success)
    }
}

/// Open the configured journal for a command that reads it: only `[journal]`
/// of the config is needed, a missing file is an empty journal (nothing is
/// created), and a `running` batch whose process is gone is recorded
/// `interrupted` before anything is shown.
pub(super) fn open_for_reading(global: &Global) -> anyhow::Result<Journal> {
    let config = global.load_journal_config()?;
    let mut journal = Journal::open_read(&config.journal.path)?;
    journal.reconcile_liveness(false).with_context(|| {
        format!(
            "cannot check which batches of {} are still running",
            config.journal.path.display()
        )
    })?;
    Ok(journal)
}

/// The batch `id`, or an error that says how to find the right one.
pub(super) fn find_batch(journal: &Journal, id: &str) -> anyhow::Result<BatchRow> {
    if !is_batch_id(id) {
        anyhow::bail!(
            "{id:?} is not a batch id (they look like sync_20261126084522_AbCd1234). List the batches with `{}`",
            crate::hint::cmd("sync-status --all")
        );
    }
    Ok(journal
        .batch(id)?
        .ok_or_else(|| JournalError::UnknownBatch(id.to_owned()))?)
}

/// Print `text` to stdout; a reader that went away (`| head`) is not an error.
pub(super) fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// A journal with damaged pages gets one clear paragraph, whichever read ran
/// into the damage.
pub(super) fn explain_damage(err: anyhow::Error) -> anyhow::Error {
    let damaged = err
        .chain()
        .find_map(|cause| match cause.downcast_ref::<JournalError>() {
            Some(JournalError::Sql {
                path,
                cause: source,
            }) if matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            ) =>
            {
                Some((path.clone(), source.to_string()))
            }
            _ => None,
        });
    match damaged {
        Some((path, why)) => anyhow::anyhow!(
            "the journal {} is damaged ({why}); it was left untouched. Move it away (keep it for inspection) so that the next sync starts a new journal, or restore it from a backup",
            path.display()
        ),
        None => err,
    }
}
