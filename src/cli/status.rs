//! `sync-status`: show one batch in detail, or the list of batches.

use super::Global;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch to show [default: the latest]
    pub batch_id: Option<String>,
    /// Show the latest batch
    #[arg(long)]
    pub latest: bool,
    /// List batches (20 newest unless --limit)
    #[arg(long)]
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
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("sync-status is not available yet")
    }
}
