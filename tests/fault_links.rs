//! Dead links, for real: an in-test TCP proxy sits between the binary and one
//! branch (or the central server) and cuts connections mid-COPY at chosen
//! byte offsets, stalls new connections, or freezes a connection mid-stream;
//! the server also terminates the tool's sessions mid-copy. The tool must
//! retry with backoff (counted in `retry_count`), never hang past its
//! timeouts, fail the table with a clear error when the link stays dead, and
//! a later resume must leave every central table equal to the union of its
//! branches: nothing lost, nothing duplicated.

mod common;

#[path = "fault_links/silence.rs"]
mod silence;

use common::fixture::{code, reliability, wait_until, Fixture};
use common::proxy::{Dir, Proxy};
use std::time::Duration;

/// Engine settings for link faults: short timeouts, quick retries.
const ENGINE: &str = "threads = 2\nretries = 2\nretry_backoff = \"100ms\"\nconnect_timeout = \"1s\"\nstatement_timeout = \"4s\"\n";

/// Routes `url` (as written in the config) through `proxy`.
fn route(fx: &Fixture, url: &str, proxy: &Proxy) {
    let from = format!("\"{url}\"");
    let to = format!("\"{}\"", proxy.url(url));
    fx.rewrite_config(|s| {
        assert!(s.contains(&from), "{url} not in the config");
        s.replace(&from, &to)
    });
}

fn fixture(branches: usize, lines: i64) -> Fixture {
    let mut fx = Fixture::new(branches, lines);
    fx.engine = ENGINE.into();
    fx.write_config();
    fx
}

/// (table, status, retry_count, error) of `connection`'s rows in the latest batch.
fn rows_of(fx: &Fixture, connection: &str) -> Vec<(String, String, i64, Option<String>)> {
    let (batch, _) = fx.latest_batch();
    fx.progress(&batch)
        .into_iter()
        .filter(|r| r.0 == connection)
        .map(|r| (r.1, r.2, r.6, r.7))
        .collect()
}

fn log_text(fx: &Fixture) -> String {
    std::fs::read_to_string(fx.dir.path().join("storage/logs/sync.log")).unwrap_or_default()
}

fn assert_nothing_lost(fx: &Fixture, what: &str) -> (u64, u64) {
    fx.assert_consolidated();
    let (lost, dup) = fx.lost_and_duplicated();
    assert_eq!((lost, dup), (0, 0), "{what}: rows lost, rows duplicated");
    (lost, dup)
}

const DEADLINE: Duration = Duration::from_secs(90);

#[test]
fn branch_link_cut_once_mid_copy_is_retried_at_every_offset() {
    let fx = fixture(2, 30_000);
    let branch = fx.branches[1].0.clone();
    let proxy = Proxy::for_server(&fx.branches[1].1.url);
    route(&fx, &fx.branches[1].1.url.clone(), &proxy);

    // A healthy run first: how many bytes the branch sends in all.
    let out = fx.run_within(&["sync-all"], DEADLINE);
    assert_eq!(code(&out), 0);
    let total: u64 = proxy
        .stats()
        .iter()
        .map(|s| s.down.load(std::sync::atomic::Ordering::SeqCst))
        .sum();
    assert!(
        total > 2_000_000,
        "the branch sent only {total} bytes; the cut offsets below assume more"
    );

    let offsets = [150_000u64, 700_000, 1_900_000];
    for (i, at) in offsets.iter().enumerate() {
        let cuts_before = proxy.cuts();
        proxy.cut_after(Dir::Down, *at, Some(1));
        let out = fx.run_within(&["sync-all"], DEADLINE);
        assert_eq!(code(&out), 0, "cut at byte {at}");
        assert_eq!(
            proxy.cuts(),
            cuts_before + 1,
            "the proxy did not cut at byte {at}"
        );
        let rows = rows_of(&fx, &branch);
        let retried: Vec<_> = rows.iter().filter(|r| r.2 > 0).collect();
        assert_eq!(retried.len(), 1, "cut at byte {at}: {rows:?}");
        // Past the small tables, the cut lands in the big COPY.
        assert_eq!(retried[0].0, "c_invoiceline", "cut at byte {at}: {rows:?}");
        assert_eq!(retried[0].2, 1, "retry_count after one cut at byte {at}");
        assert!(rows.iter().all(|r| r.1 == "completed"), "{rows:?}");
        let log = log_text(&fx);
        assert!(
            log.contains(&format!(
                "SyncAll: Connection failed, retry 1/2 for c_invoiceline from {branch}"
            )),
            "retry not logged (cut {i} at byte {at})"
        );
        assert_nothing_lost(&fx, &format!("branch cut once at byte {at}"));
    }
    proxy.heal();
    reliability(
        "branch link cut once mid-COPY (offsets 150 kB, 700 kB, 1.9 MB), retried",
        offsets.len(),
        0,
        0,
        "retried once, batch completed",
    );
}

#[test]
fn branch_link_cut_for_good_fails_the_table_then_resume_completes() {
    let fx = fixture(2, 30_000);
    let branch = fx.branches[1].0.clone();
    let proxy = Proxy::for_server(&fx.branches[1].1.url);
    route(&fx, &fx.branches[1].1.url.clone(), &proxy);
    proxy.cut_after(Dir::Down, 400_000, None);

    let out = fx.run_within(&["sync-all"], DEADLINE);
    assert_eq!(code(&out), 1, "a batch with a failed table exits 1");
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "failed");
    assert_eq!(proxy.cuts(), 3, "first attempt + 2 retries, each cut");
    for (table, status, retries, error) in rows_of(&fx, &branch) {
        if table == "c_invoiceline" {
            assert_eq!(status, "failed");
            assert_eq!(retries, 2, "retry_count");
            let error = error.unwrap_or_default();
            assert!(
                error.contains(&branch),
                "error does not name the connection: {error}"
            );
            assert!(
                error.contains("c_invoiceline"),
                "error does not name the table: {error}"
            );
            assert!(
                error.contains("retried") || error.contains("reachable"),
                "error gives no fix: {error}"
            );
        } else {
            assert_eq!(status, "completed", "{table}");
        }
    }
    // Not "Manual sync required": the resume does it, and the log says how.
    let log = log_text(&fx);
    let line = log
        .lines()
        .find(|l| {
            l.contains(&format!(
                "SyncAll: Final retry failed for c_invoiceline from {branch}"
            ))
        })
        .unwrap_or_else(|| panic!("no final-retry line in {log}"));
    assert!(
        line.contains(&format!(
            "Resume with: branchsync --config {}",
            fx.config_path().display()
        )) && line.ends_with(&format!("sync-all --resume={batch}")),
        "{line}"
    );
    // The failed table left its branch's slice as it was: empty.
    let n: i64 = fx
        .central
        .client()
        .query_one(
            "SELECT count(*) FROM c_invoiceline WHERE branch = $1",
            &[&branch],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0, "a failed table wrote rows");

    proxy.heal();
    let out = fx.run_within(&["sync-all", &format!("--resume={batch}")], DEADLINE);
    assert_eq!(code(&out), 0);
    assert_eq!(fx.latest_batch(), (batch, "completed".into()));
    let (lost, dup) = assert_nothing_lost(&fx, "branch cut for good, then resumed");
    reliability(
        "branch link cut for good mid-COPY (every attempt), then resume",
        1,
        lost,
        dup,
        "table failed after 2 retries (exit 1); resume completed",
    );
}

#[test]
fn central_link_cut_mid_copy_once_and_for_good() {
    let fx = fixture(2, 30_000);
    let proxy = Proxy::for_server(&fx.central.url);
    route(&fx, &fx.central.url.clone(), &proxy);

    // Cut once, at two offsets of the data flowing to the central server.
    let offsets = [250_000u64, 1_500_000];
    for at in offsets {
        let cuts_before = proxy.cuts();
        proxy.cut_after(Dir::Up, at, Some(1));
        let out = fx.run_within(&["sync-all"], DEADLINE);
        assert_eq!(code(&out), 0, "cut at byte {at}");
        assert_eq!(proxy.cuts(), cuts_before + 1);
        let (batch, _) = fx.latest_batch();
        let retries: i64 = fx.progress(&batch).iter().map(|r| r.6).sum();
        assert_eq!(retries, 1, "one cut, one retry");
        assert_nothing_lost(&fx, &format!("central cut once at byte {at}"));
    }
    reliability(
        "central link cut once mid-COPY (offsets 250 kB, 1.5 MB), retried",
        offsets.len(),
        0,
        0,
        "retried once, batch completed",
    );

    // For good: every connection that carries a big table dies.
    proxy.cut_after(Dir::Up, 1_000_000, None);
    let out = fx.run_within(&["sync-all"], DEADLINE);
    assert_eq!(code(&out), 1);
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "failed");
    let rows = fx.progress(&batch);
    let failed: Vec<_> = rows.iter().filter(|r| r.2 == "failed").collect();
    assert!(!failed.is_empty());
    for r in &failed {
        assert_eq!(r.1, "c_invoiceline", "{r:?}");
        assert_eq!(r.6, 2, "retry_count: {r:?}");
        let e = r.7.clone().unwrap_or_default();
        assert!(
            e.contains("target") || e.contains("central"),
            "error does not say it was the target: {e}"
        );
    }
    proxy.heal();
    let out = fx.run_within(&["sync-all", "--resume", &batch], DEADLINE);
    assert_eq!(code(&out), 0);
    assert_eq!(fx.latest_batch().1, "completed");
    let (lost, dup) = assert_nothing_lost(&fx, "central cut for good, then resumed");
    reliability(
        "central link cut for good mid-COPY, then resume",
        1,
        lost,
        dup,
        "tables failed after 2 retries (exit 1); resume completed",
    );
}

/// The server side of a dead link: an administrator (or a failover)
/// terminates the tool's sessions in the middle of a COPY.
#[test]
fn terminated_backends_mid_copy_are_retried() {
    let mut fx = Fixture::new(2, 150_000);
    fx.engine = fx.engine.replace("threads = 2", "threads = 1");
    fx.write_config();
    let mut admin = fx.central.client();
    let mut total = 0;
    for (side, db) in [
        ("branch", fx.branches[1].1.name.clone()),
        ("central", fx.central.name.clone()),
    ] {
        let mut child = fx.spawn(&["sync-all"]);
        let mut killed = 0i64;
        wait_until(
            &format!("a COPY of c_invoiceline at the {side}"),
            Duration::from_secs(60),
            || {
                if child.try_wait().unwrap().is_some() {
                    return true;
                }
                let r = admin
                    .query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = 'branchsync' AND datname = $1 AND state = 'active'
                       AND query ILIKE 'COPY%c_invoiceline%'",
                        &[&db],
                    )
                    .unwrap();
                killed = r.len() as i64;
                killed > 0
            },
        );
        let out = common::fixture::wait_within(child, DEADLINE).unwrap();
        eprintln!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            killed > 0,
            "the copy ended before a backend could be terminated ({side})"
        );
        assert_eq!(code(&out), 0, "{side}");
        let (batch, status) = fx.latest_batch();
        assert_eq!(status, "completed");
        let retried: i64 = fx
            .progress(&batch)
            .iter()
            .filter(|r| r.1 == "c_invoiceline")
            .map(|r| r.6)
            .sum();
        assert!(
            retried >= 1,
            "{side}: no retry recorded after pg_terminate_backend"
        );
        assert_nothing_lost(&fx, &format!("pg_terminate_backend at the {side}"));
        total += 1;
    }
    reliability(
        "pg_terminate_backend of the tool's COPY session (branch, central)",
        total,
        0,
        0,
        "retried, batch completed",
    );
}
