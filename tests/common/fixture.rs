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
            s += &format!(
                "[[connection]]\nname = \"{name}\"\ndriver = \"postgres\"\nurl = \"{}\"\n\n",
                db.url
            );
        }
        for (name, url) in &self.extra {
            s += &format!(
                "[[connection]]\nname = \"{name}\"\ndriver = \"postgres\"\nurl = \"{url}\"\n\n"
            );
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
        Fixture::output(self.cmd(args), args)
    }

    /// Run `cmd` (made by [`Fixture::cmd`] with `args`, then adjusted) and
    /// print what it said, for the test's log.
    pub fn output(mut cmd: Command, args: &[&str]) -> Output {
        let out = cmd.output().unwrap();
        eprintln!(
            "$ branchsync {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The binary started as cron starts it: no terminal on any stream.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.cmd(args)
            .stdin(Stdio::null())
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
    pub fn progress(
        &self,
        batch: &str,
    ) -> Vec<(
        String,
        String,
        String,
        i64,
        i64,
        Option<String>,
        i64,
        Option<String>,
    )> {
        let j = self.journal();
        let mut stmt = j
            .prepare(
                "SELECT connection_name, table_name, status, records_processed, records_skipped, completed_at, retry_count, error_message
                 FROM sync_progress WHERE batch_id = ?1 ORDER BY id",
            )
            .unwrap();
        let rows = stmt
            .query_map([batch], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
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

impl Fixture {
    /// Rewrites the config file written by [`Fixture::write_config`] (e.g. to
    /// route one server through a proxy).
    pub fn rewrite_config(&self, f: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(self.config_path()).unwrap();
        std::fs::write(self.config_path(), f(text)).unwrap();
    }

    /// Appends `extra` (more `[[table]]` entries) to the config file.
    pub fn append_config(&self, extra: &str) {
        self.rewrite_config(|s| format!("{s}\n{extra}\n"));
    }

    /// Rows lost and rows duplicated at the central server, counted row by
    /// row over every fixture table and branch: a source row (key + content)
    /// missing from its branch's slice is lost; a second copy of a key, or a
    /// key the source does not have, is duplicated.
    pub fn lost_and_duplicated(&self) -> (u64, u64) {
        let mut all = STEP2_TABLES.to_vec();
        all.push("ad_org");
        self.lost_and_duplicated_in(&all)
    }

    /// [`Fixture::lost_and_duplicated`] over some of the fixture tables
    /// (`ad_org` is compared with the first branch, the others per branch).
    pub fn lost_and_duplicated_in(&self, tables: &[&str]) -> (u64, u64) {
        use std::collections::{HashMap, HashSet};
        let mut central = self.central.client();
        let rows =
            |c: &mut postgres::Client, t: &str, branch: Option<&str>| -> Vec<(String, String)> {
                let sql = format!(
                    "SELECT {t}_id::text, md5(ROW({})::text) FROM {t} {}",
                    erp::columns(t),
                    if branch.is_some() {
                        "WHERE branch = $1"
                    } else {
                        ""
                    }
                );
                let r = match branch {
                    Some(b) => c.query(&sql, &[&b]),
                    None => c.query(&sql, &[]),
                };
                r.map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
                    .unwrap_or_default()
            };
        let (mut lost, mut dup) = (0u64, 0u64);
        let mut compare = |src: Vec<(String, String)>, got: Vec<(String, String)>| {
            let mut have: HashMap<&(String, String), usize> = HashMap::new();
            for r in &got {
                *have.entry(r).or_default() += 1;
            }
            let src_keys: HashSet<&String> = src.iter().map(|r| &r.0).collect();
            for r in &src {
                if !have.contains_key(r) {
                    lost += 1;
                }
            }
            let mut seen = HashSet::new();
            for r in &got {
                if !seen.insert(&r.0) || !src_keys.contains(&r.0) {
                    dup += 1;
                }
            }
        };
        for (name, db) in &self.branches {
            let mut src = db.client();
            for t in tables.iter().filter(|t| **t != "ad_org") {
                compare(rows(&mut src, t, None), rows(&mut central, t, Some(name)));
            }
        }
        if tables.contains(&"ad_org") {
            let hq = rows(&mut self.branches[0].1.client(), "ad_org", None);
            compare(hq, rows(&mut central, "ad_org", None));
        }
        (lost, dup)
    }

    /// Runs the binary, killing it (and failing the test) past `deadline`.
    pub fn run_within(&self, args: &[&str], deadline: Duration) -> Output {
        let child = self.spawn(args);
        let out = wait_within(child, deadline)
            .unwrap_or_else(|e| panic!("branchsync {}: {e}", args.join(" ")));
        eprintln!(
            "$ branchsync {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Waits for `child` (stdout/stderr piped) at most `deadline`; past it the
/// child is SIGKILLed and an error says how long it hung.
pub fn wait_within(mut child: Child, deadline: Duration) -> Result<Output, String> {
    use std::io::Read;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut v);
        }
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = t_err.join().unwrap_or_default();
            return Err(format!(
                "still running after {deadline:?}: killed. stderr so far:\n{}",
                String::from_utf8_lossy(&stderr)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    })
}

/// One line of docs/RELIABILITY.md, printed by a fault test once its checks
/// passed: `RELIABILITY: <fault> | <times> | <lost> | <dup> | <result>`
/// (collected by scripts/reliability-table.sh).
pub fn reliability(fault: &str, times: usize, lost: u64, dup: u64, result: &str) {
    println!("RELIABILITY: {fault} | {times} | {lost} | {dup} | {result}");
}

/// Run the binary with `config` and `args` from a clean environment (no
/// colours, no `RUST_LOG`, no `BRANCHSYNC_CONFIG`): its exit code and its
/// standard output followed by its standard error.
pub fn run_config(config: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_branchsync"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("BRANCHSYNC_CONFIG")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
