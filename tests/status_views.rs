//! The journal views through the real binary: `sync-status` (detail, list,
//! failed only, JSON, colours), `export` (CSV, JSON) and `stats`, each read
//! from a real journal file built through the journal API, with a config that
//! has nothing but `[journal]`.

mod common;

use assert_cmd::Command;
use branchsync::journal::{format_ts, BatchStatus, ProgressStatus, RunLock, PROGRESS_COLUMNS};
use common::journal::{batch, row, Site};
use serde_json::Value;
use std::path::Path;

const LATEST: &str = "sync_20261126084522_AbCd1234";
const OLDER: &str = "sync_20261120100000_OLDer001";
const LONG_ERROR_HEAD: &str =
    "column \"name\" of m_product: type text at the source, integer at the target";

fn long_error() -> String {
    format!("{LONG_ERROR_HEAD}; {}", "detail ".repeat(30))
}

/// The latest batch: failed, 120 tables, 45 completed, 2 failed, 73 pending.
/// One completed row moved 15,234 records in 125 s; one failed row has a long
/// error. Plus an older completed batch of 3 tables.
fn seed(site: &Site) {
    let mut rows = Vec::new();
    for i in 0..120 {
        let status = match i {
            0..=44 => ProgressStatus::Completed,
            45 | 46 => ProgressStatus::Failed,
            _ => ProgressStatus::Pending,
        };
        let mut r = row(
            LATEST,
            &format!("branch_{:02}", i % 17),
            &format!("table_{i:03}"),
            status,
        );
        if status != ProgressStatus::Pending {
            r.started_at = Some("2026-11-26T08:46:00.000Z".into());
            r.completed_at = Some("2026-11-26T08:46:10.000Z".into());
            r.duration_seconds = Some(10.0);
            r.records_processed = if status == ProgressStatus::Completed {
                100
            } else {
                0
            };
        }
        rows.push(r);
    }
    rows[0].connection_name = "pgsql_lmp".into();
    rows[0].table_name = "m_product".into();
    rows[0].model_name = "MProduct".into();
    rows[0].records_processed = 15234;
    rows[0].duration_seconds = Some(125.0);
    rows[45].connection_name = "pgsql_jkt".into();
    rows[45].table_name = "c_order".into();
    rows[45].error_message = Some(long_error());
    rows[45].retry_count = 3;
    rows[46].error_message = Some("connection refused".into());
    let mut latest = batch(LATEST, BatchStatus::Failed, "2026-11-26T08:45:22.000Z");
    latest.total_tables = 120;
    latest.completed_tables = 45;
    latest.failed_tables = 2;
    latest.completed_at = Some("2026-11-26T09:47:27.000Z".into());
    latest.duration_seconds = Some(3725.0);

    let mut older = batch(OLDER, BatchStatus::Completed, "2026-11-20T10:00:00.000Z");
    older.total_tables = 3;
    older.completed_tables = 3;
    older.completed_at = Some("2026-11-20T10:00:30.000Z".into());
    older.duration_seconds = Some(30.0);
    let older_rows: Vec<_> = ["ad_org", "m_product", "c_bpartner"]
        .iter()
        .map(|t| {
            let mut r = row(OLDER, "pgsql_lmp", t, ProgressStatus::Completed);
            r.records_processed = 7;
            r.duration_seconds = Some(10.0);
            r
        })
        .collect();
    let n = site
        .journal()
        .import_batches(vec![(older, older_rows), (latest, rows)])
        .unwrap();
    assert_eq!(n, 2);
}

fn line_with<'a>(text: &'a str, needles: &[&str]) -> &'a str {
    text.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in\n{text}"))
}

#[test]
fn detail_view_has_the_seed_layout() {
    let site = Site::new();
    seed(&site);
    for args in [
        vec!["sync-status"],
        vec!["sync-status", "--latest"],
        vec!["sync-status", LATEST],
    ] {
        let text = site.stdout(&args);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "=".repeat(80), "{args:?}");
        assert_eq!(lines[1], format!("Sync Batch Details: {LATEST}"));
        assert_eq!(lines[2], "=".repeat(80));
        let summary = "Batch Summary:\n  Status: failed\n  Started: 2026-11-26 15:45:22\n  Ended: 2026-11-26 16:47:27\n  Duration: 01:02:05\n  Progress: 45/120 tables (37.5%)\n  Failed: 2 tables\n";
        assert!(text.contains(summary), "{text}");
        assert!(text.contains("Table Progress:\n┌"), "{text}");
        let head = line_with(
            &text,
            &[
                "Connection",
                "Table",
                "Status",
                "Records",
                "Duration",
                "Error",
            ],
        );
        assert!(head.starts_with('│'), "{head}");
        // every progress row is a line of the table
        assert_eq!(text.lines().filter(|l| l.contains("table_")).count(), 118);
        let product = line_with(&text, &["pgsql_lmp", "m_product"]);
        assert!(
            product.contains("completed")
                && product.contains("15,234")
                && product.contains("00:02:05"),
            "{product}"
        );
        let pending = line_with(&text, &["table_100"]);
        assert!(pending.contains("pending"), "{pending}");
        assert_eq!(
            pending.matches("N/A").count(),
            7,
            "records, duration, written, skipped, deleted, read, sent: {pending}"
        );
        let failed = line_with(&text, &["pgsql_jkt", "c_order"]);
        assert!(
            failed.contains("failed") && failed.contains("N/A") && failed.contains("00:00:10"),
            "{failed}"
        );
        assert!(failed.contains('…'), "long errors are cut: {failed}");
        assert!(failed.contains("column \"name\" of m_product"), "{failed}");
        assert!(
            !failed.contains("detail detail detail detail detail detail detail"),
            "{failed}"
        );
        // The whole cause, under the table.
        let (_, full) = text.split_once("\nErrors in full:\n").expect("full errors");
        assert!(
            full.contains("pgsql_jkt / c_order: ")
                && full.contains("detail detail detail detail detail detail detail"),
            "{full}"
        );
        assert!(text.contains(&format!("--resume={LATEST}")), "{text}");
    }
    let older = site.stdout(&["sync-status", OLDER]);
    assert!(
        older.contains("  Progress: 3/3 tables (100.0%)\n  Failed: 0 tables\n"),
        "{older}"
    );
    assert!(older.contains("  Duration: 00:00:30\n"), "{older}");
}

#[test]
fn failed_only_shows_failed_rows() {
    let site = Site::new();
    seed(&site);
    let text = site.stdout(&["sync-status", "--failed"]);
    assert!(text.contains("Table Progress (failed only):"), "{text}");
    assert!(
        text.contains("c_order") && text.contains("connection refused"),
        "{text}"
    );
    assert!(
        !text.contains("pgsql_lmp") && !text.contains("pending"),
        "{text}"
    );
    let v = site.json(&["sync-status", "--failed", "--json"]);
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 2);
    assert!(tables.iter().all(|t| t["status"] == "failed"));
    let text = site.stdout(&["sync-status", OLDER, "--failed"]);
    assert!(text.contains("No failed tables."), "{text}");
}

#[test]
fn list_view_newest_first_with_limit_and_hints() {
    let site = Site::new();
    let batches: Vec<_> = (0..25)
        .map(|i| {
            let id = format!("sync_202611{:02}120000_Batch{i:03}", i + 1);
            let mut b = batch(
                &id,
                BatchStatus::Completed,
                &format!("2026-11-{:02}T12:00:00.000Z", i + 1),
            );
            b.total_tables = 8;
            b.completed_tables = 6;
            b.failed_tables = 2;
            b.status = BatchStatus::Failed;
            b.duration_seconds = Some(59.6 + i as f64);
            b.completed_at = Some(format!("2026-11-{:02}T12:01:00.000Z", i + 1));
            (b, Vec::new())
        })
        .collect();
    site.journal().import_batches(batches).unwrap();
    let text = site.stdout(&["sync-status", "--all"]);
    assert!(text.contains("All Sync Batches: 20 newest of 25"), "{text}");
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)
                .filter(|w| w.starts_with("sync_"))
        })
        .collect();
    let expected: Vec<String> = (5..25)
        .rev()
        .map(|i| format!("sync_202611{:02}120000_Batch{i:03}", i + 1))
        .collect();
    assert_eq!(ids, expected, "{text}");
    for col in [
        "Batch ID", "Status", "Started", "Duration", "Progress", "Failed",
    ] {
        assert!(
            line_with(&text, &["Batch ID"]).contains(col),
            "{col}: {text}"
        );
    }
    let newest = line_with(&text, &["Batch024"]);
    assert!(
        newest.contains("failed") && newest.contains("2026-11-25 19:00:00"),
        "{newest}"
    );
    assert!(
        newest.contains("00:01:24") && newest.contains("6/8 (75.0%)"),
        "{newest}"
    );
    assert!(
        newest.trim_end_matches('│').trim_end().ends_with('2'),
        "{newest}"
    );
    // The hints carry the --config that was given, so they work when pasted.
    let config = site.dir.path().join("branchsync.toml");
    let config = config.display();
    assert!(text.ends_with(&format!(
        "\nUse: branchsync --config {config} sync-status <BATCH_ID> for details\nUse: branchsync --config {config} sync-all --resume=<BATCH_ID> to resume an interrupted batch\n"
    )), "{text}");
    let three = site.stdout(&["sync-status", "--all", "--limit", "3"]);
    assert!(
        three.contains("All Sync Batches: 3 newest of 25"),
        "{three}"
    );
    assert_eq!(
        three.lines().filter(|l| l.contains("_Batch0")).count(),
        3,
        "{three}"
    );

    let v = site.json(&["sync-status", "--all", "--json"]);
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 20);
    assert_eq!(list[0]["batch_id"], "sync_20261125120000_Batch024");
    assert_eq!(list[0]["status"], "failed");
    assert_eq!(list[0]["total_tables"], 8);
    assert_eq!(list[0]["started_at"], "2026-11-25T12:00:00.000Z");
    let v = site.json(&["sync-status", "--all", "--json", "--limit", "100"]);
    assert_eq!(v.as_array().unwrap().len(), 25);
}

#[test]
fn running_batch_shows_running_while_its_lock_is_held() {
    let site = Site::new();
    let id = "sync_20261126100000_RunNing1";
    let mut b = batch(id, BatchStatus::Running, "2026-11-26T10:00:00.000Z");
    b.total_tables = 2;
    b.completed_tables = 1;
    let mut done = row(id, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    done.records_processed = 1_234_567;
    done.duration_seconds = Some(3600.0);
    let mut busy = row(id, "pgsql_lmp", "c_order", ProgressStatus::InProgress);
    busy.started_at = Some("2026-11-26T10:00:05.000Z".into());
    site.journal()
        .import_batches(vec![(b, vec![done, busy])])
        .unwrap();
    let _lock = RunLock::acquire(&site.journal_path()).unwrap();
    let text = site.stdout(&["sync-status"]);
    assert!(text.contains("  Status: running\n  Started: 2026-11-26 17:00:00\n  Duration: Running..\n  Progress: 1/2 tables (50.0%)\n  Failed: 0 tables\n"), "{text}");
    assert!(line_with(&text, &["c_order"]).contains("N/A"), "{text}");
    // Where the run publishes its copies' live counts, the table shows them.
    let live = site.path(&format!("storage/live/{id}.json"));
    std::fs::create_dir_all(live.parent().unwrap()).unwrap();
    std::fs::write(
        &live,
        serde_json::json!({
            "written_at": format_ts(chrono::Utc::now()),
            "tables": [{"connection": "pgsql_lmp", "table": "c_order", "rows": 81234,
                        "started_at": "2026-11-26T10:00:05.000Z"}]
        })
        .to_string(),
    )
    .unwrap();
    let text = site.stdout(&["sync-status"]);
    assert!(
        line_with(&text, &["c_order"]).contains("81,234 so far"),
        "{text}"
    );
    assert!(
        line_with(&text, &["c_order"]).contains("Running.."),
        "{text}"
    );
    assert!(
        line_with(&text, &["c_order"]).contains("in_progress"),
        "{text}"
    );
    assert!(
        line_with(&text, &["m_product"]).contains("1,234,567"),
        "{text}"
    );
    assert!(
        line_with(&text, &["m_product"]).contains("01:00:00"),
        "{text}"
    );
    let list = site.stdout(&["sync-status", "--all"]);
    assert!(line_with(&list, &[id]).contains("Running.."), "{list}");
}

#[test]
fn colours_only_on_request_and_never_with_no_color() {
    let site = Site::new();
    seed(&site);
    // assert_cmd pipes stdout: not a terminal, so no colours
    for args in [
        vec!["sync-status"],
        vec!["sync-status", "--all"],
        vec!["stats"],
    ] {
        let plain = site.stdout(&args);
        assert!(!plain.contains('\x1b'), "{args:?}: {plain:?}");
    }
    let forced = site
        .cmd()
        .args(["sync-status"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    let forced = String::from_utf8(forced.stdout).unwrap();
    assert!(
        forced.contains("\x1b[31mfailed"),
        "batch status red: {forced:?}"
    );
    assert!(
        line_with(&forced, &["m_product"]).contains('\x1b'),
        "{forced:?}"
    );
    let list = site
        .cmd()
        .args(["sync-status", "--all"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8(list.stdout).unwrap().contains('\x1b'));
    for args in [
        vec!["sync-status"],
        vec!["sync-status", "--all"],
        vec!["stats"],
    ] {
        let out = site
            .cmd()
            .args(&args)
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('\x1b'), "{args:?} with NO_COLOR: {text:?}");
    }
}

#[test]
fn json_has_the_batch_and_every_table_whole() {
    let site = Site::new();
    seed(&site);
    let v = site.json(&["sync-status", "--json"]);
    let b = &v["batch"];
    assert_eq!(b["batch_id"], LATEST);
    assert_eq!(b["status"], "failed");
    assert_eq!(b["total_tables"], 120);
    assert_eq!(b["completed_tables"], 45);
    assert_eq!(b["failed_tables"], 2);
    assert_eq!(b["started_at"], "2026-11-26T08:45:22.000Z");
    assert_eq!(b["duration_seconds"], 3725.0);
    assert_eq!(
        b["command_options"]["threads"], 8,
        "an object, not a string"
    );
    let tables = v["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 120);
    assert_eq!(tables[0]["connection_name"], "pgsql_lmp");
    assert_eq!(tables[0]["model_name"], "MProduct");
    assert_eq!(tables[0]["records_processed"], 15234);
    assert_eq!(tables[45]["error_message"], long_error().as_str());
    assert_eq!(tables[45]["retry_count"], 3);
    assert_eq!(tables[100]["status"], "pending");
    assert_eq!(tables[100]["completed_at"], Value::Null);
    for col in PROGRESS_COLUMNS {
        assert!(tables[0].get(col).is_some(), "{col} missing");
    }
    let by_id = site.json(&["sync-status", OLDER, "--json"]);
    assert_eq!(by_id["batch"]["batch_id"], OLDER);
    assert_eq!(by_id["tables"].as_array().unwrap().len(), 3);
}

#[test]
fn export_csv_and_json() {
    let site = Site::new();
    seed(&site);
    let text = site.stdout(&["export", "--latest"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, PROGRESS_COLUMNS);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 120);
    let col = |name: &str| PROGRESS_COLUMNS.iter().position(|c| *c == name).unwrap();
    assert_eq!(&records[0][col("batch_id")], LATEST);
    assert_eq!(&records[0][col("table_name")], "m_product");
    assert_eq!(&records[0][col("records_processed")], "15234");
    assert_eq!(&records[0][col("duration_seconds")], "125");
    assert_eq!(&records[45][col("error_message")], long_error().as_str());
    assert_eq!(&records[45][col("retry_count")], "3");
    assert_eq!(&records[100][col("status")], "pending");
    assert_eq!(&records[100][col("completed_at")], "");

    let by_id = site.stdout(&["export", OLDER, "--format", "csv"]);
    assert_eq!(by_id.lines().count(), 4, "{by_id}");
    assert_eq!(by_id.lines().next().unwrap(), PROGRESS_COLUMNS.join(","));

    let json: Value =
        serde_json::from_str(&site.stdout(&["export", "--latest", "--format", "json"])).unwrap();
    assert_eq!(json, site.json(&["sync-status", "--json"]));

    let file = site.dir.path().join("report.csv");
    let said = site.stdout(&["export", OLDER, "--output", file.to_str().unwrap()]);
    assert!(
        said.contains(OLDER) && said.contains("report.csv"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), by_id);

    let out = site
        .cmd()
        .args(["export", "--latest", "--format", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"xml\"") && err.contains("csv") && err.contains("json"),
        "{err}"
    );
    let out = site.cmd().args(["export"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--latest"));
}

#[test]
fn unknown_batch_is_an_error_that_names_it() {
    let site = Site::new();
    seed(&site);
    let missing = "sync_20200101000000_NoSuchId";
    for args in [vec!["sync-status", missing], vec!["export", missing]] {
        let out = site.cmd().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(missing) && err.contains("sync-status --all"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = site
        .cmd()
        .args(["sync-status", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"yesterday\" is not a batch id") && err.contains("sync-status --all"),
        "{err}"
    );
}

#[test]
fn empty_journal_is_not_an_error() {
    let site = Site::new();
    // no journal file at all: nothing is created by reading
    let text = site.stdout(&["sync-status"]);
    assert!(text.starts_with("No sync batches yet"), "{text}");
    assert_eq!(
        site.stdout(&["sync-status", "--all", "--json"]).trim(),
        "[]"
    );
    assert!(!site.journal_path().exists());
    // an existing journal without batches
    drop(site.journal());
    assert_eq!(
        site.stdout(&["sync-status", "--all", "--json"]).trim(),
        "[]"
    );
    assert!(site
        .stdout(&["sync-status", "--all"])
        .starts_with("No sync batches yet"));
    let v = site.json(&["sync-status", "--json"]);
    assert_eq!(v["batch"], Value::Null);
    assert_eq!(v["tables"], serde_json::json!([]));
    assert!(site.stdout(&["stats"]).contains("No tables were synced"));
    let out = site.cmd().args(["export", "--latest"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no batches yet"));
}

/// Known figures: m_product completed 3 times (10/20/30 s, 100/200/300
/// records); c_order completed once and failed twice (3 and 1 retries), the
/// newest failure in the batch of 2 days ago; ad_org failed once 10 days ago.
fn seed_stats(site: &Site) {
    let now = chrono::Utc::now();
    let ago = |days: i64| format_ts(now - chrono::Duration::days(days));
    let mut batches = Vec::new();
    for (k, days) in [(0, 10), (1, 5), (2, 2)] {
        let id = format!("sync_2026010{k}000000_Stats{k:03}");
        let mut b = batch(&id, BatchStatus::Failed, &ago(days));
        b.completed_at = Some(ago(days));
        b.duration_seconds = Some(60.0);
        let mut product = row(&id, "pgsql_lmp", "m_product", ProgressStatus::Completed);
        product.duration_seconds = Some(10.0 * (k + 1) as f64);
        product.records_processed = 100 * (k + 1);
        let mut order = row(
            &id,
            "pgsql_jkt",
            "c_order",
            if k == 0 {
                ProgressStatus::Completed
            } else {
                ProgressStatus::Failed
            },
        );
        order.duration_seconds = Some(40.0);
        order.records_processed = if k == 0 { 50 } else { 0 };
        order.retry_count = [0, 3, 1][k as usize];
        order.error_message = (k > 0).then(|| format!("timeout #{k}"));
        let mut org = row(
            &id,
            "pgsql_hq",
            "ad_org",
            if k == 0 {
                ProgressStatus::Failed
            } else {
                ProgressStatus::Completed
            },
        );
        org.duration_seconds = Some(1.0);
        org.error_message = (k == 0).then(|| "no such table".to_owned());
        batches.push((b, vec![product, order, org]));
    }
    site.journal().import_batches(batches).unwrap();
}

#[test]
fn stats_figures_from_a_known_journal() {
    let site = Site::new();
    seed_stats(&site);
    let v = site.json(&["stats", "--json"]);
    assert_eq!(v["since"], Value::Null);
    let table = |name: &str| {
        v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table_name"] == name)
            .unwrap_or_else(|| panic!("{name} in {v}"))
            .clone()
    };
    let product = table("m_product");
    assert_eq!(product["runs"], 3);
    assert_eq!(product["completed"], 3);
    assert_eq!(product["failed"], 0);
    assert_eq!(product["success_rate"], 100.0);
    assert_eq!(product["avg_duration_seconds"], 20.0);
    assert_eq!(product["avg_records"], 200.0);
    let order = table("c_order");
    assert_eq!(order["runs"], 3);
    assert_eq!(order["failed"], 2);
    assert!((order["success_rate"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert!((order["avg_retries"].as_f64().unwrap() - 4.0 / 3.0).abs() < 1e-9);
    assert_eq!(order["avg_duration_seconds"], 40.0);
    assert_eq!(order["avg_records"], 50.0);
    // most failing first
    assert_eq!(v["tables"][0]["table_name"], "c_order");
    let failing = v["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 2);
    assert_eq!(failing[0]["connection_name"], "pgsql_jkt");
    assert_eq!(failing[0]["table_name"], "c_order");
    assert_eq!(failing[0]["failures"], 2);
    assert_eq!(failing[0]["avg_retries"], 2.0);
    assert_eq!(failing[0]["last_error"], "timeout #2");
    assert_eq!(failing[1]["table_name"], "ad_org");

    let text = site.stdout(&["stats"]);
    assert!(text.contains("Sync Statistics: all batches"), "{text}");
    let order_line = line_with(&text, &["c_order", "pgsql_jkt"]);
    assert!(
        order_line.contains("2.00") && order_line.contains("timeout #2"),
        "{order_line}"
    );
    let per_table = text.split("Per table:").nth(1).unwrap();
    let order_line = line_with(per_table, &["c_order"]);
    assert!(
        order_line.contains("33.3%")
            && order_line.contains("1.33")
            && order_line.contains("00:00:40"),
        "{order_line}"
    );
    let product_line = line_with(per_table, &["m_product"]);
    assert!(
        product_line.contains("100.0%")
            && product_line.contains("00:00:20")
            && product_line.contains("200"),
        "{product_line}"
    );
    assert!(text.contains("9 table runs over 3 tables."), "{text}");

    // the last 7 days leave out the batch of 10 days ago
    let v = site.json(&["stats", "--days", "7", "--json"]);
    assert!(v["since"].is_string());
    let product = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table_name"] == "m_product")
        .unwrap()
        .clone();
    assert_eq!(product["runs"], 2);
    assert_eq!(product["avg_duration_seconds"], 25.0);
    let failing = v["failing"].as_array().unwrap();
    assert_eq!(failing.len(), 1, "ad_org failed only 10 days ago: {v}");
    let text = site.stdout(&["stats", "--days", "7"]);
    assert!(text.contains("Sync Statistics: last 7 days"), "{text}");
    let text = site.stdout(&["stats", "--days", "1"]);
    assert!(
        text.contains("No tables were synced in this period."),
        "{text}"
    );
}

#[test]
fn a_journal_only_config_is_enough_even_from_the_environment() {
    let site = Site::new();
    seed(&site);
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .current_dir(std::env::temp_dir())
        .env("BRANCHSYNC_CONFIG", site.dir.path().join("branchsync.toml"))
        .args(["sync-status", "--all", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert!(Path::new(&site.journal_path()).exists());
}

#[test]
fn tables_fit_the_terminal_width() {
    let site = Site::new();
    seed(&site);
    // The box table's lines (text lines such as a whole error or a hint to
    // paste wrap as the terminal wraps them).
    let widest = |text: &str| {
        text.lines()
            .filter(|l| l.starts_with(['│', '┌', '├', '└', '╞']))
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
    };
    let wide = site.stdout(&["sync-status"]);
    assert!(widest(&wide) > 80, "the whole table is wider: {wide}");
    assert!(wide.contains("┆ Sent"), "{wide}");
    for cols in ["80", "100"] {
        let out = site
            .cmd()
            .env("COLUMNS", cols)
            .args(["sync-status"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let cols: usize = cols.parse().unwrap();
        assert!(widest(&text) <= cols, "{cols} columns:\n{text}");
        // the link figures go first; what the operator acts on stays
        for kept in ["Connection", "Table", "Status", "Records", "Error"] {
            assert!(text.contains(kept), "{kept} at {cols}: {text}");
        }
        assert!(!text.contains("┆ Sent"), "{text}");
        assert!(line_with(&text, &["c_order"]).contains("failed"), "{text}");
    }
    let out = site
        .cmd()
        .env("COLUMNS", "80")
        .args(["sync-status", "--all"])
        .output()
        .unwrap();
    let list = String::from_utf8(out.stdout).unwrap();
    assert!(widest(&list) <= 80, "{list}");
    assert!(list.contains(LATEST) && list.contains("Progress"), "{list}");
    let wide = site.stdout(&["stats", "--days", "3650"]);
    assert!(widest(&wide) > 80, "{wide}");
    let out = site
        .cmd()
        .env("COLUMNS", "80")
        .args(["stats", "--days", "3650"])
        .output()
        .unwrap();
    let stats = String::from_utf8(out.stdout).unwrap();
    assert!(widest(&stats) <= 80, "{stats}");
    assert!(
        stats.contains("Success rate") && stats.contains("Last error"),
        "{stats}"
    );
}

#[test]
fn latest_for_export_and_metrics_is_the_whole_job_set() {
    let site = Site::new();
    seed(&site);
    // A table synced by hand after the night's batch.
    let by_hand = "sync_20261126120000_ByHand01";
    let mut b = batch(by_hand, BatchStatus::Completed, "2026-11-26T12:00:00.000Z");
    b.command_options = r#"{"connections":[],"tables":["MProduct"],"skip_step1":false,"threads":null,"dry_run":false,"command":"sync-table"}"#.into();
    b.total_tables = 1;
    b.completed_tables = 1;
    b.completed_at = Some("2026-11-26T12:00:09.000Z".into());
    let mut r = row(by_hand, "pgsql_lmp", "m_product", ProgressStatus::Completed);
    r.records_processed = 99;
    site.journal().import_batches(vec![(b, vec![r])]).unwrap();

    // sync-status --latest is the newest run of any kind...
    let text = site.stdout(&["sync-status", "--latest"]);
    assert!(text.contains(by_hand), "{text}");
    // ...export --latest and the metrics are the night's whole batch
    let json: Value =
        serde_json::from_str(&site.stdout(&["export", "--latest", "--format", "json"])).unwrap();
    assert_eq!(json["batch"]["batch_id"], LATEST);
    assert_eq!(json["tables"].as_array().unwrap().len(), 120);
    let j = branchsync::journal::Journal::open_read(&site.journal_path()).unwrap();
    let metrics = branchsync::metrics::render_journal(&j, None).unwrap();
    assert!(
        metrics.contains("branchsync_last_batch_tables{state=\"total\"} 120\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("table_119"),
        "every table's gauges: {metrics}"
    );

    // a sync-all limited to some tables or connections is by hand too
    for options in [
        r#"{"connections":[],"tables":["m_product"],"command":"sync-all"}"#,
        r#"{"connections":["pgsql_lmp"],"tables":[],"command":"sync-all"}"#,
    ] {
        let id = "sync_20261126130000_ByHand02";
        let mut b = batch(id, BatchStatus::Completed, "2026-11-26T13:00:00.000Z");
        b.command_options = options.into();
        site.journal().import_batches(vec![(b, vec![])]).unwrap();
        let json: Value =
            serde_json::from_str(&site.stdout(&["export", "--latest", "--format", "json"]))
                .unwrap();
        assert_eq!(json["batch"]["batch_id"], LATEST, "{options}");
        site.journal().delete_batches(&[id.to_owned()]).ok();
    }
}
