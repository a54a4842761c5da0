//! `sync-table MODEL`: sync one model (from one or all connections), as its
//! own batch or inside an existing batch.

use super::Global;
use crate::engine::{SyncOptions, SyncSession};
use crate::exit::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model (MProduct) or table (m_product) name
    pub model: String,
    /// Only these connections (comma-separated names, as for sync-all)
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub connection: Vec<String>,
    /// Run inside this existing batch instead of a new one
    #[arg(long, value_name = "ID")]
    pub batch_id: Option<String>,
    /// Parallel copies [default: engine.threads]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_config()?;
        crate::logging::init(global.verbose, global.quiet, config.log.file.as_deref())?;
        config.require_target()?;
        let opts = SyncOptions {
            connections: self.connection,
            tables: vec![self.model],
            skip_step1: false,
            threads: self.threads,
            dry_run: false,
            command: "sync-table".into(),
        };
        let mut session = SyncSession::open(&config)?;
        match self.batch_id {
            Some(id) => session.run_in_batch(&id, &opts),
            None => session.run_new(&opts),
        }
    }
}
