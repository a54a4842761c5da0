//! `export --format html` and `--format xlsx` through the real binary, from a
//! real journal file built through the journal API: the HTML page is
//! self-contained (no network) with the summary, every row and the charts;
//! the workbook, opened back with calamine, has typed cells.

mod common;

use branchsync::journal::{BatchRow, BatchStatus, ProgressRow, ProgressStatus};
use calamine::{open_workbook, Data, Reader, Xlsx};
use common::journal::{self, Site};
use std::path::PathBuf;

const LATEST: &str = "sync_20261126084522_AbCd1234";
const OLDER: &str = "sync_20261120100000_OLDer001";

/// A batch of 3 tables, ended after `secs`.
fn batch(id: &str, status: BatchStatus, started: &str, secs: f64) -> BatchRow {
    let mut b = journal::batch(id, status, started);
    b.total_tables = 3;
    b.completed_tables = 1;
    b.failed_tables = 1;
    b.command_options = "{}".into();
    b.completed_at = Some("2026-11-26T09:47:27.000Z".into());
    b.duration_seconds = Some(secs);
    b
}

/// A row whose model is `M_<table>`, so model and table can be told apart.
fn row(id: &str, conn: &str, table: &str, status: ProgressStatus) -> ProgressRow {
    let mut r = journal::row(id, conn, table, status);
    r.model_name = format!("M_{table}");
    r
}

fn long_error() -> String {
    format!(
        "column \"grandtotal\" of c_order: <type> text at the source, numeric at the target; {}",
        "detail ".repeat(40)
    )
}

/// A folder with a `[journal]`-only config and a journal holding an older
/// completed batch and the latest, failed one (3 rows: completed with
/// 15,234 records in 125 s, failed with a long error, pending).
fn site() -> Site {
    let site = Site::new();
    let mut ok = row(LATEST, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    ok.records_processed = 15234;
    ok.records_skipped = 12;
    ok.started_at = Some("2026-11-26T08:45:30.000Z".into());
    ok.completed_at = Some("2026-11-26T08:47:35.000Z".into());
    ok.duration_seconds = Some(125.0);
    let mut bad = row(LATEST, "pgsql_jkt", "c_order", ProgressStatus::Failed);
    bad.error_message = Some(long_error());
    bad.retry_count = 3;
    bad.duration_seconds = Some(30.5);
    let pending = row(LATEST, "pgsql_sby", "c_invoice", ProgressStatus::Pending);
    let mut old_row = row(OLDER, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    old_row.records_processed = 100;
    let mut older = batch(
        OLDER,
        BatchStatus::Completed,
        "2026-11-20T10:00:00.000Z",
        600.0,
    );
    older.total_tables = 1;
    older.failed_tables = 0;
    site.journal()
        .import_batches(vec![
            (older, vec![old_row]),
            (
                batch(
                    LATEST,
                    BatchStatus::Failed,
                    "2026-11-26T08:45:22.000Z",
                    3725.0,
                ),
                vec![ok, bad, pending],
            ),
        ])
        .unwrap();
    site
}

fn export(site: &Site, format: &str, file: &str) -> PathBuf {
    let path = site.path(file);
    let out = site
        .cmd()
        .args(["export", LATEST, "--format", format, "--output"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("Exported 3 rows of batch {LATEST}")),
        "{said}"
    );
    path
}

#[test]
fn html_report_is_one_self_contained_page_with_rows_and_charts() {
    let site = site();
    let page = std::fs::read_to_string(export(&site, "html", "report.html")).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains(&format!("Sync Batch Details: <code>{LATEST}</code>")));
    // summary, in local time
    assert!(
        page.contains("<dt>Started</dt><dd>2026-11-26 15:45:22</dd>"),
        "{page}"
    );
    assert!(page.contains("<dt>Progress</dt><dd>1/3 tables (33.3%)</dd>"));
    assert!(page.contains("<dt>Duration</dt><dd>01:02:05</dd>"));
    assert!(page.contains("<span class=\"status s-failed\">failed</span>"));
    // every row, in a sortable table
    assert!(page.contains("<table class=\"sortable\" id=\"progress\">"));
    assert_eq!(page.matches("<tr data-status=").count(), 3);
    for text in [
        "pgsql_lmp",
        "pgsql_jkt",
        "pgsql_sby",
        ">15,234</td>",
        ">00:02:05</td>",
    ] {
        assert!(page.contains(text), "{text}");
    }
    // the long error: cut in the summary line, whole behind it, escaped
    assert!(
        page.contains("<details><summary>column &quot;grandtotal&quot; of c_order: &lt;type&gt;")
    );
    assert!(page.contains(
        &long_error()
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    ));
    // the four charts, as inline SVG
    for id in [
        "duration-per-table",
        "records-per-table",
        "success-rate",
        "batch-history",
    ] {
        assert!(
            page.contains(&format!("<figure class=\"chart\" id=\"chart-{id}\"")),
            "{id}"
        );
    }
    // four charts and the batch's progress bar
    assert_eq!(page.matches("<svg").count(), 5);
    assert_eq!(page.matches("<svg class=\"progress\"").count(), 1);
    // a report file is whole by itself: its style and script inline
    assert!(page.contains("<style>") && page.contains("<script>"));
    let history = &page[page.find("id=\"chart-batch-history\"").unwrap()..];
    let history = &history[..history.find("</figure>").unwrap()];
    assert_eq!(history.matches("<g class=\"column\">").count(), 2);
    assert!(history.contains("b-failed") && history.contains("b-ok"));
    let records = &page[page.find("id=\"chart-records-per-table\"").unwrap()..];
    assert!(records[..records.find("</figure>").unwrap()].contains(">15,234</text>"));
    // self-contained and printable
    assert!(
        !page.contains("<link") && !page.contains("src="),
        "no external resources"
    );
    assert!(!page.contains("https://"));
    assert!(page.contains("@media print"));
    assert!(page.contains(&format!("--resume={LATEST}")));
}

#[test]
fn html_goes_to_stdout_without_output() {
    let site = site();
    let out = site
        .cmd()
        .args(["export", "--latest", "--format", "html"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(page.contains(LATEST));
}

/// Excel's serial number of a local date-time.
fn serial(y: i32, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> f64 {
    let days = chrono::NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .signed_duration_since(chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap())
        .num_days();
    days as f64 + f64::from(hh * 3600 + mm * 60 + ss) / 86_400.0
}

fn datetime(cell: Option<&Data>) -> (f64, bool) {
    match cell {
        Some(Data::DateTime(d)) => (d.as_f64(), d.is_duration()),
        other => panic!("expected a date-time cell, found {other:?}"),
    }
}

fn text(cell: Option<&Data>) -> String {
    match cell {
        Some(Data::String(s)) => s.clone(),
        other => panic!("expected text, found {other:?}"),
    }
}

fn number(cell: Option<&Data>) -> f64 {
    match cell {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

#[test]
fn xlsx_has_a_summary_and_a_progress_sheet_with_typed_cells() {
    let site = site();
    let path = export(&site, "xlsx", "report.xlsx");
    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), vec!["Summary", "Progress"]);

    let s = book.worksheet_range("Summary").unwrap();
    let value = |label: &str| {
        let r = (0..s.height())
            .find(|&r| s.get_value((r as u32, 0)) == Some(&Data::String(label.into())))
            .unwrap_or_else(|| panic!("no {label} row"));
        s.get_value((r as u32, 1)).cloned()
    };
    assert_eq!(text(value("Batch ID").as_ref()), LATEST);
    assert_eq!(text(value("Status").as_ref()), "failed");
    let (started, is_duration) = datetime(value("Started").as_ref());
    assert!(!is_duration);
    assert!(
        (started - serial(2026, 11, 26, 15, 45, 22)).abs() < 1e-6,
        "{started}"
    );
    let (duration, is_duration) = datetime(value("Duration").as_ref());
    assert!(is_duration, "durations are durations");
    assert!((duration * 86_400.0 - 3725.0).abs() < 1e-3);
    assert_eq!(number(value("Total tables").as_ref()), 3.0);
    assert_eq!(number(value("Failed tables").as_ref()), 1.0);
    assert!((number(value("Progress").as_ref()) - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(number(value("Records processed").as_ref()), 15234.0);
    assert_eq!(text(value("Host").as_ref()), "backup01");
    assert_eq!(text(value("Times").as_ref()), "local time (UTC+07:00)");

    let p = book.worksheet_range("Progress").unwrap();
    assert_eq!(p.height(), 4, "a header and one row per progress row");
    let header: Vec<String> = (0..12).map(|c| text(p.get_value((0, c)))).collect();
    assert_eq!(
        header,
        [
            "Connection",
            "Table",
            "Model",
            "Status",
            "Records",
            "Skipped",
            "Retries",
            "Step",
            "Started",
            "Completed",
            "Duration",
            "Error"
        ]
    );
    assert_eq!(text(p.get_value((1, 0))), "pgsql_lmp");
    assert_eq!(text(p.get_value((1, 3))), "completed");
    assert_eq!(number(p.get_value((1, 4))), 15234.0);
    assert_eq!(number(p.get_value((1, 5))), 12.0);
    let (row_start, _) = datetime(p.get_value((1, 8)));
    assert!((row_start - serial(2026, 11, 26, 15, 45, 30)).abs() < 1e-6);
    let (row_secs, is_duration) = datetime(p.get_value((1, 10)));
    assert!(is_duration);
    assert!((row_secs * 86_400.0 - 125.0).abs() < 1e-3);
    assert_eq!(text(p.get_value((2, 3))), "failed");
    assert_eq!(number(p.get_value((2, 6))), 3.0);
    assert_eq!(text(p.get_value((2, 11))), long_error(), "errors are whole");
    assert_eq!(text(p.get_value((3, 3))), "pending");
    assert!(
        matches!(p.get_value((3, 8)), None | Some(Data::Empty)),
        "no start yet"
    );
}

#[test]
fn xlsx_needs_a_file_and_unknown_formats_list_the_known_ones() {
    let site = site();
    let out = site
        .cmd()
        .args(["export", "--latest", "--format", "xlsx"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --output report.xlsx"));
    let out = site
        .cmd()
        .args(["export", "--latest", "--format", "pdf"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("csv, json, html or xlsx"));
}

#[test]
fn the_output_extension_decides_the_format_or_is_refused_with_the_fix() {
    let site = site();
    for (file, starts) in [
        ("r.json", &b"{"[..]),
        ("r.html", &b"<!DOCTYPE html>"[..]),
        ("r.xlsx", &b"PK"[..]),
        ("r.csv", &b"batch_id,"[..]),
    ] {
        let path = site.path(file);
        let out = site
            .cmd()
            .args(["export", LATEST, "--output"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.starts_with(starts),
            "{file} starts with {:?}",
            String::from_utf8_lossy(&bytes[..20.min(bytes.len())])
        );
    }
    let out = site
        .cmd()
        .args(["export", LATEST, "--output"])
        .arg(site.path("r.pdf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("name it .csv, .json, .html or .xlsx, or add --format"),
        "{err}"
    );
    assert!(!site.path("r.pdf").exists());
}
