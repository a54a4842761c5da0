//! `sync-resume-interrupted`: for cron — resume every `interrupted` or
//! `failed` batch that was not abandoned, newest first, each (connection,
//! table) at most once per run (see `engine::resume_run`), or do nothing
//! quickly.
//! Finding another sync at work (the run lock held) is a quiet success here:
//! with the README's schedule every overlap would otherwise mail the admin.
//! `sync-all` keeps exit 3 for the same case.

use super::Global;
use crate::engine::{ResumeOptions, SyncSession};
use crate::exit::Outcome;
use crate::journal::JournalError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these connections (comma-separated names): their unfinished
    /// tables run, the others stay as they are
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub connection: Vec<String>,
    /// Parallel table copies [default: each batch's own, then engine.threads]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print what would be resumed; write nothing
    #[arg(long)]
    pub dry_run: bool,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_config()?;
        crate::logging::init(global.verbose, global.quiet, config.log.file.as_deref())?;
        config.require_target()?;
        if self.threads == Some(0) {
            anyhow::bail!("--threads must be at least 1");
        }
        crate::engine::plan::check_connections(&config, &self.connection)?;
        let how = ResumeOptions {
            threads: self.threads,
            connections: self.connection,
        };
        if self.dry_run {
            return super::resume_plan::print(&config, &how);
        }
        let mut session =
            match SyncSession::open(&config) {
                Ok(s) => s,
                Err(e) => match e.downcast_ref::<JournalError>() {
                    Some(JournalError::LockHeld { holder, .. }) => {
                        let line =
                            format!(
                        "Another sync holds the lock (batch {}, pid {}); nothing to do now.",
                        holder.batch_id.as_deref().unwrap_or("?"),
                        holder.pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
                    );
                        log::debug!("{line}");
                        if global.verbose > 0 {
                            crate::say!("{line}");
                        }
                        return Ok(Outcome::Success);
                    }
                    _ => return Err(e),
                },
            };
        session.resume_all(&how)
    }
}
