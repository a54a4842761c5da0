#![allow(dead_code)]
//! One branch, one central, a config whose table `mj` is mirrored, and the
//! real binary run against them.

use crate::common::pg::TestDb;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BRANCH: &str = "pgsql_b0";

pub struct Site {
    pub dir: tempfile::TempDir,
    pub branch: TestDb,
    pub central: TestDb,
}

/// The cells of one line of a drawn table (borders and separators removed,
/// empty cells kept).
pub fn cells(line: &str) -> Vec<String> {
    let parts: Vec<String> = line
        .split(['|', '│', '┆'])
        .map(|c| c.trim().to_owned())
        .collect();
    match parts.len() {
        0..=2 => Vec::new(),
        n => parts[1..n - 1].to_vec(),
    }
}

impl Site {
    /// A branch whose `mj` holds `rows` rows.
    pub fn new(prefix: &str, rows: i64) -> Site {
        let branch = TestDb::create(&format!("{prefix}_branch"));
        branch.exec(&format!(
            "CREATE TABLE mj (id bigint PRIMARY KEY, v text);
             INSERT INTO mj SELECT g, md5(g::text) FROM generate_series(1, {rows}) g;"
        ));
        Site {
            dir: tempfile::tempdir().unwrap(),
            branch,
            central: TestDb::create(&format!("{prefix}_central")),
        }
    }

    /// `mj` mirrored; with `full`, also `mf` copied in full; with `runner`,
    /// the journal is mirrored to the central under that runner's name.
    pub fn write_config(&self, full: bool, runner: Option<&str>) {
        self.write_config_at(full, runner, &self.branch.url, &self.central.url);
    }

    /// As [`Site::write_config`], reaching the servers at these URLs (a
    /// relay's, say).
    pub fn write_config_at(&self, full: bool, runner: Option<&str>, branch: &str, central: &str) {
        let runner = runner.map_or_else(String::new, |r| format!("runner = \"{r}\"\n"));
        let mut s = format!(
            "[journal]\npath = \"storage/sync-journal.db\"\n{runner}\n[log]\nfile = \"storage/logs/sync.log\"\n\n\
             [engine]\nthreads = 1\nretries = 0\n\n\
             [target]\ndriver = \"postgres\"\nurl = \"{}\"\nbranch_column = \"branch\"\n\n\
             [[connection]]\nname = \"{BRANCH}\"\ndriver = \"postgres\"\nurl = \"{}\"\n\n\
             [[table]]\nmodel = \"Mj\"\nsource = \"mj\"\nkey = [\"id\"]\nmode = \"mirror\"\n\n",
            central, branch
        );
        if full {
            s += "[[table]]\nmodel = \"Mf\"\nsource = \"mf\"\nkey = [\"id\"]\nmode = \"full\"\n";
        }
        std::fs::write(self.dir.path().join("branchsync.toml"), s).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
        c.arg("--config")
            .arg(self.dir.path().join("branchsync.toml"))
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("BRANCHSYNC_CONFIG")
            .env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().unwrap();
        eprintln!(
            "$ branchsync {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn journal(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("storage/sync-journal.db")).unwrap()
    }

    pub fn latest_batch(&self) -> String {
        self.journal()
            .query_row(
                "SELECT batch_id FROM sync_batches ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// The table's entry in `sync-status <batch> --json`.
    pub fn status_json(&self, batch: &str, table: &str) -> serde_json::Value {
        let out = self.run(&["sync-status", batch, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table_name"] == table)
            .unwrap_or_else(|| panic!("no {table} in {v}"))
            .clone()
    }

    pub fn progress_status(&self, batch: &str, table: &str) -> String {
        self.journal()
            .query_row(
                "SELECT status FROM sync_progress WHERE batch_id = ?1 AND table_name = ?2",
                [batch, table],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// records_processed, records_skipped, rows_written, rows_deleted,
    /// bytes_read, bytes_written of the table's row in the batch.
    #[allow(clippy::type_complexity)]
    pub fn journaled(
        &self,
        batch: &str,
        table: &str,
    ) -> (i64, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>) {
        self.journal()
            .query_row(
                "SELECT records_processed, records_skipped, rows_written, rows_deleted, bytes_read, bytes_written
                 FROM sync_progress WHERE batch_id = ?1 AND table_name = ?2",
                [batch, table],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap()
    }

    fn rows(db: &TestDb, sql: &str) -> HashMap<i64, Option<String>> {
        db.client()
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    fn branch_rows(&self) -> HashMap<i64, Option<String>> {
        Site::rows(&self.branch, "SELECT id, v FROM mj")
    }

    fn slice_rows(&self) -> HashMap<i64, Option<String>> {
        Site::rows(
            &self.central,
            &format!("SELECT id, v FROM mj WHERE branch = '{BRANCH}'"),
        )
    }

    /// The central's slice equals the branch row for row, no key twice.
    pub fn assert_slice_equal(&self) {
        let slice: i64 = self
            .central
            .client()
            .query_one(
                &format!("SELECT count(*) FROM mj WHERE branch = '{BRANCH}'"),
                &[],
            )
            .unwrap()
            .get(0);
        let (want, got) = (self.branch_rows(), self.slice_rows());
        assert_eq!(slice as usize, got.len(), "a key twice in the slice");
        assert_eq!(got.len(), want.len());
        assert!(got == want, "the slice differs from the branch");
    }

    /// (rows to write, rows to delete) to make the slice equal the branch.
    pub fn expected_changes(&self) -> (i64, i64) {
        let (want, got) = (self.branch_rows(), self.slice_rows());
        let written = want.iter().filter(|(k, v)| got.get(k) != Some(v)).count();
        let deleted = got.keys().filter(|k| !want.contains_key(k)).count();
        (written as i64, deleted as i64)
    }

    /// Polls the server until a checksum query (the mirror's hashing scan)
    /// runs on the branch or the central; false when `child` ended first.
    pub fn wait_for_checksum_query(&self, child: &mut Child) -> bool {
        let mut admin = self.central.client();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            let n: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                     WHERE datname IN ($1, $2) AND state = 'active' AND pid <> pg_backend_pid()
                       AND query ILIKE '%hashtextextended%'",
                    &[&self.branch.name, &self.central.name],
                )
                .unwrap()
                .get(0);
            if n > 0 {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("no checksum query within 120 s");
    }

    /// How many times the log says the table completed.
    pub fn completions_logged(&self, table: &str) -> usize {
        let log = std::fs::read_to_string(self.dir.path().join("storage/logs/sync.log"))
            .unwrap_or_default();
        log.lines()
            .filter(|l| l.contains(&format!("Completed for {table} from {BRANCH}")))
            .count()
    }

    /// One page of `branchsync serve` (run for this request only).
    pub fn dashboard_page(&self, path: &str) -> String {
        let mut child = self
            .cmd(&["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        body.to_owned()
    }
}
