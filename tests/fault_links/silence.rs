//! Silent links: a proxy that accepts and forwards nothing (stall), one that
//! goes quiet in the middle of a COPY with the TCP connection still open
//! (freeze), and one that is merely slow. The run must end within its
//! timeouts (or on Ctrl+C), and a resume must lose and duplicate nothing.

use super::common::fixture::{code, reliability, wait_until, Fixture};
use super::common::proxy::{Dir, Proxy};
use super::{assert_nothing_lost, fixture, route, rows_of, DEADLINE};
use std::time::{Duration, Instant};

#[test]
fn stalled_branch_link_times_out_then_resume_completes() {
    let mut fx = Fixture::new(2, 2_000);
    fx.engine = "threads = 2\nretries = 1\nretry_backoff = \"100ms\"\nconnect_timeout = \"1s\"\nstatement_timeout = \"3s\"\n".into();
    fx.write_config();
    let branch = fx.branches[1].0.clone();
    let proxy = Proxy::for_server(&fx.branches[1].1.url);
    route(&fx, &fx.branches[1].1.url.clone(), &proxy);
    proxy.stall();

    let start = Instant::now();
    let out = fx.run_within(&["sync-all"], Duration::from_secs(30));
    let took = start.elapsed();
    assert_eq!(code(&out), 1);
    assert!(proxy.connections() >= 1, "the tool never reached the proxy");
    for (table, status, retries, error) in rows_of(&fx, &branch) {
        assert_eq!(status, "failed", "{table}");
        assert_eq!(retries, 1, "{table}: retry_count");
        let e = error.unwrap_or_default();
        assert!(
            e.contains(&branch) && e.contains("connect_timeout"),
            "{table}: {e}"
        );
    }
    for (table, status, _, _) in rows_of(&fx, &fx.branches[0].0) {
        assert_eq!(
            status, "completed",
            "{table}: the healthy branch must not suffer"
        );
    }
    let (batch, _) = fx.latest_batch();
    proxy.heal();
    let out = fx.run_within(&["sync-all", "--resume", &batch], DEADLINE);
    assert_eq!(code(&out), 0);
    let (lost, dup) = assert_nothing_lost(&fx, "stalled branch link, then resumed");
    reliability(
        "branch link stalled (accepts, forwards nothing)",
        1,
        lost,
        dup,
        &format!("tables failed after connect_timeout x 2 attempts, run ended in {:.1}s; resume completed", took.as_secs_f64()),
    );
}

#[test]
fn stalled_central_link_times_out() {
    let mut fx = Fixture::new(1, 500);
    fx.engine = "threads = 2\nretries = 1\nretry_backoff = \"100ms\"\nconnect_timeout = \"1s\"\nstatement_timeout = \"3s\"\n".into();
    fx.write_config();
    let proxy = Proxy::for_server(&fx.central.url);
    route(&fx, &fx.central.url.clone(), &proxy);
    proxy.stall();
    let start = Instant::now();
    let out = fx.run_within(
        &["sync-all", "--tables", "MProduct,CInvoiceLine"],
        Duration::from_secs(30),
    );
    let took = start.elapsed();
    assert_eq!(code(&out), 1);
    let (batch, _) = fx.latest_batch();
    for r in fx.progress(&batch) {
        assert_eq!(r.2, "failed", "{r:?}");
        assert_eq!(r.6, 1, "retry_count {r:?}");
    }
    proxy.heal();
    let out = fx.run_within(&["sync-all", "--resume", &batch], DEADLINE);
    assert_eq!(code(&out), 0);
    let (lost, dup) = fx.lost_and_duplicated_in(&["m_product", "c_invoiceline"]);
    assert_eq!((lost, dup), (0, 0));
    reliability(
        "central link stalled (accepts, forwards nothing)",
        1,
        lost,
        dup,
        &format!(
            "tables failed after the timeouts, run ended in {:.1}s; resume completed",
            took.as_secs_f64()
        ),
    );
}

/// A link that goes silent in the middle of a COPY (the proxy keeps the TCP
/// connection open and forwards nothing more: a hung server or middlebox,
/// which TCP keepalives cannot see). `statement_timeout` is the only bound
/// the operator set; the run must end within a few of them.
#[test]
fn branch_link_frozen_mid_copy_does_not_hang_the_run() {
    let mut fx = Fixture::new(2, 30_000);
    fx.engine = "threads = 2\nretries = 1\nretry_backoff = \"100ms\"\nconnect_timeout = \"1s\"\nstatement_timeout = \"2s\"\n".into();
    fx.write_config();
    let branch = fx.branches[1].0.clone();
    let proxy = Proxy::for_server(&fx.branches[1].1.url);
    route(&fx, &fx.branches[1].1.url.clone(), &proxy);
    proxy.freeze_after(Dir::Down, 400_000);
    // Bound: 2 attempts x (statement_timeout + connect_timeout) + slack.
    let out = fx.run_within(
        &["sync-all", "--tables", "CInvoiceLine"],
        Duration::from_secs(15),
    );
    assert_eq!(code(&out), 1);
    let rows = rows_of(&fx, &branch);
    assert_eq!(rows[0].1, "failed", "{rows:?}");
    let (batch, _) = fx.latest_batch();
    proxy.heal();
    let out = fx.run_within(&["sync-all", "--resume", &batch], DEADLINE);
    assert_eq!(code(&out), 0);
    let (lost, dup) = fx.lost_and_duplicated_in(&["c_invoiceline"]);
    assert_eq!((lost, dup), (0, 0));
    reliability(
        "branch link frozen mid-COPY (TCP open, silent)",
        1,
        lost,
        dup,
        "table failed within the timeouts; resume completed",
    );
}

/// A slow link (every 16 kB chunk delayed) only makes the run slower.
#[test]
fn slow_branch_link_only_slows_the_run() {
    let fx = fixture(1, 20_000);
    let proxy = Proxy::for_server(&fx.branches[0].1.url);
    route(&fx, &fx.branches[0].1.url.clone(), &proxy);
    proxy.delay(Duration::from_millis(3));
    let out = fx.run_within(&["sync-all"], DEADLINE);
    assert_eq!(code(&out), 0);
    let (batch, _) = fx.latest_batch();
    assert!(
        fx.progress(&batch).iter().all(|r| r.6 == 0),
        "a slow link is not a failure"
    );
    let (lost, dup) = assert_nothing_lost(&fx, "slow link");
    reliability(
        "slow branch link (3 ms per 16 kB chunk)",
        1,
        lost,
        dup,
        "completed without retries",
    );
}

/// Ctrl+C must stop a run even when a copy hangs on a silent link.
#[test]
fn sigint_with_a_frozen_branch_link_still_exits_130() {
    let mut fx = Fixture::new(1, 30_000);
    fx.engine = "threads = 1\nretries = 1\nretry_backoff = \"100ms\"\nconnect_timeout = \"1s\"\nstatement_timeout = \"30s\"\n".into();
    fx.write_config();
    let proxy = Proxy::for_server(&fx.branches[0].1.url);
    route(&fx, &fx.branches[0].1.url.clone(), &proxy);
    proxy.freeze_after(Dir::Down, 400_000);
    let child = fx.spawn(&["sync-all", "--tables", "CInvoiceLine"]);
    wait_until("the link to freeze", Duration::from_secs(30), || {
        proxy
            .stats()
            .iter()
            .any(|s| s.frozen.load(std::sync::atomic::Ordering::SeqCst))
    });
    std::thread::sleep(Duration::from_millis(300));
    super::common::fixture::signal(&child, libc::SIGINT);
    let out = super::common::fixture::wait_within(child, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("SIGINT did not stop the run: {e}"));
    assert_eq!(code(&out), 130);
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "interrupted");
    assert!(fx.progress(&batch).iter().all(|r| r.2 == "pending"));
    reliability(
        "SIGINT while a copy hangs on a frozen link",
        1,
        0,
        0,
        "exit 130 within 10 s, row back to pending",
    );
}
