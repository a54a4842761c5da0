//! `sync-all`: create a batch (or resume one) and sync every selected table
//! from every selected connection.

use super::Global;
use crate::driver::registry::route;
use crate::engine::{plan, SyncOptions, SyncSession};
use crate::exit::Outcome;

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Only these connections (comma-separated names)
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub connection: Vec<String>,
    /// Only these models or tables (comma-separated, e.g. MProduct,c_order)
    #[arg(long, value_delimiter = ',', value_name = "M1,m_x")]
    pub tables: Vec<String>,
    /// Skip step 1 (single-source tables)
    #[arg(long)]
    pub skip_step1: bool,
    /// Resume this batch instead of creating one (its stored options apply)
    #[arg(long, value_name = "BATCH_ID")]
    pub resume: Option<String>,
    /// Parallel table copies [default: engine.threads]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Print the plan; write nothing
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
        let opts = SyncOptions {
            connections: self.connection,
            tables: self.tables,
            skip_step1: self.skip_step1,
            threads: self.threads,
            dry_run: self.dry_run,
            command: "sync-all".into(),
        };
        if self.dry_run {
            return print_plan(&config, &opts, self.resume.as_deref());
        }
        let mut session = SyncSession::open(&config)?;
        match self.resume {
            Some(id) => {
                let how = crate::engine::ResumeOptions {
                    threads: self.threads,
                    connections: Vec::new(),
                };
                session.resume(&id, &how)
            }
            None => session.run_new(&opts),
        }
    }
}

/// `--dry-run`: what would run, in order, and the route each table's rows
/// take (passthrough, range checksums, rows); nothing is written anywhere.
pub(super) fn print_plan(
    config: &crate::config::Config,
    opts: &SyncOptions,
    resume: Option<&str>,
) -> anyhow::Result<Outcome> {
    if let Some(id) = resume {
        crate::say!("Dry run: would resume batch {id} with its stored options (nothing written).");
        return Ok(Outcome::Success);
    }
    let jobs = plan::plan(config, opts)?;
    crate::say!(
        "Dry run: {} tables would be synced (nothing written).",
        jobs.len()
    );
    // The route each pair takes, from the drivers' registry entries.
    let target = config.require_target()?;
    for j in &jobs {
        let t = j.table(config);
        let route = config
            .connection(&j.connection)
            .and_then(|c| route(&c.driver, &target.driver, t.mode))
            .map(|r| r.describe(t.mode))
            .unwrap_or_default();
        crate::say!(
            "  step {}  {:<20} {:<24} {:<12} -> {}  [{route}]",
            j.step,
            j.connection,
            config.source_of(t, &j.connection).to_string(),
            t.mode.as_str(),
            t.target_table()
        );
    }
    match super::plan_print::compute(config, &jobs) {
        Ok(Some(plans)) if !plans.is_empty() => {
            crate::say!("Schema plan of the central tables:");
            for line in super::plan_print::render(&plans) {
                crate::say!("  {line}");
            }
            if plans.iter().any(|p| p.refusal.is_some()) {
                return Ok(Outcome::Failed);
            }
        }
        Ok(_) => {}
        Err(e) => crate::say!("Schema plan: not computed ({e})"),
    }
    Ok(Outcome::Success)
}
