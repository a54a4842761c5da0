//! What a benchmark measured, case by case, and the box table that shows it.

use serde::Serialize;
use std::time::Duration;

/// One measured case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub name: String,
    pub seconds: Vec<f64>,
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub rows_per_s: f64,
    pub mb_per_s: f64,
    /// Pipe time / our time (throughput relative to the pipe); None for the pipe itself.
    pub vs_pipe: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    /// Bytes over both links (through the counting relays), when measured.
    pub link_bytes: Option<u64>,
    /// Link bytes / a full copy's over the same links.
    pub vs_full_bytes: Option<f64>,
    /// Time / a full copy's over the same links.
    pub vs_full_time: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub rows: u64,
    pub table_mb: f64,
    pub cases: Vec<Case>,
}

/// One case from the wall times of its repetitions: median and spread, rates
/// over `rows` and `bytes`, the pipe's median over ours, and the peak RSS.
pub(super) fn case(
    name: &str,
    times: &[Duration],
    rows: u64,
    bytes: u64,
    pipe: Option<f64>,
    rss_kb: Option<u64>,
) -> Case {
    let mut s: Vec<f64> = times.iter().map(Duration::as_secs_f64).collect();
    let seconds = s.clone();
    s.sort_by(|a, b| a.total_cmp(b));
    let median = if s.is_empty() { 0.0 } else { s[s.len() / 2] };
    Case {
        name: name.to_owned(),
        seconds,
        median_s: median,
        min_s: s.first().copied().unwrap_or(0.0),
        max_s: s.last().copied().unwrap_or(0.0),
        rows_per_s: rows as f64 / median.max(1e-9),
        mb_per_s: bytes as f64 / 1e6 / median.max(1e-9),
        vs_pipe: pipe.map(|p| p / median.max(1e-9)),
        peak_rss_mb: rss_kb.map(|k| k as f64 / 1024.0),
        link_bytes: None,
        vs_full_bytes: None,
        vs_full_time: None,
    }
}

/// The report as a box table.
pub fn render(report: &BenchReport) -> String {
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::UTF8_FULL);
    let links = report.cases.iter().any(|c| c.link_bytes.is_some());
    let mut header = vec![
        "case", "median s", "min s", "max s", "rows/s", "MB/s", "vs pipe", "peak RSS",
    ];
    if links {
        header.extend(["link MB", "bytes vs full", "time vs full"]);
    }
    t.set_header(header);
    for c in &report.cases {
        let ratio = |v: Option<f64>| v.map_or_else(|| "—".into(), |v| format!("{:.2}%", v * 100.0));
        let mut row = vec![
            c.name.clone(),
            format!("{:.3}", c.median_s),
            format!("{:.3}", c.min_s),
            format!("{:.3}", c.max_s),
            format!("{:.0}", c.rows_per_s),
            if report.table_mb == 0.0 {
                "—".into()
            } else {
                format!("{:.1}", c.mb_per_s)
            },
            c.vs_pipe
                .map(|v| format!("{v:.2}×"))
                .unwrap_or_else(|| "—".into()),
            c.peak_rss_mb
                .map(|v| format!("{v:.1} MB"))
                .unwrap_or_else(|| "—".into()),
        ];
        if links {
            row.push(
                c.link_bytes
                    .map_or_else(|| "—".into(), |b| format!("{:.2}", b as f64 / 1e6)),
            );
            row.push(ratio(c.vs_full_bytes));
            row.push(ratio(c.vs_full_time));
        }
        t.add_row(row);
    }
    if report.table_mb == 0.0 {
        return format!(
            "fleet: {} rows in all; first sync into an empty central database; {} repetitions each\n{t}",
            report.rows,
            report.cases.first().map(|c| c.seconds.len()).unwrap_or(0)
        );
    }
    format!(
        "c_invoiceline: {} rows, {:.1} MB; {} repetitions each\n{t}\n\"vs pipe\" = pipe time / our time (1.00× = as fast as the pipe).",
        report.rows,
        report.table_mb,
        report.cases.first().map(|c| c.seconds.len()).unwrap_or(0)
    )
}
