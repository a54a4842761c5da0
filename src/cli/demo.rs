//! `demo`: the zero-setup showcase.

use super::Global;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder for the generated branches, config, journal and central file
    #[arg(long, default_value = "branchsync-demo")]
    pub dir: std::path::PathBuf,
    /// Number of branch databases
    #[arg(long, default_value_t = 17)]
    pub branches: usize,
    /// Rows per large table per branch
    #[arg(long, default_value_t = 2000)]
    pub rows: u64,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("demo is not available yet")
    }
}
