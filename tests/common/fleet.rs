//! Several runners (each its own config, journal and connections) syncing
//! into one central PostgreSQL database, and the checks of its journal
//! mirror: the mirror equals every runner's journal, row for row.
#![allow(dead_code)]

use super::pg::TestDb;
use postgres::Client;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The step-2 tables every runner syncs (erp fixture).
pub const TABLES: &str = "[[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"upsert\"\n\n\
[[table]]\nmodel = \"COrder\"\nsource = \"c_order\"\nkey = [\"c_order_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n\
[[table]]\nmodel = \"CInvoiceLine\"\nsource = \"c_invoiceline\"\nkey = [\"c_invoiceline_id\"]\nmode = \"full\"\n";

/// One runner: a folder with its config and journal.
pub struct Runner {
    pub name: String,
    pub dir: tempfile::TempDir,
}

impl Runner {
    /// A runner named `name` syncing `connections` (name, url) into `target_url`;
    /// `extra_journal` is added to its `[journal]` section, `extra` at the end.
    pub fn new(
        name: &str,
        target_url: &str,
        connections: &[(String, String)],
        extra_journal: &str,
        extra: &str,
    ) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let mut s = format!(
            "[journal]\npath = \"journal.db\"\nrunner = \"{name}\"\n{extra_journal}\n\n[engine]\nthreads = 2\nretries = 0\nconnect_timeout = \"2s\"\n\n[target]\ndriver = \"postgres\"\nurl = \"{target_url}\"\n\n"
        );
        for (conn, url) in connections {
            s += &format!(
                "[[connection]]\nname = \"{conn}\"\ndriver = \"postgres\"\nurl = \"{url}\"\n\n"
            );
        }
        s += TABLES;
        s += extra;
        std::fs::write(dir.path().join("branchsync.toml"), s).unwrap();
        Runner {
            name: name.into(),
            dir,
        }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("branchsync.toml")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.path().join("journal.db")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
        c.arg("--config").arg(self.config()).args(args);
        c.env_remove("RUST_LOG").env("NO_COLOR", "1");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd(args).output().unwrap();
        eprintln!(
            "[{}] $ branchsync {}\n{}{}",
            self.name,
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The journal's batch and progress rows as the mirror compares them.
    pub fn journal_rows(&self) -> (Vec<String>, Vec<String>) {
        let j = rusqlite::Connection::open(self.journal_path()).unwrap();
        let batches = j
            .prepare(
                "SELECT batch_id, status, total_tables, completed_tables, failed_tables, command_options,
                        started_at, completed_at, duration_seconds FROM sync_batches ORDER BY batch_id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                    r.get::<_, Option<f64>>(8)?.map(|d| format!("{d:.3}")).unwrap_or_default(),
                ))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let progress = j
            .prepare(
                "SELECT batch_id, connection_name, table_name, model_name, status, records_processed,
                        records_skipped, coalesce(error_message, ''), coalesce(started_at, ''),
                        coalesce(completed_at, ''), duration_seconds, retry_count, step
                 FROM sync_progress ORDER BY batch_id, connection_name, table_name",
            )
            .unwrap()
            .query_map([], |r| {
                Ok(format!(
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<f64>>(10)?.map(|d| format!("{d:.3}")).unwrap_or_default(),
                    r.get::<_, i64>(11)?,
                    r.get::<_, i64>(12)?,
                ))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (batches, progress)
    }

    /// The outbox's size (changes not yet in the central).
    pub fn backlog(&self) -> i64 {
        let j = rusqlite::Connection::open(self.journal_path()).unwrap();
        j.query_row("SELECT count(*) FROM mirror_outbox", [], |r| r.get(0))
            .unwrap()
    }
}

fn iso(col: &str) -> String {
    format!("coalesce(to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), '')")
}

/// `runner`'s rows in the mirror, formatted as [`Runner::journal_rows`].
pub fn mirror_rows(central: &mut Client, schema: &str, runner: &str) -> (Vec<String>, Vec<String>) {
    let batches = central
        .query(
            &format!(
                "SELECT batch_id || '|' || status || '|' || total_tables || '|' || completed_tables || '|' ||
                        failed_tables || '|' || command_options || '|' || {} || '|' || {} || '|' ||
                        coalesce(to_char(duration_seconds, 'FM999999990.000'), '')
                 FROM {schema}.sync_batches WHERE runner = $1 ORDER BY batch_id",
                iso("started_at"),
                iso("completed_at")
            ),
            &[&runner],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let progress = central
        .query(
            &format!(
                "SELECT batch_id || '|' || connection_name || '|' || table_name || '|' || model_name || '|' ||
                        status || '|' || records_processed || '|' || records_skipped || '|' ||
                        coalesce(error_message, '') || '|' || {} || '|' || {} || '|' ||
                        coalesce(to_char(duration_seconds, 'FM999999990.000'), '') || '|' || retry_count || '|' || step
                 FROM {schema}.sync_progress WHERE runner = $1 ORDER BY batch_id, connection_name, table_name",
                iso("started_at"),
                iso("completed_at")
            ),
            &[&runner],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (batches, progress)
}

/// The seed's queries (`docs/seed-queries.sql`), one string each.
pub fn seed_queries() -> Vec<String> {
    include_str!("../../docs/seed-queries.sql")
        .split("\n;\n")
        .map(|q| {
            q.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|q| !q.trim().is_empty())
        .collect()
}

/// A central database for a fleet test.
pub fn central(prefix: &str) -> TestDb {
    TestDb::create(prefix)
}
