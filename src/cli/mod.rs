//! The command line: every clap struct lives here (doc comments are the help),
//! each command's logic in its own file.

mod abandon;
mod bench;
mod check;
mod check_server;
mod completions;
mod demo;
mod export;
mod man;
mod plan_print;
mod prune;
mod resume_interrupted;
mod resume_plan;
mod serve;
mod stats;
mod status;
mod sync_all;
mod sync_table;

use crate::config::Config;
use crate::exit::Outcome;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `--version`: ours and the bundled SQLite's, which decides whether the journal
/// is safe from the WAL-reset bug (see `journal::MIN_SQLITE_VERSION_NUMBER`).
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "{} (bundled SQLite {})",
        env!("CARGO_PKG_VERSION"),
        crate::journal::sqlite_version()
    )
});

/// Consolidate the databases of many branch offices into one central database,
/// journaled so that any interrupted run can be resumed.
#[derive(Debug, Parser)]
#[command(name = "branchsync", version = VERSION.as_str(), about)]
pub struct Cli {
    /// Config file [default: $BRANCHSYNC_CONFIG, then ./branchsync.toml]
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// More log output (-v debug, -vv trace)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet", help_heading = "Global options")]
    pub verbose: u8,
    /// Only warnings and errors
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a batch (or resume one) and sync every selected table from every selected connection
    SyncAll(sync_all::Args),
    /// Sync one model, as its own batch or inside an existing batch
    SyncTable(sync_table::Args),
    /// Show a batch (default: the latest) or the list of batches
    SyncStatus(status::Args),
    /// Resume every interrupted or failed batch, newest first (for cron)
    SyncResumeInterrupted(resume_interrupted::Args),
    /// Export a batch report (one row per table) as CSV, JSON, HTML or Excel
    Export(export::Args),
    /// Per-table statistics: failures, retries, durations, records, success rate
    Stats(stats::Args),
    /// Delete old batches from the journal
    Prune(prune::Args),
    /// Validate the config and connect to every server
    Check(check::Args),
    /// Throughput benchmark of the copy path
    Bench(bench::Args),
    /// Zero-setup showcase: generated SQLite branches synced into a central file
    Demo(demo::Args),
    /// Read-only web dashboard over the journal: batches, live details, charts, JSON API
    Serve(serve::Args),
    /// Print the shell completion script
    Completions(completions::Args),
    /// Print the manual page (roff)
    Man(man::Args),
}

/// Options every command sees.
#[derive(Debug, Clone)]
pub struct Global {
    pub config: Option<PathBuf>,
    pub verbose: u8,
    pub quiet: bool,
}

impl Global {
    /// The config path: --config, $BRANCHSYNC_CONFIG, ./branchsync.toml.
    pub fn config_path(&self) -> PathBuf {
        self.config
            .clone()
            .or_else(|| std::env::var_os("BRANCHSYNC_CONFIG").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("branchsync.toml"))
    }

    /// Only `[journal]` (and `[log]`), for commands that just read the journal.
    pub fn load_journal_config(&self) -> Result<Config, crate::config::ConfigError> {
        Config::load_journal_only(&self.config_path())
    }

    pub fn load_config(&self) -> Result<Config, crate::config::ConfigError> {
        Config::load(&self.config_path(), &crate::driver::registry::Registry)
    }
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let global = Global {
        config: cli.config,
        verbose: cli.verbose,
        quiet: cli.quiet,
    };
    if !matches!(cli.command, Command::Completions(_) | Command::Man(_)) {
        crate::hint::set_config(&global.config_path());
    }
    match cli.command {
        Command::SyncAll(a) => a.run(&global),
        Command::SyncTable(a) => a.run(&global),
        Command::SyncStatus(a) => a.run(&global),
        Command::SyncResumeInterrupted(a) => a.run(&global),
        Command::Export(a) => a.run(&global),
        Command::Stats(a) => a.run(&global),
        Command::Prune(a) => a.run(&global),
        Command::Check(a) => a.run(&global),
        Command::Bench(a) => a.run(&global),
        Command::Demo(a) => a.run(&global),
        Command::Serve(a) => a.run(&global),
        Command::Completions(a) => a.run(&global),
        Command::Man(a) => a.run(&global),
    }
}
