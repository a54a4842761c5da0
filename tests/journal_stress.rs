//! One journal, four processes at once, for a minute: `sync-all` runs back to
//! back, `sync-status` reads (and reconciles liveness) in a loop, `serve` answers
//! a steady stream of requests, and this test process runs liveness checks and
//! forces WAL checkpoints (`TRUNCATE`, the kind that resets the WAL) between
//! them. That is the pattern SQLite's WAL-reset bug (3.7.0–3.51.2) corrupts; the
//! journal must come out with `integrity_check` = ok and every batch finished.
//!
//! It runs `BRANCHSYNC_STRESS_SECS` seconds (default 60) and prints its figures.

use branchsync::journal::Journal;
use rusqlite::Connection;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: i64 = 3_000;

fn source(path: &Path, seed: i64) {
    let c = Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE m_product (m_product_id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2));",
    )
    .unwrap();
    c.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO m_product SELECT i, 'product ' || (i * ?2), i % 97 FROM n",
        [ROWS, seed],
    )
    .unwrap();
}

fn branchsync(config: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
    c.arg("--config").arg(config).args(args);
    c.env_remove("RUST_LOG").env("NO_COLOR", "1");
    c
}

fn get(addr: &str, path: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // Bytes, not a string: a large page comes in chunked transfer encoding,
    // whose chunk-size lines can fall inside a multi-byte character.
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    let status_line = reply.split(|&b| b == b'\n').next().unwrap_or_default();
    String::from_utf8_lossy(status_line)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `f` in a loop on its own thread until `stop`, counting the rounds.
fn looping(
    stop: &Arc<AtomicBool>,
    mut f: impl FnMut() + Send + 'static,
) -> (std::thread::JoinHandle<()>, Arc<AtomicU64>) {
    let (stop, count) = (stop.clone(), Arc::new(AtomicU64::new(0)));
    let n = count.clone();
    let handle = std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            f();
            n.fetch_add(1, Ordering::Relaxed);
        }
    });
    (handle, count)
}

#[test]
fn four_processes_on_one_journal_with_forced_checkpoints_keep_it_intact() {
    let secs: u64 = std::env::var("BRANCHSYNC_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().unwrap();
    source(&dir.path().join("a.db"), 3);
    source(&dir.path().join("b.db"), 7);
    let config = dir.path().join("branchsync.toml");
    std::fs::write(
        &config,
        "[journal]\npath = \"journal.db\"\n\n[engine]\nthreads = 2\n\n\
         [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\nbranch_column = \"branch\"\n\n\
         [[connection]]\nname = \"sqlite_a\"\ndriver = \"sqlite\"\nurl = \"a.db\"\n\n\
         [[connection]]\nname = \"sqlite_b\"\ndriver = \"sqlite\"\nurl = \"b.db\"\n\n\
         [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n",
    )
    .unwrap();
    let journal = dir.path().join("journal.db");
    // The first sync creates the journal before anyone else opens it.
    assert!(branchsync(&config, &["sync-all", "-q"])
        .status()
        .unwrap()
        .success());

    let mut serve = branchsync(&config, &["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .trim_end_matches('/')
        .to_owned();

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let (sync, syncs) = {
        let (config, failures) = (config.clone(), failures.clone());
        looping(&stop, move || {
            let out = branchsync(&config, &["sync-all", "-q"]).output().unwrap();
            if !out.status.success() {
                failures.fetch_add(1, Ordering::Relaxed);
                eprintln!("sync-all: {}", String::from_utf8_lossy(&out.stderr));
            }
        })
    };
    let (status, statuses) = {
        let (config, failures) = (config.clone(), failures.clone());
        looping(&stop, move || {
            for args in [["sync-status", "--all"], ["sync-status", "--latest"]] {
                let out = branchsync(&config, &args).output().unwrap();
                if !out.status.success() {
                    failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("{args:?}: {}", String::from_utf8_lossy(&out.stderr));
                }
            }
        })
    };
    let (http, requests) = {
        let failures = failures.clone();
        looping(&stop, move || {
            for path in ["/", "/api/batches", "/api/batches/latest"] {
                let code = get(&addr, path);
                if code != 200 {
                    failures.fetch_add(1, Ordering::Relaxed);
                    eprintln!("GET {path}: {code}");
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        })
    };
    let (liveness, checkpoints) = {
        let journal = journal.clone();
        looping(&stop, move || {
            let mut j = Journal::open(&journal).unwrap();
            j.reconcile_liveness(false).unwrap();
            drop(j);
            let c = Connection::open(&journal).unwrap();
            c.busy_timeout(Duration::from_secs(30)).unwrap();
            c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
        })
    };

    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in [sync, status, http, liveness] {
        t.join().unwrap();
    }
    let _ = serve.kill();
    let _ = serve.wait();
    let elapsed = started.elapsed().as_secs_f64();

    let c = Connection::open(&journal).unwrap();
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    let (batches, unfinished): (i64, i64) = c
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE status <> 'completed') FROM sync_batches",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    eprintln!(
        "journal stress, {elapsed:.1} s: {} sync-all runs, {} sync-status rounds (2 calls each), \
         {} dashboard rounds (3 requests each), {} liveness checks + TRUNCATE checkpoints, \
         {batches} batches in the journal, {} failures; integrity_check = {integrity}",
        syncs.load(Ordering::Relaxed),
        statuses.load(Ordering::Relaxed),
        requests.load(Ordering::Relaxed),
        checkpoints.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    assert_eq!(integrity, "ok");
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    assert!(syncs.load(Ordering::Relaxed) > 0 && checkpoints.load(Ordering::Relaxed) > 0);
    assert_eq!(batches as u64, syncs.load(Ordering::Relaxed) + 1);
    assert_eq!(unfinished, 0, "every batch completed");
}
