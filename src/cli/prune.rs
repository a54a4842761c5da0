//! `prune`: delete old batches (never the running one).

use super::Global;
use crate::exit::Outcome;

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
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("prune is not available yet")
    }
}
