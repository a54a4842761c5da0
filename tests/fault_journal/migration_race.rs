//! Many processes opening one journal while its schema is created or
//! upgraded: readers beside the first `sync-all` of a fresh journal, an old
//! journal opened by four processes at once after an upgrade, and a journal
//! an earlier release left half-migrated (a step's columns added, its
//! version not bumped). No command may fail, the journal must end at the
//! current version with `integrity_check` = ok, and stay usable.
//!
//! Only SQLite (branch, central, journal): the race is the journal's.

use branchsync::journal::{SCHEMA_SQL, SCHEMA_VERSION};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `PRAGMA application_id` of a journal ("BSYN").
const APPLICATION_ID: i64 = 0x4253_594e;
/// The steps from version 2 on, as the releases that made them shipped them.
const MIGRATIONS: &[&str] = &[
    include_str!("../../src/journal/migrations/2.sql"),
    include_str!("../../src/journal/migrations/3.sql"),
    include_str!("../../src/journal/migrations/4.sql"),
    include_str!("../../src/journal/migrations/5.sql"),
    include_str!("../../src/journal/migrations/6.sql"),
];

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    /// One SQLite branch, a SQLite central, the journal in `storage/`.
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let c = Connection::open(dir.path().join("a.db")).unwrap();
        c.execute_batch(
            "CREATE TABLE m_product (m_product_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO m_product SELECT i, 'product ' || i FROM n;",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("storage")).unwrap();
        std::fs::write(
            dir.path().join("branchsync.toml"),
            "[journal]\npath = \"storage/journal.db\"\n\n\
             [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\nbranch_column = \"branch\"\n\n\
             [[connection]]\nname = \"sqlite_a\"\ndriver = \"sqlite\"\nurl = \"a.db\"\n\n\
             [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n",
        )
        .unwrap();
        Site { dir }
    }

    fn journal(&self) -> PathBuf {
        self.dir.path().join("storage/journal.db")
    }

    fn spawn(&self, args: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_branchsync"))
            .arg("--config")
            .arg(self.dir.path().join("branchsync.toml"))
            .args(args)
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Start every command of `runs` at once; the failed ones, described.
    fn race(&self, runs: &[&[&str]]) -> Vec<String> {
        let children: Vec<(String, Child)> = runs
            .iter()
            .map(|args| (args.join(" "), self.spawn(args)))
            .collect();
        children
            .into_iter()
            .filter_map(|(what, child)| {
                let out = child.wait_with_output().unwrap();
                failure(&what, &out)
            })
            .collect()
    }

    /// At the current version, sound, and usable by a reader and a writer.
    fn assert_sound(&self, what: &str) {
        let c = Connection::open(self.journal()).unwrap();
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION, "{what}: journal version");
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "{what}: integrity_check");
        drop(c);
        let after = self.race(&[&["sync-all", "-q"]]);
        let after = [after, self.race(&[&["sync-status", "--latest"]])].concat();
        assert!(
            after.is_empty(),
            "{what}: afterwards:\n{}",
            after.join("\n")
        );
    }
}

fn failure(what: &str, out: &Output) -> Option<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    (!out.status.success() || stderr.contains("panicked"))
        .then(|| format!("`{what}` exited {:?}: {}", out.status.code(), stderr.trim()))
}

/// A journal as the release of schema `version` left it, with one
/// completed batch in it; `extra` runs after (a step cut short).
fn old_journal(path: &Path, version: i64, extra: &str) {
    let c = Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode=WAL;").unwrap();
    c.execute_batch(SCHEMA_SQL).unwrap();
    for sql in &MIGRATIONS[..(version - 1) as usize] {
        c.execute_batch(sql).unwrap();
    }
    c.execute_batch(&format!(
        "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {version};
         INSERT INTO sync_batches (batch_id, status, total_tables, completed_tables, started_at, completed_at)
         VALUES ('sync_20260101010000_OldBatch', 'completed', 1, 1, '2026-01-01T01:00:00.000Z', '2026-01-01T01:00:05.000Z');
         INSERT INTO sync_progress (batch_id, connection_name, table_name, model_name, status, records_processed)
         VALUES ('sync_20260101010000_OldBatch', 'sqlite_a', 'm_product', 'MProduct', 'completed', 200);
         {extra}"
    ))
    .unwrap();
}

#[test]
fn readers_beside_the_first_sync_of_a_fresh_journal_never_fail() {
    const ROUNDS: usize = 6;
    const READERS: usize = 8;
    let mut failures = Vec::new();
    let mut commands = 0;
    for round in 0..ROUNDS {
        let site = Site::new();
        let mut runs: Vec<&[&str]> = vec![&["sync-all", "-q"]];
        runs.extend(std::iter::repeat_n(&["sync-status"][..], READERS));
        commands += runs.len();
        failures.extend(
            site.race(&runs)
                .into_iter()
                .map(|f| format!("round {round}: {f}")),
        );
        if failures.is_empty() {
            site.assert_sound(&format!("round {round}"));
        }
    }
    eprintln!(
        "fresh journals: {ROUNDS} rounds of 1 sync-all + {READERS} sync-status at once, \
         {commands} commands, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_old_journal_opened_by_four_processes_at_once_is_upgraded_once() {
    let mut failures = Vec::new();
    for version in 1..SCHEMA_VERSION {
        let site = Site::new();
        old_journal(&site.journal(), version, "");
        let runs: &[&[&str]] = &[
            &["sync-all", "-q"],
            &["sync-status", "--all", "--json"],
            &["stats", "--json"],
            &["export", "sync_20260101010000_OldBatch", "--format", "json"],
        ];
        failures.extend(
            site.race(runs)
                .into_iter()
                .map(|f| format!("from version {version}: {f}")),
        );
        if failures.is_empty() {
            site.assert_sound(&format!("from version {version}"));
            let out = site.spawn(&["sync-status", "--all", "--json"]);
            let out = out.wait_with_output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("sync_20260101010000_OldBatch"),
                "the old batch is gone: {text}"
            );
        }
    }
    eprintln!(
        "old journals (versions 1..{}), 4 processes each at once: {} failed",
        SCHEMA_VERSION - 1,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_journal_left_half_migrated_by_an_earlier_release_is_repaired() {
    // Some of step 6's columns are there, its version is not.
    let site = Site::new();
    old_journal(
        &site.journal(),
        5,
        "ALTER TABLE sync_progress ADD COLUMN rows_written INTEGER;
         ALTER TABLE sync_progress ADD COLUMN bytes_read INTEGER;",
    );
    let failures = site.race(&[&["sync-status"], &["sync-status", "--all"]]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    site.assert_sound("half-migrated journal");
    let c = Connection::open(site.journal()).unwrap();
    let columns: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('sync_progress')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for col in [
        "rows_written",
        "rows_deleted",
        "bytes_read",
        "bytes_written",
    ] {
        assert_eq!(
            columns.iter().filter(|c| *c == col).count(),
            1,
            "{col} in {columns:?}"
        );
    }
}
