//! Notifications against real local listeners started here: an HTTP sink
//! (webhook, Slack, Discord payloads), an SMTP sink (email in plain SMTP), a
//! server answering 500 or 404, one that never answers, a closed port — and,
//! through the real binary, a sync whose failing webhook changes nothing of
//! the batch's outcome.

#[path = "notify/sinks.rs"]
mod sinks;

use assert_cmd::Command;
use branchsync::config::Config;
use branchsync::journal::{BatchStatus, Journal, NewProgress, NotificationStatus, RowCounts};
use branchsync::notify::notify_with;
use sinks::{closed_port, quoted_printable, HttpSink, SmtpSink};
use std::path::Path;
use std::time::{Duration, Instant};

const BATCH: &str = "sync_20261126084522_AbCd1234";
const FAST: Duration = Duration::from_millis(20);

/// A journal with a failed batch of 3 tables: one completed, one failed
/// with a long error, one failed after retries.
fn failed_batch(dir: &Path) -> Journal {
    let mut j = Journal::open(&dir.join("journal.db")).unwrap();
    let rows: Vec<NewProgress> = [
        ("pgsql_lmp", "m_product"),
        ("pgsql_jkt", "c_order"),
        ("pgsql_sby", "c_invoice"),
    ]
    .iter()
    .map(|(c, t)| NewProgress {
        connection_name: (*c).into(),
        table_name: (*t).into(),
        model_name: (*t).into(),
        step: 2,
    })
    .collect();
    j.create_batch(BATCH, "{}", &rows).unwrap();
    j.start_progress(BATCH, "pgsql_lmp", "m_product").unwrap();
    j.complete_progress(
        BATCH,
        "pgsql_lmp",
        "m_product",
        RowCounts {
            processed: 15234,
            skipped: 0,
            ..Default::default()
        },
    )
    .unwrap();
    j.start_progress(BATCH, "pgsql_jkt", "c_order").unwrap();
    let long = format!(
        "column \"grandtotal\" of c_order: type text at the source, numeric at the target; {}",
        "detail ".repeat(200)
    );
    j.fail_progress(BATCH, "pgsql_jkt", "c_order", &long)
        .unwrap();
    j.start_progress(BATCH, "pgsql_sby", "c_invoice").unwrap();
    j.fail_progress(BATCH, "pgsql_sby", "c_invoice", "connection timed out")
        .unwrap();
    j.finish_batch(BATCH, BatchStatus::Failed).unwrap();
    j
}

fn config(dir: &Path, notify: &str) -> Config {
    Config::parse(
        &format!("[journal]\npath = \"journal.db\"\n\n{notify}"),
        &dir.join("branchsync.toml"),
        &branchsync::driver::registry::Registry,
    )
    .unwrap()
}

#[test]
fn every_kind_delivers_its_payload_to_a_local_listener() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = failed_batch(dir.path());
    let http = HttpSink::start(200);
    let smtp = SmtpSink::start();
    std::env::set_var(
        "BS_TEST_SLACK_URL",
        http.url("/services/T000/B000/slacktoken"),
    );
    let cfg = config(
        dir.path(),
        &format!(
            r#"
[[notify]]
kind = "webhook"
name = "ops-hook"
url = "{hook}"

[[notify]]
kind = "slack"
url_env = "BS_TEST_SLACK_URL"

[[notify]]
kind = "discord"
url = "{discord}"
on = ["failed"]

[[notify]]
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp}
tls = "none"
from = "branchsync <sync@example.com>"
to = ["ops@example.com", "it@example.com"]
"#,
            hook = http.url("/hook"),
            discord = http.url("/api/webhooks/1/discordtoken"),
            smtp = smtp.port
        ),
    );
    let deliveries = notify_with(&cfg, &mut journal, BATCH, FAST);
    assert_eq!(deliveries.len(), 4);
    for d in &deliveries {
        assert!(d.result.is_ok(), "{d:?}");
        assert_eq!(d.attempts, 1);
    }

    let requests = http.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    let by_path = |p: &str| requests.iter().find(|r| r.path == p).unwrap().clone();
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.content_type, "application/json");
    }

    let hook = by_path("/hook").json();
    assert_eq!(hook["event"], "failed");
    assert_eq!(hook["batch_id"], BATCH);
    assert_eq!(hook["total_tables"], 3);
    assert_eq!(hook["completed_tables"], 1);
    assert_eq!(hook["failed_tables"], 2);
    assert_eq!(hook["progress"], "1/3 tables completed, 2 failed");
    assert!(!hook["host"].as_str().unwrap().is_empty());
    assert!(hook["duration_seconds"].is_number());
    let failed = hook["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 2);
    assert_eq!(failed[0]["connection_name"], "pgsql_jkt");
    assert_eq!(failed[0]["table_name"], "c_order");
    let err = failed[0]["error_message"].as_str().unwrap();
    assert!(err.starts_with("column \"grandtotal\" of c_order"));
    assert!(
        err.chars().count() <= 1001 && err.ends_with('…'),
        "cut to fit: {}",
        err.len()
    );
    assert_eq!(failed[1]["error_message"], "connection timed out");

    let slack = by_path("/services/T000/B000/slacktoken").json();
    let text = slack["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(":x: Batch {BATCH} failed on ")),
        "{text}"
    );
    assert!(
        text.contains("Progress: 1/3 tables completed, 2 failed"),
        "{text}"
    );
    assert!(
        text.contains("c_invoice from pgsql_sby: connection timed out"),
        "{text}"
    );

    let discord = by_path("/api/webhooks/1/discordtoken").json();
    assert!(discord["content"].as_str().unwrap().contains(BATCH));
    assert!(discord["content"].as_str().unwrap().chars().count() <= 2000);
    let embed = &discord["embeds"][0];
    assert_eq!(embed["title"], format!("Batch {BATCH}"));
    assert_eq!(embed["fields"][0]["value"], "failed");
    assert_eq!(embed["fields"][1]["value"], "1/3");
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("c_order from pgsql_jkt"));

    let mails = smtp.mails.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert!(!mail.helo.is_empty(), "the client greets with a name");
    assert_eq!(mail.from, "<sync@example.com>");
    assert_eq!(mail.to, vec!["<ops@example.com>", "<it@example.com>"]);
    let data = quoted_printable(&mail.data.replace("\r\n ", " "));
    assert!(
        data.contains(&format!("Subject: [branchsync] Batch {BATCH} failed on ")),
        "{data}"
    );
    assert!(
        data.contains("To: ops@example.com, it@example.com"),
        "{data}"
    );
    assert!(
        data.contains("c_invoice from pgsql_sby: connection timed out"),
        "{data}"
    );
    assert!(
        data.contains(&format!(
            "Resume with: branchsync sync-all --resume={BATCH}"
        )),
        "{data}"
    );

    let recorded = journal.notifications(BATCH).unwrap();
    assert_eq!(recorded.len(), 4);
    assert!(recorded
        .iter()
        .all(|n| n.status == NotificationStatus::Sent && n.event == "failed"));
    assert_eq!(recorded[0].notifier, "[[notify]] #1 \"ops-hook\"");
    assert_eq!(recorded[3].kind, "email");
}

#[test]
fn entries_announce_only_the_outcomes_they_list() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = failed_batch(dir.path());
    let http = HttpSink::start(200);
    let cfg = config(
        dir.path(),
        &format!(
            "[[notify]]\nkind = \"webhook\"\nurl = \"{}\"\non = [\"completed\"]\n",
            http.url("/only-completed")
        ),
    );
    assert!(notify_with(&cfg, &mut journal, BATCH, FAST).is_empty());
    assert!(http.requests().is_empty());
    assert!(journal.notifications(BATCH).unwrap().is_empty());
}

#[test]
fn failures_are_retried_three_times_then_recorded_without_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = failed_batch(dir.path());
    let broken = HttpSink::start(500);
    let revoked = HttpSink::start(404);
    let silent = HttpSink::start(0);
    let refused = closed_port();
    let cfg = config(
        dir.path(),
        &format!(
            r#"
[[notify]]
kind = "webhook"
url = "{}"
[[notify]]
kind = "slack"
url = "{}"
[[notify]]
kind = "discord"
url = "{}"
timeout = "300ms"
[[notify]]
kind = "webhook"
url = "http://127.0.0.1:{refused}/hooks/SECRETTOKEN"
[[notify]]
kind = "slack"
url_env = "BS_TEST_UNSET_SLACK_URL"
"#,
            broken.url("/hooks/SECRETTOKEN"),
            revoked.url("/hooks/SECRETTOKEN"),
            silent.url("/hooks/SECRETTOKEN"),
        ),
    );
    let started = Instant::now();
    let deliveries = notify_with(&cfg, &mut journal, BATCH, FAST);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded: {:?}",
        started.elapsed()
    );
    assert_eq!(broken.requests().len(), 3, "a 500 is retried");
    assert_eq!(revoked.requests().len(), 1, "a 404 is not retried");
    assert_eq!(silent.requests().len(), 3, "a timeout is retried");

    let recorded = journal.notifications(BATCH).unwrap();
    assert_eq!(recorded.len(), 5);
    assert!(recorded
        .iter()
        .all(|n| n.status == NotificationStatus::Failed));
    let attempts: Vec<i64> = recorded.iter().map(|n| n.attempts).collect();
    assert_eq!(attempts, vec![3, 1, 3, 3, 1]);
    let errors: Vec<&str> = recorded
        .iter()
        .map(|n| n.error_message.as_deref().unwrap())
        .collect();
    assert!(
        errors[0].contains(&format!(
            "127.0.0.1:{} answered HTTP 500: invalid_token",
            broken.port
        )),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("HTTP 404") && errors[1].contains("revoked"),
        "{}",
        errors[1]
    );
    assert!(errors[2].contains("within 300ms"), "{}", errors[2]);
    assert!(
        errors[3].contains(&format!("127.0.0.1:{refused}")),
        "{}",
        errors[3]
    );
    assert!(
        errors[4].contains("BS_TEST_UNSET_SLACK_URL (url_env) is not set"),
        "{}",
        errors[4]
    );
    for (e, d) in errors.iter().zip(&deliveries) {
        assert!(!e.contains("SECRETTOKEN"), "{e}");
        assert!(d.result.is_err());
    }
}

/// A site with two SQLite branches (`b2` lacks `m_product`, so its table
/// fails), a SQLite central file, and the given `[[notify]]` entries.
fn sqlite_site(notify: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let b1 = rusqlite::Connection::open(dir.path().join("b1.db")).unwrap();
    b1.execute_batch(
        "CREATE TABLE m_product (m_product_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         INSERT INTO m_product VALUES (1, 'Produk A'), (2, 'Produk B'), (3, 'Produk C');",
    )
    .unwrap();
    let b2 = rusqlite::Connection::open(dir.path().join("b2.db")).unwrap();
    b2.execute_batch("CREATE TABLE other (x INTEGER);").unwrap();
    std::fs::write(
        dir.path().join("branchsync.toml"),
        format!(
            r#"[journal]
path = "storage/journal.db"

[engine]
threads = 2
retries = 0
retry_backoff = "10ms"

[target]
driver = "sqlite"
url = "central.db"

[[connection]]
name = "b1"
driver = "sqlite"
url = "b1.db"

[[connection]]
name = "b2"
driver = "sqlite"
url = "b2.db"

[[table]]
model = "MProduct"
source = "m_product"
key = ["m_product_id"]
mode = "upsert"

{notify}"#
        ),
    )
    .unwrap();
    dir
}

#[test]
fn a_failing_webhook_does_not_change_the_outcome_of_a_real_sync() {
    let sink = HttpSink::start(200);
    let refused = closed_port();
    let site = sqlite_site(&format!(
        r#"[[notify]]
kind = "webhook"
url = "http://127.0.0.1:{refused}/down"
on = ["failed", "interrupted", "completed"]
timeout = "1s"

[[notify]]
kind = "webhook"
url = "{}"
on = ["failed"]
"#,
        sink.url("/up")
    ));
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(site.path().join("branchsync.toml"))
        .arg("sync-all")
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // exit 1: the batch finished with one failed table (b2 has no m_product),
    // exactly as it would without notifications.
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("Notify: [[notify]] #1 (webhook) could not announce batch"),
        "{stderr}"
    );

    let journal = Journal::open(&site.path().join("storage/journal.db")).unwrap();
    let batch = journal.latest_batch().unwrap().unwrap();
    assert_eq!(batch.status, BatchStatus::Failed);
    assert_eq!((batch.completed_tables, batch.failed_tables), (1, 1));
    let central = rusqlite::Connection::open(site.path().join("central.db")).unwrap();
    let n: i64 = central
        .query_row(
            "SELECT count(*) FROM m_product WHERE branch = 'b1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 3, "the data of the completed table is there");

    let recorded = journal.notifications(&batch.batch_id).unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].status, NotificationStatus::Failed);
    assert_eq!(recorded[0].attempts, 3);
    assert_eq!(recorded[1].status, NotificationStatus::Sent);
    let got = sink.requests();
    assert_eq!(got.len(), 1);
    let payload = got[0].json();
    assert_eq!(payload["batch_id"], batch.batch_id.as_str());
    assert_eq!(payload["failed"][0]["connection_name"], "b2");
    assert_eq!(journal.integrity_check().unwrap(), "ok");
}
