//! `sync-resume-interrupted`: for cron — resume every `interrupted` or
//! `failed` batch, oldest first, or do nothing quickly.

use super::Global;
use crate::engine::SyncSession;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_config()?;
        crate::logging::init(global.verbose, global.quiet, config.log.file.as_deref())?;
        config.require_target()?;
        SyncSession::open(&config)?.resume_all()
    }
}
