//! Charts as inline SVG, for the HTML report and the dashboard: duration and
//! records per table of a batch, success rate per table over recent batches,
//! and the duration history of batches. No script and no network: the SVG is
//! part of the page, so it prints and works offline.

use super::format::{escape, hms, local_time, thousands};
use crate::journal::{BatchRow, BatchStatus, ProgressRow, ProgressStatus, TableStats};
use std::collections::BTreeMap;
use std::fmt::Write;

const WIDTH: f64 = 640.0;
const LABEL_WIDTH: f64 = 170.0;
const VALUE_WIDTH: f64 = 90.0;
const ROW_HEIGHT: f64 = 22.0;
/// Bars beyond this are summed up in a last line, so a chart stays readable.
const MAX_BARS: usize = 30;

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as shown at the bar's end.
    pub text: String,
    /// CSS class of the bar (its colour).
    pub class: &'static str,
}

/// A chart with its caption: `<figure class="chart" id="chart-{id}">`.
fn figure(id: &str, title: &str, svg: &str) -> String {
    format!(
        "<figure class=\"chart\" id=\"chart-{id}\" data-chart=\"{id}\">\n<figcaption>{}</figcaption>\n{svg}\n</figure>\n",
        escape(title)
    )
}

fn empty(id: &str, title: &str, why: &str) -> String {
    figure(
        id,
        title,
        &format!("<p class=\"empty\">{}</p>", escape(why)),
    )
}

/// Horizontal bars, longest value = full width; `max` fixes the scale
/// (100 for percentages) instead.
pub fn bar_chart(id: &str, title: &str, bars: &[Bar], max: Option<f64>) -> String {
    if bars.is_empty() {
        return empty(id, title, "No data yet.");
    }
    let top = max
        .unwrap_or_else(|| bars.iter().map(|b| b.value).fold(0.0, f64::max))
        .max(f64::MIN_POSITIVE);
    let area = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let height = ROW_HEIGHT * bars.len() as f64 + 4.0;
    let mut svg = format!(
        "<svg class=\"bars\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = i as f64 * ROW_HEIGHT + 2.0;
        let w = (b.value.max(0.0) / top * area).clamp(0.0, area);
        let _ = writeln!(
            svg,
            "<g class=\"bar\"><title>{label}: {text}</title><text class=\"label\" x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{short}</text><rect class=\"{class}\" x=\"{LABEL_WIDTH}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" rx=\"2\"/><text class=\"value\" x=\"{vx:.1}\" y=\"{ty}\">{text}</text></g>",
            label = escape(&b.label),
            short = escape(&shorten(&b.label, 24)),
            text = escape(&b.text),
            class = b.class,
            lx = LABEL_WIDTH - 6.0,
            ty = y + ROW_HEIGHT * 0.68,
            bh = ROW_HEIGHT - 6.0,
            vx = LABEL_WIDTH + w + 4.0,
        );
    }
    svg.push_str("</svg>");
    figure(id, title, &svg)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Per table name (all connections together): seconds spent and records moved.
fn per_table(rows: &[ProgressRow]) -> BTreeMap<&str, (f64, i64, bool)> {
    let mut map: BTreeMap<&str, (f64, i64, bool)> = BTreeMap::new();
    for r in rows {
        let e = map.entry(r.table_name.as_str()).or_default();
        e.0 += r.duration_seconds.unwrap_or(0.0);
        if r.status == ProgressStatus::Completed {
            e.1 += r.records_processed;
        }
        e.2 |= r.status == ProgressStatus::Failed;
    }
    map
}

/// Durations under a tenth of a second in milliseconds (`4 ms`, not a
/// `0.0s` next to a visible bar), short ones in seconds (`0.4s`), longer
/// ones as `HH:MM:SS`.
fn seconds_text(secs: f64) -> String {
    if secs < 0.1 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        hms(secs)
    }
}

/// Keep the `MAX_BARS` largest, in the given order otherwise.
fn top_bars(mut bars: Vec<Bar>) -> Vec<Bar> {
    if bars.len() > MAX_BARS {
        bars.sort_by(|a, b| b.value.total_cmp(&a.value));
        bars.truncate(MAX_BARS);
    }
    bars
}

/// Time spent per table in this batch, summed over its connections.
pub fn duration_per_table(rows: &[ProgressRow]) -> String {
    let bars = per_table(rows)
        .into_iter()
        .filter(|(_, (secs, _, _))| *secs > 0.0)
        .map(|(table, (secs, _, failed))| Bar {
            label: table.to_owned(),
            value: secs,
            text: seconds_text(secs),
            class: if failed { "b-failed" } else { "b-duration" },
        })
        .collect();
    bar_chart(
        "duration-per-table",
        "Duration per table (all connections)",
        &top_bars(bars),
        None,
    )
}

/// Records moved per table in this batch, summed over its connections.
pub fn records_per_table(rows: &[ProgressRow]) -> String {
    let bars = per_table(rows)
        .into_iter()
        .map(|(table, (_, records, _))| Bar {
            label: table.to_owned(),
            value: records as f64,
            text: thousands(records),
            class: "b-records",
        })
        .collect();
    bar_chart(
        "records-per-table",
        "Records per table (all connections)",
        &top_bars(bars),
        None,
    )
}

/// Success rate per table over the last `batches` batches.
pub fn success_rate_per_table(stats: &[TableStats], batches: usize) -> String {
    let bars: Vec<Bar> = stats
        .iter()
        .filter_map(|s| {
            let rate = s.success_rate?;
            Some(Bar {
                label: s.table_name.clone(),
                value: rate,
                text: format!("{rate:.1}% ({}/{})", s.completed, s.completed + s.failed),
                class: if rate >= 100.0 {
                    "b-ok"
                } else if rate >= 90.0 {
                    "b-warn"
                } else {
                    "b-failed"
                },
            })
        })
        .collect();
    let title = format!("Success rate per table ({})", last_batches(batches));
    bar_chart("success-rate", &title, &top_bars(bars), Some(100.0))
}

fn batch_class(status: BatchStatus) -> &'static str {
    match status {
        BatchStatus::Completed => "b-ok",
        BatchStatus::Running => "b-warn",
        BatchStatus::Failed => "b-failed",
        BatchStatus::Interrupted => "b-interrupted",
    }
}

/// Duration of recent batches as columns, oldest left; colour by status.
/// `last 5 batches`, `last batch`.
fn last_batches(n: usize) -> String {
    if n == 1 {
        "last batch".into()
    } else {
        format!("last {n} batches")
    }
}

/// `history` is newest first, as the journal lists it.
pub fn batch_duration_history(history: &[BatchRow]) -> String {
    let id = "batch-history";
    let title = format!("Batch duration history ({})", last_batches(history.len()));
    if history.is_empty() {
        return empty(id, &title, "No batches yet.");
    }
    let height = 180.0;
    let base = height - 24.0;
    let left = 60.0;
    let n = history.len() as f64;
    let step = (WIDTH - left - 10.0) / n;
    let col = (step * 0.7).max(1.0);
    let top = history
        .iter()
        .filter_map(|b| b.duration_seconds)
        .fold(0.0, f64::max)
        .max(1.0);
    let mut svg = format!(
        "<svg class=\"columns\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">\n",
        escape(&title)
    );
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{WIDTH}\" y2=\"{base}\"/><text class=\"label\" x=\"{}\" y=\"14\" text-anchor=\"end\">{}</text><text class=\"label\" x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        left - 4.0,
        seconds_text(top),
        left - 4.0
    );
    for (i, b) in history.iter().rev().enumerate() {
        let secs = b.duration_seconds.unwrap_or(0.0);
        let h = (secs / top * (base - 20.0)).max(1.0);
        let x = left + i as f64 * step + (step - col) / 2.0;
        let _ = writeln!(
            svg,
            "<g class=\"column\"><title>{id} — {status}, {dur}, started {start}</title><rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{col:.1}\" height=\"{h:.1}\" rx=\"1\"/></g>",
            id = escape(&b.batch_id),
            status = b.status,
            dur = b.duration_seconds.map_or_else(|| "no duration".to_owned(), seconds_text),
            start = local_time(&b.started_at),
            class = batch_class(b.status),
            y = base - h,
        );
    }
    if let (Some(first), Some(last)) = (history.last(), history.first()) {
        let _ = writeln!(
            svg,
            "<text class=\"label\" x=\"{left}\" y=\"{}\">{}</text><text class=\"label\" x=\"{WIDTH}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            height - 6.0,
            escape(&local_time(&first.started_at)),
            height - 6.0,
            escape(&local_time(&last.started_at)),
        );
    }
    svg.push_str("</svg>");
    figure(id, &title, &svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_rows::{batch, row};

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let bars = vec![
            Bar {
                label: "<m_product>".into(),
                value: 50.0,
                text: "50".into(),
                class: "b-records",
            },
            Bar {
                label: "c_order".into(),
                value: 100.0,
                text: "100".into(),
                class: "b-records",
            },
        ];
        let svg = bar_chart("x", "X & Y", &bars, None);
        assert!(svg.contains("&lt;m_product&gt;"));
        assert!(!svg.contains("<m_product>"));
        assert!(svg.contains("aria-label=\"X &amp; Y\""));
        let area = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
        assert!(svg.contains(&format!("width=\"{:.1}\"", area)));
        assert!(svg.contains(&format!("width=\"{:.1}\"", area / 2.0)));
    }

    #[test]
    fn per_table_sums_connections() {
        let mut a = row("b1", "m_product", ProgressStatus::Completed);
        a.records_processed = 1000;
        a.duration_seconds = Some(10.0);
        let mut b = row("b2", "m_product", ProgressStatus::Completed);
        b.records_processed = 234;
        b.duration_seconds = Some(5.0);
        let svg = records_per_table(&[a.clone(), b.clone()]);
        assert!(svg.contains(">1,234</text>"), "{svg}");
        let svg = duration_per_table(&[a, b]);
        assert!(svg.contains(">15.0s</text>"), "{svg}");
    }

    #[test]
    fn history_has_one_column_per_batch_and_empty_charts_say_so() {
        let h = vec![
            batch("sync_20261126084522_AbCd1234", BatchStatus::Failed),
            batch("sync_20261125084522_AbCd1234", BatchStatus::Completed),
        ];
        let svg = batch_duration_history(&h);
        assert_eq!(svg.matches("<g class=\"column\">").count(), 2);
        assert!(svg.contains("b-failed") && svg.contains("b-ok"));
        assert!(batch_duration_history(&[]).contains("No batches yet."));
        assert!(batch_duration_history(&h[..1]).contains("(last batch)"));
        assert!(success_rate_per_table(&[], 30).contains("No data yet."));
    }
}
