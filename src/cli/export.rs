//! `export`: a batch report, one row per progress row.

use super::Global;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch to export
    pub batch_id: Option<String>,
    /// Export the latest batch
    #[arg(long)]
    pub latest: bool,
    /// Write here instead of stdout
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    /// csv or json
    #[arg(long, default_value = "csv")]
    pub format: String,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("export is not available yet")
    }
}
