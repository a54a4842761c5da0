//! The dashboard over real HTTP: `branchsync serve` runs as a child process
//! on a free loopback port, over a real journal file built through the
//! journal API, and is asked what a browser and a script would ask — while
//! the test writes the journal underneath it.

mod common;

use branchsync::journal::{
    BatchRow, BatchStatus, Journal, NewProgress, ProgressStatus, RowCounts, RunLock,
};
use common::journal::{batch, row, Site, JOURNAL_ONLY};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

const LATEST: &str = "sync_20261126084522_AbCd1234";
const OLDER: &str = "sync_20261120100000_OLDer001";

/// A site whose config also has a Slack channel (its token must never
/// show), with an older completed batch and the latest, failed one.
fn site() -> Site {
    let site = Site::with_config(&format!(
        "{JOURNAL_ONLY}\n[[notify]]\nkind = \"slack\"\nurl = \"https://hooks.example/services/SECRETTOKEN\"\n"
    ));
    let mut ok = row(LATEST, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    ok.records_processed = 15234;
    ok.duration_seconds = Some(125.0);
    let mut bad = row(LATEST, "pgsql_jkt", "c_order", ProgressStatus::Failed);
    bad.error_message = Some("column \"grandtotal\": <type> text at the source".into());
    let mut old = row(OLDER, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    old.records_processed = 99;
    site.journal()
        .import_batches(vec![
            (
                ended(OLDER, BatchStatus::Completed, "2026-11-20T10:00:00.000Z"),
                vec![old],
            ),
            (
                ended(LATEST, BatchStatus::Failed, "2026-11-26T08:45:22.000Z"),
                vec![ok, bad],
            ),
        ])
        .unwrap();
    site
}

/// What this file asks of a site.
trait Ask {
    /// `sync-status …` parsed as JSON.
    fn status_json(&self, args: &[&str]) -> Value;
    /// `serve` on a free loopback port.
    fn serve(&self) -> Dashboard;
}

impl Ask for Site {
    fn status_json(&self, args: &[&str]) -> Value {
        let out = self
            .command()
            .arg("sync-status")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn serve(&self) -> Dashboard {
        let mut child = self
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Dashboard { child, base }
    }
}

/// A batch of 2 tables, ended.
fn ended(id: &str, status: BatchStatus, started: &str) -> BatchRow {
    let mut b = batch(id, status, started);
    b.total_tables = 2;
    b.completed_tables = 1;
    b.failed_tables = i64::from(status == BatchStatus::Failed);
    b.completed_at = Some("2026-11-26T09:47:27.000Z".into());
    b.duration_seconds = Some(3725.0);
    b
}

/// A running `serve`, killed when dropped.
struct Dashboard {
    child: Child,
    base: String,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, headers (lower-case names) and body of one plain HTTP/1.1 request.
fn request(base: &str, method: &str, path: &str, host: Option<&str>) -> (u16, String, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        host.unwrap_or(addr)
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

impl Dashboard {
    fn get(&self, path: &str) -> (u16, String, String) {
        request(&self.base, "GET", path, None)
    }

    fn page(&self, path: &str) -> String {
        let (status, head, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            head.contains("content-type: text/html; charset=utf-8"),
            "{head}"
        );
        body
    }

    fn json(&self, path: &str) -> Value {
        let (status, head, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        assert!(head.contains("content-type: application/json"), "{head}");
        serde_json::from_str(&body).unwrap()
    }
}

#[test]
fn metrics_are_prometheus_text_of_the_latest_batch() {
    let site = site();
    let dash = site.serve();
    let (status, head, body) = dash.get("/metrics");
    assert_eq!(status, 200, "{body}");
    assert!(
        head.to_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let metrics = common::metrics::Metrics::parse(&body);
    let value = |name: &str, labels: &[(&str, &str)]| metrics.value(name, labels);
    // The latest batch failed; the older one completed.
    assert_eq!(
        value("branchsync_last_batch_status", &[("status", "failed")]),
        Some(1.0)
    );
    assert_eq!(
        value("branchsync_last_batch_status", &[("status", "completed")]),
        Some(0.0)
    );
    assert!(value("branchsync_last_success_timestamp_seconds", &[]).is_some());
    let m_product = [("connection", "pgsql_lmp"), ("table", "m_product")];
    assert_eq!(value("branchsync_table_rows", &m_product), Some(15234.0));
    assert_eq!(
        value("branchsync_table_duration_seconds", &m_product),
        Some(125.0)
    );
    let c_order = [("connection", "pgsql_jkt"), ("table", "c_order")];
    assert_eq!(value("branchsync_table_failed", &c_order), Some(1.0));
}

#[test]
fn api_documents_equal_sync_status_json() {
    let site = site();
    let server = site.serve();
    assert_eq!(
        server.json(&format!("/api/batches/{LATEST}")),
        site.status_json(&[LATEST, "--json"])
    );
    assert_eq!(
        server.json(&format!("/api/batches/{OLDER}")),
        site.status_json(&[OLDER, "--json"])
    );
    assert_eq!(
        server.json("/api/batches"),
        site.status_json(&["--all", "--json"])
    );
    assert_eq!(
        server.json("/api/batches?limit=1"),
        site.status_json(&["--all", "--json", "--limit", "1"])
    );
    assert_eq!(
        server.json("/api/batches/latest"),
        site.status_json(&["--latest", "--json"])
    );
    let doc = server.json(&format!("/api/batches/{LATEST}"));
    assert_eq!(doc["tables"][0]["records_processed"], 15234);

    let (status, _, body) = server.get("/api/batches/sync_20991231000000_Nope0000");
    assert_eq!(status, 404);
    assert!(body.contains("no batch with id"));
    let (status, _, body) = server.get("/api/batches/../../config");
    assert!(status == 400 || status == 404, "{status}");
    assert!(body.contains("error"));
}

#[test]
fn pages_show_batches_rows_and_charts_and_nothing_else() {
    let site = site();
    let server = site.serve();
    let index = server.page("/");
    for id in [LATEST, OLDER] {
        assert!(
            index.contains(&format!("<a href=\"/batches/{id}\"><code>{id}</code></a>")),
            "{id}"
        );
    }
    assert!(
        index.contains("id=\"chart-batch-history\"") && index.contains("id=\"chart-success-rate\"")
    );
    assert_eq!(index.matches("<g class=\"column\">").count(), 2);
    assert!(index.contains("2 batches in the journal"));
    assert!(
        index.contains("http-equiv=\"refresh\""),
        "the list follows new batches"
    );

    let detail = server.page(&format!("/batches/{LATEST}"));
    assert!(detail.contains(&format!("Sync Batch Details: <code>{LATEST}</code>")));
    assert!(detail.contains("<dt>Started</dt><dd>2026-11-26 15:45:22</dd>"));
    assert_eq!(detail.matches("<tr data-status=").count(), 2);
    assert!(detail.contains(">15,234</td>"));
    assert!(detail.contains("column &quot;grandtotal&quot;: &lt;type&gt; text"));
    for id in [
        "duration-per-table",
        "records-per-table",
        "success-rate",
        "batch-history",
    ] {
        assert!(detail.contains(&format!("id=\"chart-{id}\"")), "{id}");
    }
    assert!(
        !detail.contains("http-equiv=\"refresh\""),
        "an ended batch does not reload"
    );

    // The dashboard's batch page carries the same rows as the exported report.
    let out = site
        .command()
        .args(["export", LATEST, "--format", "html"])
        .output()
        .unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    let table = |page: &str| {
        let start = page
            .find("<table class=\"sortable\" id=\"progress\">")
            .unwrap();
        page[start..start + page[start..].find("</table>").unwrap()].to_owned()
    };
    assert_eq!(table(&detail), table(&report));

    // Only the journal: never the config, its URLs or secrets.
    for page in [&index, &detail] {
        assert!(!page.contains("SECRETTOKEN") && !page.contains("hooks.example"));
        // Nothing from elsewhere: the only links are the server's own
        // stylesheet and script, and nothing is inline (the strict CSP).
        let links: Vec<&str> = page
            .match_indices("href=\"/assets/")
            .chain(page.match_indices("src=\""))
            .map(|(i, _)| &page[i..i + 40.min(page.len() - i)])
            .collect();
        assert_eq!(links.len(), 2, "{links:?}");
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/assets/branchsync.css\">"));
        assert!(page.contains("<script src=\"/assets/sort.js\"></script>"));
        assert!(
            !page.contains("<style") && !page.contains("style=\""),
            "inline style"
        );
        assert!(!page.contains("<script>"), "inline script");
    }
    for (path, kind, needle) in [
        ("/assets/branchsync.css", "text/css", ".progress"),
        ("/assets/sort.js", "text/javascript", "sortable"),
    ] {
        let (status, head, body) = server.get(path);
        assert_eq!(status, 200, "{path}");
        assert!(head.contains(&format!("content-type: {kind}")), "{head}");
        assert!(body.contains(needle), "{path}");
    }
    let (status, _, body) = server.get("/branchsync.toml");
    assert_eq!(status, 404);
    assert!(!body.contains("SECRETTOKEN"));
}

#[test]
fn it_is_read_only_loopback_only_and_says_so_in_headers() {
    let site = site();
    let server = site.serve();
    let (status, head, _) = server.get("/");
    assert_eq!(status, 200);
    assert!(head.contains("cache-control: no-store"));
    assert!(
        head.contains(
            "content-security-policy: default-src 'none'; style-src 'self'; script-src 'self';"
        ),
        "{head}"
    );
    assert!(!head.contains("unsafe-inline"), "{head}");
    let (status, head, _) = request(&server.base, "POST", "/api/batches", None);
    assert_eq!(status, 405);
    assert!(head.contains("allow: get, head"));
    let (status, _, body) = request(
        &server.base,
        "DELETE",
        &format!("/api/batches/{LATEST}"),
        None,
    );
    assert_eq!(status, 405);
    assert!(body.contains("read-only"));
    let (status, _, _) = request(&server.base, "GET", "/", Some("attacker.example:8080"));
    assert_eq!(status, 421, "a rebound DNS name is refused");
    let (status, _, _) = request(&server.base, "GET", "/", Some("localhost"));
    assert_eq!(status, 200);
    assert_eq!(site.journal().batch_count().unwrap(), 2);
}

#[test]
fn a_running_batch_updates_live_while_the_journal_is_written() {
    let site = site();
    let server = site.serve();
    let journal_path = site.journal_path();
    // A sync "process" of our own: it holds the run lock, so the batch is live.
    let mut lock = RunLock::acquire(&journal_path).unwrap();
    let mut j = site.journal();
    let id = "sync_20261126100000_Live0001";
    let rows: Vec<NewProgress> = (0..6)
        .map(|i| NewProgress {
            connection_name: format!("pgsql_b{i}"),
            table_name: "c_invoiceline".into(),
            model_name: "CInvoiceLine".into(),
            step: 2,
        })
        .collect();
    j.create_batch(id, "{}", &rows).unwrap();
    lock.set_holder(Some(id)).unwrap();

    let index = server.page("/");
    assert!(index.contains(id) && index.contains("<strong>1 running</strong>"));
    let page = server.page(&format!("/batches/{id}"));
    assert!(page.contains("<meta http-equiv=\"refresh\" content=\"3\">"));
    assert!(page.contains("0/6 tables (0.0%)"));

    // The journal is written while the dashboard is asked, from a thread
    // (with the test's one connection: a process keeps one per journal file).
    let writer = std::thread::spawn(move || {
        write_progress(&mut j, id);
        j
    });
    for _ in 0..20 {
        let doc = server.json(&format!("/api/batches/{id}"));
        assert_eq!(doc["batch"]["batch_id"], id);
        let _ = server.page(&format!("/batches/{id}"));
    }
    let mut j = writer.join().unwrap();
    let page = server.page(&format!("/batches/{id}"));
    let summary = &page[page.find("<dl").unwrap()..page.find("</dl>").unwrap()];
    assert!(
        summary.contains("6/6 tables (100.0%)"),
        "the page shows the new progress: {summary}"
    );
    assert!(page.contains(">1,000</td>"));
    let doc = server.json(&format!("/api/batches/{id}"));
    assert_eq!(doc["batch"]["status"], "running");
    assert_eq!(doc["batch"]["completed_tables"], 6);
    assert_eq!(doc, site.status_json(&[id, "--json"]));

    j.finish_batch(id, BatchStatus::Completed).unwrap();
    drop(lock);
    let page = server.page(&format!("/batches/{id}"));
    assert!(page.contains("<span class=\"status s-completed\">completed</span>"));
    assert!(!page.contains("http-equiv=\"refresh\""));
}

fn write_progress(j: &mut Journal, id: &str) {
    for i in 0..6 {
        let conn = format!("pgsql_b{i}");
        j.start_progress(id, &conn, "c_invoiceline").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        j.complete_progress(
            id,
            &conn,
            "c_invoiceline",
            RowCounts {
                processed: 1000,
                skipped: 0,
                ..Default::default()
            },
        )
        .unwrap();
    }
}

#[test]
fn an_old_batch_s_history_and_success_rates_stop_at_that_batch() {
    let site = site();
    let server = site.serve();
    let older = server.page(&format!("/batches/{OLDER}"));
    let (_, chart) = older
        .split_once("Batch duration history")
        .expect("history chart");
    assert!(chart.starts_with(" (last batch)"), "{chart}");
    assert!(
        !chart.contains(LATEST),
        "a newer batch in the history: {chart}"
    );
    // Nor do its success rates count the newer batch (whose c_order failed).
    let (_, success) = older
        .split_once("Success rate per table")
        .expect("success chart");
    let success = &success[..success.find("</figure>").unwrap()];
    assert!(success.starts_with(" (last batch)"), "{success}");
    assert!(success.contains("100.0% (1/1)"), "{success}");
    assert!(!success.contains("c_order"), "{success}");
    let index = server.page("/");
    let (_, success) = index.split_once("Success rate per table").unwrap();
    assert!(success.starts_with(" (last 2 batches)"), "{success}");
    let latest = server.page(&format!("/batches/{LATEST}"));
    let (_, chart) = latest.split_once("Batch duration history").unwrap();
    assert!(chart.starts_with(" (last 2 batches)"), "{chart}");
    assert!(chart.contains(OLDER) && chart.contains(LATEST), "{chart}");
}
