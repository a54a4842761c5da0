//! A multi-branch PostgreSQL fixture driven through the real binary: branch
//! databases, a central database, a config file, and checks of §8 (every
//! central table equals the union of its branches).
#![allow(dead_code)]

use super::erp::{self, content_hash};
use super::pg::TestDb;
use rusqlite::Connection;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const STEP2_TABLES: &[&str] = &["m_product", "c_order", "c_invoiceline"];

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub branches: Vec<(String, TestDb)>,
    pub central: TestDb,
    /// Extra connections given as (name, url) (e.g. unreachable ones).
    pub extra: Vec<(String, String)>,
    pub engine: String,
}

impl Fixture {
    pub fn new(n: usize, lines: i64) -> Fixture {
        let branches = (0..n)
            .map(|i| {
                let db = TestDb::create(&format!("bs_branch{i}"));
                erp::populate(&mut db.client(), i as i64 * 7, lines);
                (format!("pgsql_b{i}"), db)
            })
            .collect();
        Fixture {
            dir: tempfile::tempdir().unwrap(),
            branches,
            central: TestDb::create("bs_central"),
            extra: Vec::new(),
            engine: "threads = 2\nretries = 2\nretry_backoff = \"100ms\"\nconnect_timeout = \"2s\"\nstatement_timeout = \"5m\"\n".into(),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("branchsync.toml")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("storage/sync-journal.db")
    }

    pub fn write_config(&self) {
        let mut s = format!(
            "[journal]\npath = \"storage/sync-journal.db\"\n\n[log]\nfile = \"storage/logs/sync.log\"\n\n[engine]\n{}\n[target]\ndriver = \"postgres\"\nurl = \"{}\"\nbranch_column = \"branch\"\n\n",
            self.engine, self.central.url
        );
        for (name, db) in &self.branches {
            s += &format!("[[connection]]\nname = \"{name}\"\ndriver = \"postgres\"\nurl = \"{}\"\n\n", db.url);
        }
        for (name, url) in &self.extra {
            s += &format!("[[connection]]\nname = \"{name}\"\ndriver = \"postgres\"\nurl = \"{url}\"\n\n");
        }
        s += &format!(
            "[[table]]\nmodel = \"AdOrg\"\nsource = \"ad_org\"\nkey = [\"ad_org_id\"]\nmode = \"full\"\nfrom = \"{}\"\n\n",
            self.branches[0].0
        );
        s += "[[table]]\nmodel = \"MProduct\"\nsource = \"public.m_product\"\nkey = [\"m_product_id\"]\nmode = \"upsert\"\n\n";
        s += "[[table]]\nmodel = \"COrder\"\nsource = \"c_order\"\nkey = [\"c_order_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n";
        s += "[[table]]\nmodel = \"CInvoiceLine\"\nsource = \"c_invoiceline\"\nkey = [\"c_invoiceline_id\"]\nmode = \"full\"\n";
        std::fs::write(self.config_path(), s).unwrap();
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
        c.arg("--config").arg(self.config_path()).args(args);
        c.env_remove("RUST_LOG").env("NO_COLOR", "1");
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
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Every central table equals the union of its branches (per branch: same
    /// count and content hash); the single-source table equals the HQ's.
    pub fn assert_consolidated(&self) {
        let mut central = self.central.client();
        for (name, db) in &self.branches {
            let mut src = db.client();
            for t in STEP2_TABLES {
                let want = content_hash(&mut src, t, None);
                let got = content_hash(&mut central, t, Some(name));
                assert_eq!(got, want, "{t} from {name}");
                assert!(want.0 > 0);
            }
        }
        let want = content_hash(&mut self.branches[0].1.client(), "ad_org", None);
        assert_eq!(content_hash(&mut central, "ad_org", None), want, "ad_org");
        // No key twice per branch.
        let dup: i64 = central
            .query_one(
                "SELECT count(*) FROM (SELECT branch, c_invoiceline_id FROM c_invoiceline GROUP BY 1, 2 HAVING count(*) > 1) d",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(dup, 0);
    }

    pub fn journal(&self) -> Connection {
        Connection::open(self.journal_path()).unwrap()
    }

    pub fn latest_batch(&self) -> (String, String) {
        self.journal()
            .query_row(
                "SELECT batch_id, status FROM sync_batches ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    /// (connection, table, status, records_processed, records_skipped, completed_at, retry_count, error)
    #[allow(clippy::type_complexity)]
    pub fn progress(&self, batch: &str) -> Vec<(String, String, String, i64, i64, Option<String>, i64, Option<String>)> {
        let j = self.journal();
        let mut stmt = j
            .prepare(
                "SELECT connection_name, table_name, status, records_processed, records_skipped, completed_at, retry_count, error_message
                 FROM sync_progress WHERE batch_id = ?1 ORDER BY id",
            )
            .unwrap();
        let rows = stmt
            .query_map([batch], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    pub fn count_status(&self, status: &str) -> i64 {
        let Ok(j) = Connection::open(self.journal_path()) else {
            return 0;
        };
        j.query_row(
            "SELECT count(*) FROM sync_progress p JOIN sync_batches b USING (batch_id) WHERE p.status = ?1 AND b.id = (SELECT max(id) FROM sync_batches)",
            [status],
            |r| r.get(0),
        )
        .unwrap_or(0)
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

pub fn signal(child: &Child, sig: i32) {
    unsafe {
        libc::kill(child.id() as i32, sig);
    }
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

