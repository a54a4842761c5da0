//! The fleet and its metrics: runners mirror their journals into the
//! central PostgreSQL database, `sync-status --fleet` reads it, the seed's
//! queries run there verbatim, a cut central link is caught up by the next
//! command, and every batch leaves a Prometheus textfile. Real binary, real
//! PostgreSQL, real SQLite journals.

mod common;

use common::fixture::{code, wait_until};
use common::fleet::{mirror_rows, seed_queries, Runner};
use common::pg::TestDb;
use common::proxy::Proxy;
use std::time::Duration;

/// A branch database with the ERP fixture.
fn branch(i: i64, lines: i64) -> TestDb {
    let db = TestDb::create(&format!("bs_fleet_b{i}"));
    common::erp::populate(&mut db.client(), i * 7, lines);
    db
}

#[test]
fn three_runners_one_central_fleet_status_and_seed_queries() {
    let central = TestDb::create("bs_fleet_central");
    let branches: Vec<TestDb> = (0..3).map(|i| branch(i, 500)).collect();
    let runners: Vec<Runner> = branches
        .iter()
        .enumerate()
        .map(|(i, db)| {
            Runner::new(
                &format!("runner-{i}"),
                &central.url,
                &[(format!("pgsql_b{i}"), db.url.clone())],
                "",
                "",
            )
        })
        .collect();
    // All three at once, as their crons would.
    let children: Vec<_> = runners
        .iter()
        .map(|r| {
            r.cmd(&["sync-all"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (r, child) in runners.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            code(&out),
            0,
            "{}: {}",
            r.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let out = runners[0].run(&["sync-status", "--fleet", "--json"]);
    assert_eq!(code(&out), 0);
    let fleet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = fleet
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["runner"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["runner-0", "runner-1", "runner-2"]);
    for e in fleet.as_array().unwrap() {
        assert_eq!(e["stale"], false, "{e}");
        assert_eq!(e["batch"]["status"], "completed", "{e}");
        assert_eq!(e["batch"]["total_tables"], 3, "{e}");
        assert_eq!(e["batch"]["completed_tables"], 3, "{e}");
    }
    let text = runners[1].run(&["sync-status", "--fleet"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Fleet: 3 runners, 0 stale"), "{text}");
    // A tiny --stale makes every runner stale.
    let out = runners[2].run(&["sync-status", "--fleet", "--json", "--stale", "1ms"]);
    let fleet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(fleet.as_array().unwrap().iter().all(|e| e["stale"] == true));

    // The mirror equals every journal, row for row.
    let mut c = central.client();
    for r in &runners {
        assert_eq!(r.backlog(), 0, "{}", r.name);
        assert_eq!(
            mirror_rows(&mut c, "branchsync", &r.name),
            r.journal_rows(),
            "{}",
            r.name
        );
    }
    // The seed's queries, verbatim: on the mirror (search_path set) and on a journal.
    c.batch_execute("SET search_path TO branchsync").unwrap();
    let journal = rusqlite::Connection::open(runners[0].journal_path()).unwrap();
    for q in seed_queries() {
        let rows = c.query(q.as_str(), &[]).unwrap();
        assert!(!rows.is_empty(), "no rows on the mirror: {q}");
        let n = journal
            .prepare(&q)
            .unwrap()
            .query_map([], |_| Ok(()))
            .unwrap()
            .count();
        assert!(n > 0, "no rows on the journal: {q}");
    }
    // Three tables from three runners: the duration query sees nine runs.
    let runs: Vec<i64> = c
        .query(seed_queries()[0].as_str(), &[])
        .unwrap()
        .iter()
        .map(|r| r.get("runs"))
        .collect();
    assert_eq!(runs, [3, 3, 3]);
}

#[test]
fn a_cut_after_a_tables_commit_is_caught_up_by_the_next_command() {
    let central = TestDb::create("bs_fleet_cut");
    let db = branch(0, 2_000);
    let proxy = Proxy::for_server(&central.url);
    let runner = Runner::new(
        "cut-runner",
        &proxy.url(&central.url),
        &[("pgsql_b0".into(), db.url.clone())],
        "",
        "",
    );
    // A first run creates the mirror and is mirrored whole.
    assert_eq!(code(&runner.run(&["sync-table", "MProduct"])), 0);
    assert_eq!(runner.backlog(), 0);

    // Hold the mirror's progress table: no mirror write can land from now on.
    let mut holder = central.client();
    holder
        .batch_execute("BEGIN; LOCK TABLE branchsync.sync_progress IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let child = runner
        .cmd(&["sync-table", "CInvoiceLine"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let journal = runner.journal_path();
    wait_until("the table's commit", Duration::from_secs(60), || {
        let j = rusqlite::Connection::open(&journal).unwrap();
        j.query_row(
            "SELECT count(*) FROM sync_progress WHERE table_name = 'c_invoiceline' AND status = 'completed'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    });
    // Committed at the target, not yet in the mirror: cut the link, and keep
    // the central unreachable (connections hang) while the run ends.
    proxy.stall();
    assert!(proxy.cut_now() > 0);
    let out = common::fixture::wait_within(child, Duration::from_secs(30)).unwrap();
    assert_eq!(code(&out), 0, "the sync itself must succeed");
    holder.batch_execute("ROLLBACK").unwrap();
    assert!(runner.backlog() > 0, "the changes wait in the outbox");
    let mut c = central.client();
    let (_, mirrored) = mirror_rows(&mut c, "branchsync", &runner.name);
    assert!(
        !mirrored
            .iter()
            .any(|r| r.contains("|c_invoiceline|") && r.contains("|completed|")),
        "{mirrored:?}"
    );
    assert_ne!(
        mirror_rows(&mut c, "branchsync", &runner.name),
        runner.journal_rows()
    );

    // The link is back; the next command that reaches the central catches up.
    proxy.heal();
    let out = runner.run(&["sync-status", "--fleet", "--json"]);
    assert_eq!(code(&out), 0);
    assert_eq!(runner.backlog(), 0);
    assert_eq!(
        mirror_rows(&mut c, "branchsync", &runner.name),
        runner.journal_rows()
    );
    let fleet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleet[0]["runner"], "cut-runner");
    assert_eq!(fleet[0]["batch"]["status"], "completed");
}

#[test]
fn mirror_off_or_own_schema() {
    let central = TestDb::create("bs_fleet_off");
    let db = branch(0, 100);
    let conns = [("pgsql_b0".to_owned(), db.url.clone())];
    let off = Runner::new("off", &central.url, &conns, "mirror = false", "");
    assert_eq!(code(&off.run(&["sync-table", "MProduct"])), 0);
    let mut c = central.client();
    let none: bool = c
        .query_one("SELECT to_regnamespace('branchsync') IS NULL", &[])
        .unwrap()
        .get(0);
    assert!(none, "mirror = false must not create the mirror");
    let out = off.run(&["sync-status", "--fleet"]);
    assert_ne!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("[journal] mirror"));

    let own = Runner::new(
        "own",
        &central.url,
        &conns,
        "mirror_schema = \"ops fleet\"",
        "",
    );
    assert_eq!(code(&own.run(&["sync-table", "MProduct"])), 0);
    assert_eq!(
        mirror_rows(&mut c, "\"ops fleet\"", "own"),
        own.journal_rows()
    );
}

#[test]
fn every_batch_leaves_a_prometheus_textfile() {
    let central = TestDb::create("bs_fleet_prom");
    let db = branch(0, 300);
    let runner = Runner::new(
        "prom",
        &central.url,
        &[("pgsql_b0".into(), db.url.clone())],
        "",
        "\n[metrics]\ntextfile = \"metrics/branchsync.prom\"\n",
    );
    assert_eq!(code(&runner.run(&["sync-all"])), 0);
    let path = runner.dir.path().join("metrics/branchsync.prom");
    let text = std::fs::read_to_string(&path).unwrap();
    let metrics = common::metrics::Metrics::parse(&text);
    let value = |name: &str, labels: &[(&str, &str)]| metrics.value(name, labels);
    assert_eq!(
        value("branchsync_last_batch_status", &[("status", "completed")]),
        Some(1.0)
    );
    assert_eq!(
        value("branchsync_last_batch_status", &[("status", "failed")]),
        Some(0.0)
    );
    assert!(value("branchsync_last_batch_duration_seconds", &[]).unwrap() >= 0.0);
    assert!(value("branchsync_last_success_timestamp_seconds", &[]).unwrap() > 1.7e9);
    let j = rusqlite::Connection::open(runner.journal_path()).unwrap();
    let mut stmt = j
        .prepare("SELECT connection_name, table_name, records_processed, rows_written, bytes_read, bytes_written FROM sync_progress")
        .unwrap();
    type Row = (String, String, i64, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    let mut counted = 0;
    for (conn, table, n, written, read, sent) in rows {
        let labels = [("connection", conn.as_str()), ("table", table.as_str())];
        assert_eq!(
            value("branchsync_table_rows", &labels),
            Some(n as f64),
            "{table}"
        );
        let f = |v: Option<i64>| v.map(|v| v as f64);
        assert_eq!(
            value("branchsync_table_rows_written", &labels),
            f(written),
            "{table}"
        );
        assert_eq!(
            value("branchsync_table_bytes_read", &labels),
            f(read),
            "{table}"
        );
        assert_eq!(
            value("branchsync_table_bytes_written", &labels),
            f(sent),
            "{table}"
        );
        counted += usize::from(sent.is_some_and(|b| b > 0));
        assert!(value("branchsync_table_duration_seconds", &labels).is_some());
    }
    assert!(counted > 0, "no table's bytes were exported");
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["branchsync.prom"]);

    // One table synced by hand does not replace the night's figures: the
    // metrics keep every table's gauges and the fleet its whole batch.
    let night = runner.journal_rows().0[0]
        .split('|')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(code(&runner.run(&["sync-table", "MProduct"])), 0);
    assert_eq!(code(&runner.run(&["sync-all", "--tables", "COrder"])), 0);
    let metrics = common::metrics::Metrics::parse(&std::fs::read_to_string(&path).unwrap());
    for table in ["m_product", "c_order", "c_invoiceline"] {
        let labels = [("connection", "pgsql_b0"), ("table", table)];
        assert!(
            metrics.value("branchsync_table_rows", &labels).is_some(),
            "{table}"
        );
    }
    let out = runner.run(&["sync-status", "--fleet", "--json"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let fleet: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(fleet[0]["batch"]["batch_id"], night.as_str(), "{fleet}");
    assert_eq!(fleet[0]["batch"]["total_tables"], 3, "{fleet}");
}
