//! `bench`: throughput benchmark of the copy path.

use super::Global;
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// PostgreSQL server URL for the benchmark databases
    #[arg(long, default_value = "postgres://root@127.0.0.1:5432/test")]
    pub pg: String,
    /// Rows in the generated table
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        anyhow::bail!("bench is not available yet")
    }
}
