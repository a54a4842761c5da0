//! `stats`: the questions operators ask of the journal.

use super::Global;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only batches of the last N days
    #[arg(long)]
    pub days: Option<u32>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("stats is not available yet")
    }
}
