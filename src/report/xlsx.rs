//! The Excel batch report (`export --format xlsx`): a Summary sheet and a
//! Progress sheet with typed cells — counts are numbers, times are Excel
//! date-times (local time, as every view shows them), durations are Excel
//! durations (`[h]:mm:ss`) — so that a spreadsheet can sum and sort them.

use super::format::cut;
use crate::journal::{parse_ts, BatchRow, ProgressRow};
use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

/// Excel's limit for the text of one cell.
const CELL_CHARS: usize = 32_000;
const SECONDS_PER_DAY: f64 = 86_400.0;

/// The columns of the Progress sheet.
pub const PROGRESS_HEADERS: &[&str] = &[
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
    "Error",
    "Written",
    "Deleted",
    "Bytes read",
    "Bytes written",
];

struct Formats {
    bold: Format,
    title: Format,
    datetime: Format,
    duration: Format,
    count: Format,
    percent: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            title: Format::new().set_bold().set_font_size(14),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            duration: Format::new().set_num_format("[h]:mm:ss"),
            count: Format::new().set_num_format("#,##0"),
            percent: Format::new().set_num_format("0.0%"),
        }
    }
}

/// A journal timestamp (UTC) as a local Excel date-time.
fn local_datetime(ts: &str) -> Option<ExcelDateTime> {
    let t = parse_ts(ts)?.with_timezone(&chrono::Local).naive_local();
    let seconds = t.second() as f64 + t.nanosecond() as f64 / 1e9;
    ExcelDateTime::from_ymd(t.year() as u16, t.month() as u8, t.day() as u8)
        .and_then(|d| d.and_hms(t.hour() as u16, t.minute() as u8, seconds.min(59.999)))
        .ok()
}

fn write_time(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    ts: Option<&str>,
    f: &Formats,
) -> Result<(), XlsxError> {
    match ts.and_then(|t| local_datetime(t).map(|d| (t, d))) {
        Some((_, d)) => sheet.write_datetime_with_format(row, col, &d, &f.datetime)?,
        // Text that does not parse is shown as it is rather than hidden.
        None => sheet.write_string(row, col, ts.unwrap_or(""))?,
    };
    Ok(())
}

fn write_duration(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    seconds: Option<f64>,
    f: &Formats,
) -> Result<(), XlsxError> {
    if let Some(s) = seconds.filter(|s| s.is_finite()) {
        sheet.write_number_with_format(row, col, s / SECONDS_PER_DAY, &f.duration)?;
    }
    Ok(())
}

/// The workbook of one batch, as the bytes of an `.xlsx` file.
pub fn batch_workbook(batch: &BatchRow, rows: &[ProgressRow]) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut book = Workbook::new();
    summary_sheet(book.add_worksheet(), batch, rows, &f)?;
    progress_sheet(book.add_worksheet(), rows, &f)?;
    book.save_to_buffer()
}

fn summary_sheet(
    sheet: &mut Worksheet,
    b: &BatchRow,
    rows: &[ProgressRow],
    f: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name("Summary")?;
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 36)?;
    sheet.write_string_with_format(0, 0, "Sync Batch Details", &f.title)?;
    let labels = [
        "Batch ID",
        "Status",
        "Started",
        "Ended",
        "Duration",
        "Total tables",
        "Completed tables",
        "Failed tables",
        "Progress",
        "Records processed",
        "Records skipped",
        "Host",
        "PID",
        "Times",
    ];
    for (i, label) in labels.iter().enumerate() {
        sheet.write_string_with_format(2 + i as u32, 0, *label, &f.bold)?;
    }
    let r = |label: &str| 2 + labels.iter().position(|l| *l == label).unwrap_or(0) as u32;
    sheet.write_string(r("Batch ID"), 1, &b.batch_id)?;
    sheet.write_string(r("Status"), 1, b.status.as_str())?;
    write_time(sheet, r("Started"), 1, Some(&b.started_at), f)?;
    write_time(sheet, r("Ended"), 1, b.completed_at.as_deref(), f)?;
    write_duration(sheet, r("Duration"), 1, b.duration_seconds, f)?;
    sheet.write_number(r("Total tables"), 1, b.total_tables as f64)?;
    sheet.write_number(r("Completed tables"), 1, b.completed_tables as f64)?;
    sheet.write_number(r("Failed tables"), 1, b.failed_tables as f64)?;
    let share = if b.total_tables > 0 {
        b.completed_tables as f64 / b.total_tables as f64
    } else {
        0.0
    };
    sheet.write_number_with_format(r("Progress"), 1, share, &f.percent)?;
    let processed: i64 = rows.iter().map(|p| p.records_processed).sum();
    let skipped: i64 = rows.iter().map(|p| p.records_skipped).sum();
    sheet.write_number_with_format(r("Records processed"), 1, processed as f64, &f.count)?;
    sheet.write_number_with_format(r("Records skipped"), 1, skipped as f64, &f.count)?;
    sheet.write_string(r("Host"), 1, b.host.as_deref().unwrap_or(""))?;
    if let Some(pid) = b.pid {
        sheet.write_number(r("PID"), 1, pid as f64)?;
    }
    let offset = chrono::Local::now().format("%:z").to_string();
    sheet.write_string(r("Times"), 1, format!("local time (UTC{offset})"))?;
    Ok(())
}

fn progress_sheet(
    sheet: &mut Worksheet,
    rows: &[ProgressRow],
    f: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name("Progress")?;
    for (c, h) in PROGRESS_HEADERS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &f.bold)?;
    }
    for (i, p) in rows.iter().enumerate() {
        let r = 1 + i as u32;
        sheet.write_string(r, 0, &p.connection_name)?;
        sheet.write_string(r, 1, &p.table_name)?;
        sheet.write_string(r, 2, &p.model_name)?;
        sheet.write_string(r, 3, p.status.as_str())?;
        sheet.write_number_with_format(r, 4, p.records_processed as f64, &f.count)?;
        sheet.write_number_with_format(r, 5, p.records_skipped as f64, &f.count)?;
        sheet.write_number(r, 6, p.retry_count as f64)?;
        sheet.write_number(r, 7, p.step as f64)?;
        if p.started_at.is_some() {
            write_time(sheet, r, 8, p.started_at.as_deref(), f)?;
        }
        if p.completed_at.is_some() {
            write_time(sheet, r, 9, p.completed_at.as_deref(), f)?;
        }
        write_duration(sheet, r, 10, p.duration_seconds, f)?;
        if let Some(e) = &p.error_message {
            let text = if e.chars().count() > CELL_CHARS {
                cut(e, CELL_CHARS)
            } else {
                e.clone()
            };
            sheet.write_string(r, 11, text)?;
        }
        // NULL (not known) stays an empty cell.
        let known = [
            p.rows_written,
            p.rows_deleted,
            p.bytes_read,
            p.bytes_written,
        ];
        for (c, v) in (12..).zip(known) {
            if let Some(v) = v {
                sheet.write_number_with_format(r, c, v as f64, &f.count)?;
            }
        }
    }
    for (c, w) in [16, 18, 16, 12, 12, 10, 8, 6, 20, 20, 11, 60, 12, 12, 14, 14]
        .into_iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, w)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    if !rows.is_empty() {
        sheet.autofilter(0, 0, rows.len() as u32, PROGRESS_HEADERS.len() as u16 - 1)?;
    }
    Ok(())
}
