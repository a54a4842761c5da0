//! The fleet simulation behind `docs/SCALE.md` (ignored: it is a measurement,
//! run by hand, not a check of every build):
//!
//! ```sh
//! CARGO_BUILD_JOBS=1 cargo test --release --test fleet_scale -- --ignored --nocapture
//! ```
//!
//! `BS_SIM_RUNNERS` runners (default 8) × `BS_SIM_BRANCHES` SQLite branches
//! each (default 25, rows per branch from `BS_SIM_ROWS`, default 2000) sync at
//! once into one PostgreSQL central, each with `BS_SIM_THREADS` copy threads
//! (default 2). It prints the total time, every runner's time, the central's
//! peak connections (pg_stat_activity sampled every 50 ms), the mirror's lag
//! (`mirrored_at` − `completed_at` of each progress row) and its write volume,
//! and fails if a journal row is missing from the mirror, differs there, or is
//! there twice, or if a branch's rows did not all reach the central.
//! `BS_SIM_KEEP=1` keeps the central database and the runner folders.

mod common;

use common::fixture::code;
use common::fleet::{mirror_rows, Runner};
use common::pg::TestDb;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo's tables but its single-source `MOrg` (one runner's branch would
/// replace the others').
const TABLES: &str = "[[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"upsert\"\n\n\
[[table]]\nmodel = \"MBPartner\"\nsource = \"c_bpartner\"\nkey = [\"c_bpartner_id\"]\nmode = \"upsert\"\n\n\
[[table]]\nmodel = \"MOrder\"\nsource = \"c_order\"\nkey = [\"c_order_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n\
[[table]]\nmodel = \"MInvoice\"\nsource = \"c_invoice\"\nkey = [\"c_invoice_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n\
[[table]]\nmodel = \"MInvoiceLine\"\nsource = \"c_invoiceline\"\nkey = [\"c_invoiceline_id\"]\nmode = \"full\"\n";

const SYNCED: [&str; 5] = [
    "m_product",
    "c_bpartner",
    "c_order",
    "c_invoice",
    "c_invoiceline",
];

fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_branchsync"));
    c.env_remove("RUST_LOG").env("NO_COLOR", "1");
    c
}

/// Rows of `table` in a SQLite file.
fn sqlite_count(path: &std::path::Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
#[ignore = "a measurement for docs/SCALE.md; run by hand"]
fn fleet_simulation() {
    let runners_n = env("BS_SIM_RUNNERS", 8);
    let branches_n = env("BS_SIM_BRANCHES", 25);
    let rows = env("BS_SIM_ROWS", 2000);
    let threads = env("BS_SIM_THREADS", 2);
    let keep = std::env::var("BS_SIM_KEEP").is_ok_and(|v| v == "1");

    // One set of generated SQLite branches, copied to every runner under
    // its own connection names (the branch column keeps them apart).
    let gen = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["-q", "demo", "--dir"])
        .arg(gen.path().join("demo"))
        .args([
            "--branches",
            &branches_n.to_string(),
            "--rows",
            &rows.to_string(),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let mut sources: Vec<_> = std::fs::read_dir(gen.path().join("demo/branches"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    sources.sort();
    assert_eq!(sources.len(), branches_n);
    let per_set: Vec<i64> = SYNCED
        .iter()
        .map(|t| sources.iter().map(|p| sqlite_count(p, t)).sum())
        .collect();

    let central = TestDb::create("bs_fleetsim_central");
    let runners: Vec<Runner> = (0..runners_n)
        .map(|r| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("branches")).unwrap();
            let mut cfg = format!(
                "[journal]\npath = \"journal.db\"\nrunner = \"sim-{r:02}\"\n\n[engine]\nthreads = {threads}\nretries = 1\nconnect_timeout = \"5s\"\n\n[target]\ndriver = \"postgres\"\nurl = \"{}\"\nbranch_column = \"branch\"\n\n",
                central.url
            );
            for (b, src) in sources.iter().enumerate() {
                let file = format!("branches/r{r:02}_b{b:02}.db");
                std::fs::copy(src, dir.path().join(&file)).unwrap();
                cfg += &format!(
                    "[[connection]]\nname = \"r{r:02}_b{b:02}\"\ndriver = \"sqlite\"\nurl = \"{file}\"\n\n"
                );
            }
            cfg += TABLES;
            std::fs::write(dir.path().join("branchsync.toml"), cfg).unwrap();
            Runner {
                name: format!("sim-{r:02}"),
                dir,
            }
        })
        .collect();

    // The central's connections, sampled from another database.
    let stop = Arc::new(AtomicBool::new(false));
    let peak_central = Arc::new(AtomicI64::new(0));
    let peak_server = Arc::new(AtomicI64::new(0));
    let sampler = {
        let (stop, pc, ps) = (stop.clone(), peak_central.clone(), peak_server.clone());
        let name = central.name.clone();
        std::thread::spawn(move || {
            let mut admin = common::pg::admin();
            let mut samples = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let row = admin
                    .query_one(
                        "SELECT count(*) FILTER (WHERE datname = $1), count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
                        &[&name],
                    )
                    .unwrap();
                pc.fetch_max(row.get(0), Ordering::SeqCst);
                ps.fetch_max(row.get(1), Ordering::SeqCst);
                samples += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        })
    };

    let started = Instant::now();
    let children: Vec<_> = runners
        .iter()
        .map(|r| {
            let child = r
                .cmd(&["-q", "sync-all"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (child, Instant::now())
        })
        .collect();
    let mut times = Vec::new();
    for (r, (child, t0)) in runners.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        times.push(t0.elapsed());
        assert_eq!(
            code(&out),
            0,
            "{}: {}",
            r.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let total = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let samples = sampler.join().unwrap();

    // Every journal row is in the mirror once and equal; nothing is queued.
    let mut mirror = central.client();
    let (mut journal_batches, mut journal_progress) = (0, 0);
    for r in &runners {
        assert_eq!(r.backlog(), 0, "{}: outbox not empty", r.name);
        let (jb, jp) = r.journal_rows();
        let (mb, mp) = mirror_rows(&mut mirror, "branchsync", &r.name);
        assert_eq!(jb, mb, "{}: batches differ", r.name);
        assert_eq!(jp, mp, "{}: progress rows differ", r.name);
        journal_batches += jb.len();
        journal_progress += jp.len();
    }
    let dup: i64 = mirror
        .query_one(
            "SELECT (SELECT count(*) - count(DISTINCT (runner, batch_id)) FROM branchsync.sync_batches)
                  + (SELECT count(*) - count(DISTINCT (runner, batch_id, connection_name, table_name)) FROM branchsync.sync_progress)",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dup, 0);
    // Every branch's rows reached the central.
    for (t, per) in SYNCED.iter().zip(&per_set) {
        let n: i64 = mirror
            .query_one(&format!("SELECT count(*) FROM {t}"), &[])
            .unwrap()
            .get(0);
        assert_eq!(n, per * runners_n as i64, "{t}");
    }
    let lag = mirror
        .query_one(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), percentile_cont(0.95) WITHIN GROUP (ORDER BY s), max(s)
             FROM (SELECT extract(epoch FROM mirrored_at - completed_at)::float8 AS s
                   FROM branchsync.sync_progress WHERE completed_at IS NOT NULL) l",
            &[],
        )
        .unwrap();
    let (p50, p95, max): (f64, f64, f64) = (lag.get(0), lag.get(1), lag.get(2));
    let sizes = mirror
        .query_one(
            "SELECT pg_total_relation_size('branchsync.sync_batches'), pg_total_relation_size('branchsync.sync_progress'),
                    (SELECT sum(pg_column_size(p.*)) FROM branchsync.sync_progress p)::bigint",
            &[],
        )
        .unwrap();
    let (batch_bytes, progress_bytes, progress_tuple_bytes): (i64, i64, i64) =
        (sizes.get(0), sizes.get(1), sizes.get(2));
    // Every upsert the runners' mirror writers made (the statistics of
    // backends that have exited are flushed).
    let writes = mirror
        .query_one(
            "SELECT coalesce(sum(n_tup_ins), 0)::bigint, coalesce(sum(n_tup_upd), 0)::bigint
             FROM pg_stat_user_tables WHERE schemaname = 'branchsync'",
            &[],
        )
        .unwrap();
    let (inserts, updates): (i64, i64) = (writes.get(0), writes.get(1));
    let consolidated: i64 = per_set.iter().sum::<i64>() * runners_n as i64;
    let mut sorted = times.clone();
    sorted.sort();

    println!("\n== fleet simulation ==");
    println!(
        "{runners_n} runners x {branches_n} SQLite branches ({} connections), {} tables each, {threads} threads per runner",
        runners_n * branches_n,
        SYNCED.len()
    );
    println!(
        "rows into the central: {consolidated} ({} per branch set)",
        per_set.iter().sum::<i64>()
    );
    println!(
        "total wall time: {:.1} s; runner times min {:.1} s, median {:.1} s, max {:.1} s",
        total.as_secs_f64(),
        sorted[0].as_secs_f64(),
        sorted[sorted.len() / 2].as_secs_f64(),
        sorted[sorted.len() - 1].as_secs_f64()
    );
    println!(
        "central peak connections: {} to the central database, {} on the whole server ({samples} samples)",
        peak_central.load(Ordering::SeqCst),
        peak_server.load(Ordering::SeqCst)
    );
    println!(
        "mirror: {journal_batches} batch rows, {journal_progress} progress rows; missing 0, different 0, duplicated {dup}; outboxes empty"
    );
    println!(
        "mirror writes: {inserts} inserts + {updates} updates = {:.1} row writes per batch of {} tables",
        (inserts + updates) as f64 / journal_batches.max(1) as f64,
        branches_n * SYNCED.len()
    );
    println!("mirror lag per progress row (mirrored_at - completed_at): p50 {p50:.3} s, p95 {p95:.3} s, max {max:.3} s");
    println!(
        "mirror size: sync_batches {batch_bytes} B, sync_progress {progress_bytes} B ({progress_tuple_bytes} B of live tuples, {:.0} B per progress row)",
        progress_tuple_bytes as f64 / journal_progress.max(1) as f64
    );
    if keep {
        println!("kept: central database {}", central.name);
        for r in runners {
            println!("kept: {} {}", r.name, r.dir.keep().display());
        }
        std::mem::forget(central);
    }
}
