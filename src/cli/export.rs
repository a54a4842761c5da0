//! `export`: a batch report, one row per progress row, as CSV (the
//! `sync_progress` columns) or JSON (the `sync-status --json` shape); or as a
//! self-contained HTML page with charts, or an Excel workbook.

use super::status::{emit, explain_damage, find_batch, open_for_reading};
use super::Global;
use crate::exit::Outcome;
use crate::report::{csv, html, json, xlsx};
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
    /// csv, json, html (one page with charts; print it to PDF) or xlsx (needs
    /// --output) [default: from the --output extension, else csv]
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    Json,
    Html,
    Xlsx,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        self.export(global).map_err(explain_damage)
    }

    fn export(self, global: &Global) -> anyhow::Result<Outcome> {
        let format = match (&self.format, &self.output) {
            (Some(f), _) => f.to_ascii_lowercase(),
            (None, Some(path)) => format_of(path)?,
            (None, None) => "csv".to_owned(),
        };
        let format = match format.as_str() {
            "csv" => Format::Csv,
            "json" => Format::Json,
            "html" => Format::Html,
            "xlsx" => Format::Xlsx,
            other => {
                anyhow::bail!(
                    "unknown export format {other:?}: use --format csv, json, html or xlsx"
                )
            }
        };
        if matches!(format, Format::Xlsx) && self.output.is_none() {
            anyhow::bail!("--format xlsx writes a binary file: add --output report.xlsx");
        }
        if self.batch_id.is_none() && !self.latest {
            anyhow::bail!(
                "name the batch to export: `{}` or `{}` (list them with `{}`)",
                crate::hint::cmd("export BATCH_ID"),
                crate::hint::cmd("export --latest"),
                crate::hint::cmd("sync-status --all")
            );
        }
        let journal = open_for_reading(global)?;
        let batch = match &self.batch_id {
            Some(id) => find_batch(&journal, id)?,
            None => journal.latest_whole_batch()?.with_context(|| {
                format!(
                    "the journal {} has no batches yet: there is nothing to export",
                    journal.path().display()
                )
            })?,
        };
        let rows = journal.progress_rows(&batch.batch_id, false)?;
        let text = match format {
            Format::Csv => csv::progress_csv(&rows).into_bytes(),
            Format::Json => json::batch_json(&batch, &rows).into_bytes(),
            Format::Html => {
                let data = html::ReportData::load(&journal, batch.clone())?;
                html::report_page(&data, html::Frame::Standalone, None).into_bytes()
            }
            Format::Xlsx => {
                xlsx::batch_workbook(&batch, &rows).context("cannot build the xlsx workbook")?
            }
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
                    "Exported {} of batch {} to {}\n",
                    crate::report::format::count_of_thousands(rows.len() as i64, "row"),
                    batch.batch_id,
                    path.display()
                ))?;
            }
            None => emit(&String::from_utf8_lossy(&text))?,
        }
        Ok(Outcome::Success)
    }
}

/// The format an output file's extension names; an extension we do not
/// write is refused (writing CSV into `report.pdf` and saying "Exported"
/// would be a lie).
fn format_of(path: &std::path::Path) -> anyhow::Result<String> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "json" | "html" | "xlsx" => Ok(ext),
        "htm" => Ok("html".into()),
        _ => anyhow::bail!(
            "cannot tell the format of {} from its extension: name it .csv, .json, .html or .xlsx, or add --format csv|json|html|xlsx",
            path.display()
        ),
    }
}
