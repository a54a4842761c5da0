//! Resume as an operator meets it, on real SQLite files through the real
//! binary: a batch broken by a config typo finishes once the config is fixed;
//! a batch that cannot finish is abandoned and cron stops retrying it; a stale
//! batch whose tables a newer batch completed is closed without recopying;
//! cron with the lock held is a quiet success; the seed's words and batch ids.

#[path = "resume_flow/newest_first.rs"]
mod newest_first;

use assert_cmd::cargo::CommandCargoExt;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Site {
    dir: tempfile::TempDir,
}

const TABLE: &str = "[[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n";

impl Site {
    /// Two SQLite branches (`a.db`, `b.db`) and a central file.
    fn new() -> Site {
        let site = Site {
            dir: tempfile::tempdir().unwrap(),
        };
        for (name, n) in [("a.db", 30), ("b.db", 40)] {
            let c = Connection::open(site.path(name)).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE m_product (m_product_id INTEGER PRIMARY KEY, name TEXT);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
                 INSERT INTO m_product SELECT i, 'p' || i FROM n;"
            ))
            .unwrap();
        }
        site.config(TABLE, "b.db");
        site
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn config(&self, table: &str, b_file: &str) {
        std::fs::write(
            self.path("branchsync.toml"),
            format!(
                "[journal]\npath = \"journal.db\"\n\n[engine]\nthreads = 1\nretries = 0\n\n\
                 [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\nbranch_column = \"branch\"\n\n\
                 [[connection]]\nname = \"sqlite_a\"\ndriver = \"sqlite\"\nurl = \"a.db\"\n\n\
                 [[connection]]\nname = \"sqlite_b\"\ndriver = \"sqlite\"\nurl = \"{b_file}\"\n\n{table}"
            ),
        )
        .unwrap();
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out: Output = Command::cargo_bin("branchsync")
            .unwrap()
            .arg("--config")
            .arg(self.path("branchsync.toml"))
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("BRANCHSYNC_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        eprintln!("$ branchsync {}\n{stdout}{stderr}", args.join(" "));
        (out.status.code().unwrap_or(-1), stdout, stderr)
    }

    fn latest(&self) -> String {
        let c = Connection::open(self.path("journal.db")).unwrap();
        c.query_row(
            "SELECT batch_id FROM sync_batches ORDER BY started_at DESC, id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn central_rows(&self) -> i64 {
        let c = Connection::open(self.path("central.db")).unwrap();
        c.query_row("SELECT count(*) FROM m_product", [], |r| r.get(0))
            .unwrap()
    }
}

fn config_arg(site: &Site) -> String {
    std::path::absolute(site.path("branchsync.toml"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn a_typo_fixed_in_the_config_lets_the_batch_finish() {
    let site = Site::new();
    site.config(&TABLE.replace("\"m_product\"", "\"m_prodcut\""), "b.db");
    let (code, out, _) = site.run(&["sync-all"]);
    assert_eq!(code, 1);
    let id = site.latest();
    // Every hint carries the --config that was given.
    assert!(
        out.contains(&format!(
            "Resume with: branchsync --config {} sync-all --resume={id}",
            config_arg(&site)
        )),
        "{out}"
    );
    site.config(TABLE, "b.db");
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("Resuming batch: {id}")), "{out}");
    assert!(out.contains("Processing connection: [sqlite_a]\nStarting sync for table: m_product from connection: sqlite_a\n"), "{out}");
    assert_eq!(site.central_rows(), 70);
    // The seed's form of the id is read as ours; the screen tells the story.
    let seed_form = format!("{}_{}", &id[..13], &id[13..]);
    let (code, status, _) = site.run(&["sync-status", &seed_form]);
    assert_eq!(code, 0, "{status}");
    assert!(
        status.contains(&format!("Sync Batch Details: {id}")),
        "{status}"
    );
    assert!(status.contains("  Status: completed"), "{status}");
    assert!(
        status.contains("  Failed at: ") && status.contains("  Completed: "),
        "{status}"
    );
    assert!(status.contains("  Resumed at: "), "{status}");
    assert!(status.contains("(working time, 2 runs)"), "{status}");
    assert!(status.contains("m_product"), "{status}");
}

#[test]
fn an_abandoned_batch_is_no_longer_retried_by_cron() {
    let site = Site::new();
    site.config(TABLE, "missing/b.db");
    let (code, _, _) = site.run(&["sync-all"]);
    assert_eq!(code, 1);
    let id = site.latest();
    let (code, _, _) = site.run(&["sync-resume-interrupted", "-q"]);
    assert_eq!(code, 1, "cron keeps failing while the batch cannot finish");
    let (code, out, _) = site.run(&[
        "sync-status",
        &id,
        "--abandon",
        "--reason",
        "branch b closed",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("Batch {id} abandoned (branch b closed)")),
        "{out}"
    );
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!((code, out.trim()), (0, "Nothing to resume."));
    let (code, _, err) = site.run(&["sync-all", &format!("--resume={id}")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("was abandoned") && err.contains("branch b closed"),
        "{err}"
    );
    let (_, list, _) = site.run(&["sync-status", "--all"]);
    assert!(
        list.starts_with(&format!("{}\nAll Sync Batches: 1\n", "=".repeat(80))),
        "{list}"
    );
    assert!(list.contains("failed (abandoned)"), "{list}");
    let (_, detail, _) = site.run(&["sync-status", &id]);
    assert!(
        detail.contains("  Abandoned: ") && !detail.contains("--resume"),
        "{detail}"
    );
    // A completed batch cannot be abandoned.
    site.config(TABLE, "b.db");
    assert_eq!(site.run(&["sync-all", "-q"]).0, 0);
    let (code, _, err) = site.run(&["sync-status", &site.latest(), "--abandon"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("only a failed or interrupted batch can be abandoned"),
        "{err}"
    );
}

#[test]
fn a_stale_batch_whose_tables_a_newer_batch_completed_is_closed_without_recopying() {
    let site = Site::new();
    site.config(TABLE, "missing/b.db");
    assert_eq!(site.run(&["sync-all"]).0, 1);
    let stale = site.latest();
    site.config(TABLE, "b.db");
    assert_eq!(site.run(&["sync-all"]).0, 0);
    let newer = site.latest();
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("⏭ Skipping m_product (MProduct) from sqlite_b (completed by the newer batch {newer}; not copied again)")),
        "{out}"
    );
    assert!(
        !out.contains("Starting sync for table"),
        "nothing runs: {out}"
    );
    let (_, status, _) = site.run(&["sync-status", &stale]);
    assert!(status.contains("  Status: completed"), "{status}");
    // -q keeps cron quiet: no per-table skipping lines.
    site.config(TABLE, "missing/b.db");
    assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
    site.config(TABLE, "b.db");
    let (code, out, _) = site.run(&["sync-resume-interrupted", "-q"]);
    assert_eq!(code, 0);
    assert!(!out.contains("⏭"), "{out}");
}

#[test]
fn cron_with_the_lock_held_is_a_quiet_success_and_sync_all_still_exits_3() {
    let site = Site::new();
    assert_eq!(site.run(&["sync-all", "-q"]).0, 0);
    let lock = branchsync::journal::RunLock::acquire(Path::new(&site.path("journal.db"))).unwrap();
    let (code, out, err) = site.run(&["sync-resume-interrupted"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, out, _) = site.run(&["sync-resume-interrupted", "-v"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("Another sync holds the lock"), "{out}");
    let (code, _, err) = site.run(&["sync-all"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains(&format!(
            "branchsync --config {} sync-status --latest",
            config_arg(&site)
        )),
        "{err}"
    );
    drop(lock);
}

#[test]
fn an_unchanged_resync_shows_its_rows_skipped_and_sync_table_logs_as_sync_table() {
    let site = Site::new();
    site.config(&TABLE.replace("\"full\"", "\"upsert\""), "b.db");
    assert_eq!(site.run(&["sync-all", "-q"]).0, 0);
    let (code, out, err) = site.run(&["sync-table", "MProduct", "--connection", "sqlite_a"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("SyncTable: Starting for m_product from sqlite_a"),
        "{err}"
    );
    assert!(
        err.contains("SyncTable: Completed for m_product from sqlite_a (30 records, 30 skipped)"),
        "{err}"
    );
    assert!(!err.contains("SyncAll:"), "{err}");
    assert!(out.contains(", 30 records, "), "{out}");
    let (_, status, _) = site.run(&["sync-status"]);
    let head = status.lines().find(|l| l.contains("Connection")).unwrap();
    assert!(
        head.contains("Error") && head.ends_with("Written ┆ Skipped ┆ Deleted ┆ Read ┆ Sent │"),
        "{head}"
    );
    // Written, skipped, deleted; the bytes of decoded rows are not known.
    let line = status.lines().find(|l| l.contains("sqlite_a")).unwrap();
    assert!(
        line.ends_with("┆       0 ┆      30 ┆       0 ┆  N/A ┆  N/A │"),
        "{line}"
    );
}

#[test]
fn cron_resume_takes_connections_threads_and_a_dry_run_like_sync_all() {
    let site = Site::new();
    site.config(&TABLE.replace("\"m_product\"", "\"m_prodcut\""), "b.db");
    let (code, _, _) = site.run(&["sync-all"]);
    assert_eq!(code, 1);
    let id = site.latest();
    site.config(TABLE, "b.db");
    let journal_before = std::fs::read(site.path("journal.db")).unwrap();

    // --dry-run: what would run, nothing written.
    let (code, out, _) = site.run(&["sync-resume-interrupted", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Dry run: 1 batch to resume"), "{out}");
    assert!(
        out.contains(&format!("  {id} (failed, 0/2 tables done)")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("sqlite_b") && l.contains("would run as m_product")),
        "{out}"
    );
    assert_eq!(
        std::fs::read(site.path("journal.db")).unwrap(),
        journal_before
    );
    assert!(!site.path("central.db").exists() || site.central_rows() == 0);

    // --connection: only that branch runs; the batch is not finished yet.
    let (code, out, _) = site.run(&[
        "sync-resume-interrupted",
        "--connection",
        "sqlite_a",
        "--threads",
        "2",
    ]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(site.central_rows(), 30);
    let (_, out, _) = site.run(&[
        "sync-resume-interrupted",
        "--dry-run",
        "--connection",
        "sqlite_a",
    ]);
    assert!(out.contains("Dry run: nothing to resume"), "{out}");
    let (_, out, _) = site.run(&[
        "sync-resume-interrupted",
        "--dry-run",
        "--connection",
        "sqlite_b",
    ]);
    assert!(
        out.contains(&format!("  {id} (failed, 1/2 tables done)")),
        "{out}"
    );

    // The same checks as sync-all.
    let (code, _, err) = site.run(&["sync-resume-interrupted", "--connection", "nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown connection \"nope\""), "{err}");
    let (code, _, err) = site.run(&["sync-resume-interrupted", "--threads", "0"]);
    assert_eq!(code, 2, "{err}");

    // Without a filter the rest runs and the batch completes.
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(site.central_rows(), 70);
    let (_, status, _) = site.run(&["sync-status", &id]);
    assert!(status.contains("  Status: completed"), "{status}");
}
