//! `export`: a batch report, one row per progress row, as CSV (the
//! `sync_progress` columns) or JSON (the `sync-status --json` shape).

use super::status::{emit, explain_damage, find_batch, open_for_reading};
use super::Global;
use crate::exit::Outcome;
use crate::report::{csv, json};
use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Batch to export
    pub batch_id: Option<String>,
    /// Export the latest batch
    #[arg(long, conflicts_with = "batch_id")]
    pub latest: bool,
    /// Write here instead of stdout
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    /// csv or json
    #[arg(long, default_value = "csv")]
    pub format: String,
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    Json,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.export(global).map_err(explain_damage)
    }

    fn export(self, global: &Global) -> anyhow::Result<Outcome> {
        let format = match self.format.to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            other => {
                anyhow::bail!("unknown export format {other:?}: use --format csv or --format json")
            }
        };
        if self.batch_id.is_none() && !self.latest {
            anyhow::bail!(
                "name the batch to export: `branchsync export BATCH_ID` or `branchsync export --latest` (list them with `branchsync sync-status --all`)"
            );
        }
        let journal = open_for_reading(global)?;
        let batch = match &self.batch_id {
            Some(id) => find_batch(&journal, id)?,
            None => journal.latest_batch()?.with_context(|| {
                format!(
                    "the journal {} has no batches yet: there is nothing to export",
                    journal.path().display()
                )
            })?,
        };
        let rows = journal.progress_rows(&batch.batch_id, false)?;
        let text = match format {
            Format::Csv => csv::progress_csv(&rows),
            Format::Json => json::batch_json(&batch, &rows),
        };
        match &self.output {
            Some(path) => {
                std::fs::write(path, text).with_context(|| {
                    format!(
                        "cannot write the export to {}; check that its folder exists and is writable",
                        path.display()
                    )
                })?;
                emit(&format!(
                    "Exported {} rows of batch {} to {}\n",
                    rows.len(),
                    batch.batch_id,
                    path.display()
                ))?;
            }
            None => emit(&text)?,
        }
        Ok(Outcome::Success)
    }
}
