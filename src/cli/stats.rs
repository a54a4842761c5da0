//! `stats`: the questions operators ask of the journal — which tables fail
//! most, how long they take, how many records they move, how often they succeed.

use super::prune::before_now;
use super::status::{emit, explain_damage, open_for_reading};
use super::Global;
use crate::exit::Outcome;
use crate::journal::{format_ts, StatsFilter};
use crate::report::stats::{render_stats, StatsReport};
use crate::report::{json, Paint};
use std::time::Duration;

/// How many (connection, table) pairs "tables that fail most" lists.
const FAILING_SHOWN: usize = 10;

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
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.report(global).map_err(explain_damage)
    }

    fn report(self, global: &Global) -> anyhow::Result<Outcome> {
        let journal = open_for_reading(global)?;
        let since = self
            .days
            .map(|d| format_ts(before_now(Duration::from_secs(u64::from(d) * 86_400))));
        let filter = StatsFilter {
            since: since.clone(),
        };
        let tables = journal.table_stats(&filter)?;
        let failing = journal.failing_tables(&filter, FAILING_SHOWN)?;
        let report = StatsReport {
            since: since.as_deref(),
            failing: &failing,
            tables: &tables,
        };
        let text = if self.json {
            json::pretty(&report)
        } else {
            let period = match self.days {
                None => "all batches".to_owned(),
                Some(1) => "last day".to_owned(),
                Some(n) => format!("last {n} days"),
            };
            render_stats(&report, &period, Paint::for_stdout())
        };
        emit(&text)?;
        Ok(Outcome::Success)
    }
}
