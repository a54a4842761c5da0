//! The kill loop: the real binary is SIGKILLed at random moments of a
//! multi-branch sync, again and again, then resumed to completion. After
//! every kill the journal is sound and claims nothing the target lacks; at the
//! end every central table equals the union of its branches.

mod common;

use common::erp::content_hash;
use common::fixture::{code, signal, Fixture};
use rand::{RngExt, SeedableRng};
use std::time::Duration;

/// After a kill: integrity ok, no batch left `running` once read, and every
/// `completed` row's data is committed in the target.
fn check_after_kill(fx: &Fixture, seed: u64, round: usize) {
    let j = fx.journal();
    let ok: String = j
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "seed {seed} round {round}");
    drop(j);
    // Any reading command records the dead run as interrupted.
    let out = fx.run(&["sync-status", "--all"]);
    assert_eq!(code(&out), 0, "seed {seed} round {round}");
    let running: i64 = fx
        .journal()
        .query_row(
            "SELECT count(*) FROM sync_batches WHERE status = 'running'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        running, 0,
        "seed {seed} round {round}: a batch still shows running"
    );
    let (batch, _) = fx.latest_batch();
    let mut central = fx.central.client();
    for r in fx.progress(&batch).iter().filter(|r| r.2 == "completed") {
        let db = &fx.branches.iter().find(|(n, _)| *n == r.0).unwrap().1;
        let want = content_hash(&mut db.client(), &r.1, None);
        let branch = (r.1 != "ad_org").then_some(r.0.as_str());
        assert_eq!(
            content_hash(&mut central, &r.1, branch),
            want,
            "seed {seed} round {round}: {r:?} is completed but its data is not in the target"
        );
    }
}

#[test]
fn thirty_random_kills_then_resume_to_completion() {
    let seed: u64 = std::env::var("BRANCHSYNC_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("fault seed: {seed} (set BRANCHSYNC_FAULT_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let fx = Fixture::new(3, 40_000);
    fx.write_config();

    let mut batch: Option<String> = None;
    let mut kills = 0;
    let mut round = 0;
    while kills < 30 {
        round += 1;
        assert!(
            round < 200,
            "seed {seed}: runs keep completing before the kill"
        );
        let args: Vec<String> = match &batch {
            Some(b) => vec!["sync-all".into(), format!("--resume={b}")],
            None => vec!["sync-all".into()],
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = fx.spawn(&args);
        std::thread::sleep(Duration::from_millis(rng.random_range(30..1200)));
        if child.try_wait().unwrap().is_none() {
            signal(&child, libc::SIGKILL);
            kills += 1;
        }
        child.wait().unwrap();
        // A kill before the schema was written leaves an empty journal file.
        let batches = match fx.journal_path().exists() {
            false => 0,
            true => match fx
                .journal()
                .query_row("SELECT count(*) FROM sync_batches", [], |r| {
                    r.get::<_, i64>(0)
                }) {
                Ok(n) => n,
                Err(e) if e.to_string().contains("no such table") => 0,
                Err(e) => panic!("seed {seed} round {round}: {e}"),
            },
        };
        if batches > 0 {
            check_after_kill(&fx, seed, round);
            let (b, status) = fx.latest_batch();
            // A run that completed starts the next batch afresh.
            batch = if status == "completed" { None } else { Some(b) };
        }
    }
    // Finish: resume until the batch completes.
    if let Some(b) = &batch {
        let out = fx.run(&["sync-all", "--resume", b]);
        assert_eq!(code(&out), 0, "seed {seed}");
    }
    assert_eq!(fx.latest_batch().1, "completed", "seed {seed}");
    fx.assert_consolidated();
    eprintln!("kills: {kills}, runs: {round}");
}

#[test]
fn second_sync_while_one_runs_exits_3_naming_the_holder() {
    let mut fx = Fixture::new(2, 200_000);
    fx.engine = fx.engine.replace("threads = 2", "threads = 1");
    fx.write_config();
    let mut child = fx.spawn(&["sync-all"]);
    common::fixture::wait_until(
        "the first run to start copying",
        Duration::from_secs(60),
        || fx.count_status("in_progress") >= 1,
    );
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    let (batch, _) = fx.latest_batch();
    // Each field in its place: this is what cron mails when two runs overlap.
    let host = branchsync::journal::hostname();
    let expected = format!(
        "another sync is running: batch {batch}, pid {}, host {host} (lock file ",
        child.id()
    );
    assert!(err.contains(&expected), "{err}\nexpected: {expected}");
    assert!(
        err.contains("journal.db.lock). Wait for it to finish, or watch it with `branchsync "),
        "{err}"
    );
    assert!(err.contains("sync-status --latest`"), "{err}");
    // sync-status works meanwhile and shows the live batch.
    let out = fx.run(&["sync-status", "--latest"]);
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("running"));
    signal(&child, libc::SIGTERM);
    assert_eq!(child.wait().unwrap().code(), Some(130));
}

/// A run killed while one table copies for seconds without a state change
/// (here: blocked behind a lock at the branch) is recorded as interrupted
/// when it died, not when its last table started: the run's heartbeat.
/// Under no terminal, the interrupt message names signals, not Ctrl+C.
#[test]
fn a_killed_run_ends_at_its_last_heartbeat_and_cron_hears_of_signals() {
    let mut fx = Fixture::new(1, 2_000);
    fx.engine = fx.engine.replace("threads = 2", "threads = 1");
    fx.write_config();
    let mut blocker = fx.branches[0].1.client();
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE c_invoiceline IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let start = std::time::Instant::now();
    let mut child = fx.spawn(&["sync-all"]);
    common::fixture::wait_until(
        "the run to reach the locked table",
        Duration::from_secs(60),
        || fx.count_status("completed") >= 2 && fx.count_status("in_progress") == 1,
    );
    std::thread::sleep(Duration::from_secs(6));
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    let lived = start.elapsed().as_secs_f64();
    tx.rollback().unwrap();

    let out = fx.run(&["sync-status", "--json"]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["batch"]["status"], "interrupted", "{v}");
    let worked = v["batch"]["duration_seconds"].as_f64().unwrap();
    assert!(
        worked >= 5.0 && worked <= lived + 1.0,
        "the run lived {lived:.1}s; the journal says it worked {worked:.1}s"
    );

    // The resume under no terminal, interrupted by SIGTERM.
    let mut tx = blocker.transaction().unwrap();
    tx.batch_execute("LOCK TABLE c_invoiceline IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let (batch, _) = fx.latest_batch();
    let child = fx.spawn(&["sync-all", "--resume", &batch]);
    common::fixture::wait_until(
        "the resume to reach the locked table",
        Duration::from_secs(60),
        || fx.count_status("in_progress") == 1,
    );
    signal(&child, libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(500));
    tx.rollback().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a second SIGINT or SIGTERM exits at once"),
        "{err}"
    );
    assert!(!err.contains("Ctrl+C"), "{err}");
}
