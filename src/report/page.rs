//! The frame every HTML page shares, the batch report's and the
//! dashboard's alike: the inline stylesheet, the script that sorts tables,
//! and the document around a body. Inline, so that a page needs no network,
//! opens from a file and prints cleanly.

use super::format::{escape, local_time};

const STYLE: &str = r#"
:root { --ok:#2e7d32; --warn:#b58900; --failed:#c62828; --interrupted:#8e24aa; --pending:#757575; --skipped:#00838f; --ink:#1d2330; --muted:#5f6b7a; --line:#d9dee5; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; padding: 20px 28px 40px; max-width: 1240px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h1 code { font-size: 20px; }
h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta, .empty, figcaption { color: var(--muted); }
nav { margin-bottom: 12px; } nav a { color: #1565c0; text-decoration: none; }
a { color: #1565c0; }
dl.summary { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 6px 18px; margin: 0; }
dl.summary dt { color: var(--muted); } dl.summary dd { margin: 0; font-weight: 600; }
.progress { display: block; width: 100%; height: 10px; background: #eceff3; border-radius: 5px; overflow: hidden; max-width: 420px; margin-top: 10px; }
.progress .ok { fill: var(--ok); } .progress .failed { fill: var(--failed); }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.s-completed { background: var(--ok); } .s-running, .s-in_progress { background: var(--warn); } .s-failed { background: var(--failed); }
.s-interrupted { background: var(--interrupted); } .s-pending { background: var(--pending); } .s-skipped { background: var(--skipped); } .s-sent { background: var(--ok); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f4f6f9; position: sticky; top: 0; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort="ascending"]::after { content: " ▲"; } th[aria-sort="descending"]::after { content: " ▼"; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.time { white-space: nowrap; }
td.error { max-width: 420px; color: var(--failed); word-break: break-word; }
details summary { cursor: pointer; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 18px; }
figure.chart { margin: 0; padding: 10px 12px; border: 1px solid var(--line); border-radius: 6px; break-inside: avoid; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); } svg .value { fill: var(--muted); }
svg .axis { stroke: var(--line); }
.b-ok { fill: var(--ok); } .b-warn { fill: var(--warn); } .b-failed { fill: var(--failed); } .b-interrupted { fill: var(--interrupted); }
.b-duration { fill: #3f6fb5; } .b-records { fill: #00897b; }
.s-stale { background: var(--failed); } .bad { color: var(--failed); } .good { color: var(--ok); }
td.runner, td.nowrap { white-space: nowrap; }
.progress.mini { height: 6px; margin-top: 4px; max-width: 140px; margin-left: auto; }
td .progress.mini { width: 140px; }
.failed-list { font-size: 12px; } .failed-list > * { display: block; white-space: nowrap; }
.failed-table { color: var(--failed); cursor: help; }
main.login { max-width: 380px; margin: 80px auto; padding: 24px 28px; border: 1px solid var(--line); border-radius: 8px; }
main.login form { display: grid; gap: 8px; margin: 16px 0; }
main.login input[type=password] { font: inherit; padding: 7px 9px; border: 1px solid var(--line); border-radius: 5px; }
main.login button { font: inherit; font-weight: 600; padding: 7px 9px; border: 0; border-radius: 5px; background: #1565c0; color: #fff; cursor: pointer; }
.login-error { color: var(--failed); font-weight: 600; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; } nav, .no-print { display: none; }
  th { position: static; } tr, figure.chart { break-inside: avoid; } .charts { grid-template-columns: 1fr 1fr; }
  .status { color: #000; border: 1px solid #999; background: none !important; }
  details > *:not(summary) { display: block; } a { color: inherit; text-decoration: none; }
}
"#;

/// Sorts any `table.sortable` by the clicked column (numbers by `data-sort`).
const SORT_SCRIPT: &str = r#"
document.querySelectorAll("table.sortable").forEach(function (t) {
  t.querySelectorAll("thead th").forEach(function (th, i) {
    th.addEventListener("click", function () {
      var body = t.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute("aria-sort") !== "ascending";
      t.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var num = th.classList.contains("num");
      function key(r) { var c = r.cells[i]; return c.hasAttribute("data-sort") ? c.getAttribute("data-sort") : c.textContent.trim(); }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var d = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return asc ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"#;

/// Where a page's stylesheet and script live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Inside the page: a report file opens anywhere, with no network.
    Standalone,
    /// Served by `serve` at [`STYLE_PATH`] and [`SCRIPT_PATH`], so that its
    /// Content-Security-Policy allows no inline style or script at all.
    Served,
}

/// Where `serve` answers with the stylesheet.
pub const STYLE_PATH: &str = "/assets/branchsync.css";
/// Where `serve` answers with the sorting script.
pub const SCRIPT_PATH: &str = "/assets/sort.js";

/// The stylesheet every page uses.
pub fn stylesheet() -> &'static str {
    STYLE
}

/// The script that sorts tables.
pub fn script() -> &'static str {
    SORT_SCRIPT
}

/// A whole page: `title`, `body` (HTML), reloaded every `refresh` seconds
/// when given (the dashboard's live view of a running batch), its style and
/// script inline (a report file) or linked (a served page).
pub fn document(title: &str, body: &str, refresh: Option<u32>, frame: Frame) -> String {
    let refresh = refresh
        .map(|s| format!("<meta http-equiv=\"refresh\" content=\"{s}\">\n"))
        .unwrap_or_default();
    let (style, script) = match frame {
        Frame::Standalone => (
            format!("<style>{STYLE}</style>"),
            format!("<script>{SORT_SCRIPT}</script>"),
        ),
        Frame::Served => (
            format!("<link rel=\"stylesheet\" href=\"{STYLE_PATH}\">"),
            format!("<script src=\"{SCRIPT_PATH}\"></script>"),
        ),
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"branchsync {version}\">\n{refresh}<title>{title}</title>\n{style}\n</head>\n<body>\n{body}\n<footer>branchsync {version} · generated {now}</footer>\n{script}\n</body>\n</html>\n",
        version = env!("CARGO_PKG_VERSION"),
        title = escape(title),
        now = escape(&local_time(&crate::journal::now_utc())),
    )
}

/// A bar of `parts` (percent of the width, and the class that colours
/// each), drawn as SVG shapes: sizes are attributes, not inline styles, so a
/// strict Content-Security-Policy draws it too.
pub fn bar(class: &str, title: &str, parts: &[(f64, &str)]) -> String {
    let mut x = 0.0;
    let mut rects = String::new();
    for (width, part) in parts {
        let w = width.clamp(0.0, 100.0 - x);
        if w > 0.0 {
            rects.push_str(&format!(
                "<rect class=\"{part}\" x=\"{x:.2}\" width=\"{w:.2}\" height=\"1\"/>"
            ));
        }
        x += w;
    }
    format!(
        "<svg class=\"{class}\" viewBox=\"0 0 100 1\" preserveAspectRatio=\"none\" role=\"img\"><title>{}</title>{rects}</svg>",
        escape(title)
    )
}
