//! `demo` end to end through the real binary: generated SQLite branches,
//! synced into a central SQLite file, must arrive whole (per branch and
//! table, the same rows with the same content), the single-source table only
//! from the head office, and a second run over the same folder must be a new
//! batch in the same journal.

use assert_cmd::Command;
use rusqlite::types::Value;
use rusqlite::Connection;
use std::path::Path;

const BRANCHES: [&str; 3] = ["sqlite_lmp", "sqlite_sby", "sqlite_bdg"];
const BRANCH_TABLES: [&str; 5] = [
    "m_product",
    "c_bpartner",
    "c_order",
    "c_invoice",
    "c_invoiceline",
];

fn run_demo(dir: &Path) -> std::process::Output {
    Command::cargo_bin("branchsync")
        .unwrap()
        .args(["demo", "--dir"])
        .arg(dir)
        .args(["--branches", "3", "--rows", "300"])
        .env("NO_COLOR", "1")
        .env_remove("BRANCHSYNC_CONFIG")
        .env_remove("RUST_LOG")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap()
}

fn columns(conn: &Connection, table: &str) -> Vec<String> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .unwrap();
    let names = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    names.collect::<Result<_, _>>().unwrap()
}

/// Rows of `sql`, every column as an SQLite value.
fn rows(conn: &Connection, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map(params, |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn quoted(cols: &[String]) -> String {
    cols.iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn assert_central_equals_branches(dir: &Path) {
    let central = Connection::open(dir.join("central.db")).unwrap();
    for branch in BRANCHES {
        let source = Connection::open(dir.join("branches").join(format!("{branch}.db"))).unwrap();
        for table in BRANCH_TABLES {
            let cols = columns(&source, table);
            let key = format!("{table}_id");
            let expected = rows(
                &source,
                &format!("SELECT {} FROM {table} ORDER BY {key}", quoted(&cols)),
                &[],
            );
            assert!(
                expected.len() >= 30,
                "{branch}.{table}: only {} rows generated",
                expected.len()
            );
            let got = rows(
                &central,
                &format!(
                    "SELECT {} FROM {table} WHERE branch = ?1 ORDER BY {key}",
                    quoted(&cols)
                ),
                &[&branch],
            );
            assert_eq!(
                got.len(),
                expected.len(),
                "{branch}.{table}: row count at the target"
            );
            for (g, e) in got.iter().zip(&expected) {
                assert_eq!(g, e, "{branch}.{table}: row differs at the target");
            }
        }
    }
    // Nothing at the target from elsewhere.
    for table in BRANCH_TABLES {
        let other: i64 = central
            .query_row(
                &format!("SELECT count(*) FROM {table} WHERE branch NOT IN ('sqlite_lmp', 'sqlite_sby', 'sqlite_bdg') OR branch IS NULL"),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(other, 0, "{table}: rows of unknown branches at the target");
    }
    // ad_org is single-source: the head office's rows, once, no branch column.
    let hq = Connection::open(dir.join("branches/sqlite_lmp.db")).unwrap();
    let cols = columns(&hq, "ad_org");
    assert!(!columns(&central, "ad_org").contains(&"branch".to_owned()));
    let sql = format!("SELECT {} FROM ad_org ORDER BY ad_org_id", quoted(&cols));
    let expected = rows(&hq, &sql, &[]);
    assert!(!expected.is_empty());
    assert_eq!(
        rows(&central, &sql, &[]),
        expected,
        "ad_org at the target is the head office's"
    );
    let sby = Connection::open(dir.join("branches/sqlite_sby.db")).unwrap();
    assert_ne!(
        rows(&sby, &sql, &[]),
        expected,
        "branches' ad_org must differ for this check to mean anything"
    );
}

/// (batch_id, status, total_tables, completed_tables) of every batch, oldest first.
fn batches(dir: &Path) -> Vec<(String, String, i64, i64)> {
    let journal = Connection::open(dir.join("storage/sync-journal.db")).unwrap();
    let mut stmt = journal
        .prepare("SELECT batch_id, status, total_tables, completed_tables FROM sync_batches ORDER BY started_at, id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn demo_syncs_every_branch_and_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");

    let out = run_demo(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert!(dir.join("branchsync.toml").is_file());
    branchsync::config::Config::load(
        &dir.join("branchsync.toml"),
        &branchsync::driver::registry::Registry,
    )
    .unwrap();
    assert_central_equals_branches(&dir);

    let first = batches(&dir);
    assert_eq!(first.len(), 1, "{first:?}");
    // 1 single-source table + 5 tables from each of 3 branches.
    assert_eq!(
        (first[0].1.as_str(), first[0].2, first[0].3),
        ("completed", 16, 16)
    );
    assert!(
        stdout.contains(&first[0].0),
        "the status of the batch is printed:\n{stdout}"
    );
    assert!(
        stdout.contains("sync-status --all"),
        "the epilogue says what to try next:\n{stdout}"
    );
    // The rows generated and the rows synced differ, and the demo says why.
    let number = |text: &str| -> i64 { text.replace(',', "").parse().unwrap() };
    let generated = number(
        stdout
            .split("branch databases (")
            .nth(1)
            .and_then(|r| r.split(" rows)").next())
            .unwrap(),
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("of them will be synced: ad_org"))
        .unwrap_or_else(|| panic!("no line says which rows are synced:\n{stdout}"));
    let to_sync = number(line.split(' ').next().unwrap());
    assert!(to_sync < generated, "{line}");
    assert!(
        stdout.contains(&format!(
            "0 failed, {} records",
            to_sync
                .to_string()
                .as_bytes()
                .rchunks(3)
                .rev()
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(",")
        )),
        "the batch synced what was announced:\n{stdout}"
    );

    let again = run_demo(&dir);
    assert!(
        again.status.success(),
        "second demo failed ({:?})\nstdout:\n{}\nstderr:\n{}",
        again.status,
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr)
    );
    let both = batches(&dir);
    assert_eq!(both.len(), 2, "{both:?}");
    assert_eq!(both[0], first[0], "the first batch is kept as it was");
    assert_ne!(both[1].0, both[0].0);
    assert_eq!(
        (both[1].1.as_str(), both[1].2, both[1].3),
        ("completed", 16, 16)
    );
    assert_central_equals_branches(&dir);
}

#[test]
fn demo_with_no_branches_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("branchsync")
        .unwrap()
        .args(["demo", "--branches", "0", "--dir"])
        .arg(tmp.path().join("d"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--branches"));
}
