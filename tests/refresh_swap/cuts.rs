//! A chunked copy through a branch link that breaks: cut once at 50% and at
//! 90% of the copy, the retry goes on after the last committed chunk and
//! carries at most one chunk more than a clean copy; through a relay that
//! cuts every connection every second, the copy still completes.
//!
//! Bytes are counted at the in-test proxy (branch → tool). CI copies 200,000
//! rows in chunks of 5,000 through the every-second relay;
//! `BRANCHSYNC_CUT_ROWS=1000000 BRANCHSYNC_CUT_CHUNK=100000` runs the 1M-row
//! case the README reports.

use super::common::fixture::{code, Fixture};
use super::common::proxy::{Dir, Proxy};
use super::{assert_clean_layout, fixture, DEADLINE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Bytes the branch has sent through `proxy` so far.
fn down(proxy: &Proxy) -> u64 {
    proxy
        .stats()
        .iter()
        .map(|s| s.down.load(Ordering::SeqCst))
        .sum()
}

/// A one-branch fixture whose branch link goes through a proxy; the config
/// syncs c_invoiceline only.
fn routed(lines: i64, chunk_rows: u64) -> (Fixture, Proxy) {
    let fx = fixture(1, lines, chunk_rows);
    let url = fx.branches[0].1.url.clone();
    let proxy = Proxy::for_server(&url);
    let to = proxy.url(&url);
    fx.rewrite_config(|s| s.replace(&format!("\"{url}\""), &format!("\"{to}\"")));
    (fx, proxy)
}

fn sync(fx: &Fixture) -> i32 {
    code(&fx.run_within(
        &["sync-all", "--skip-step1", "--tables", "CInvoiceLine"],
        DEADLINE,
    ))
}

#[test]
fn a_cut_at_half_and_at_nine_tenths_costs_at_most_one_chunk() {
    const CHUNKS: u64 = 10;
    let lines = 100_000;
    let (fx, proxy) = routed(lines, lines as u64 / CHUNKS);
    let before = down(&proxy);
    assert_eq!(sync(&fx), 0);
    let clean = down(&proxy) - before;
    let chunk = clean / CHUNKS;
    for fraction in [0.5, 0.9] {
        proxy.cut_after(Dir::Down, (clean as f64 * fraction) as u64, Some(1));
        let before = down(&proxy);
        assert_eq!(sync(&fx), 0, "cut at {fraction}");
        let carried = down(&proxy) - before;
        assert_eq!(proxy.faults().cuts_left, Some(0), "the link was not cut");
        println!(
            "cut at {fraction}: {carried} bytes vs {clean} clean ({:.3}x), one chunk {chunk}",
            carried as f64 / clean as f64
        );
        // One chunk, plus what a new session and its queries cost.
        assert!(
            carried <= clean + chunk + 64 * 1024,
            "cut at {fraction}: carried {carried} bytes, clean {clean}, chunk {chunk}"
        );
        let mut central = fx.central.client();
        let want =
            super::common::erp::content_hash(&mut fx.branches[0].1.client(), "c_invoiceline", None);
        let got = super::common::erp::content_hash(
            &mut central,
            "c_invoiceline",
            Some(&fx.branches[0].0),
        );
        assert_eq!(got, want, "cut at {fraction}");
    }
}

#[test]
fn a_relay_that_cuts_every_second_still_completes_a_chunked_copy() {
    let lines: i64 = std::env::var("BRANCHSYNC_CUT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    // Small chunks: each must get through between two cuts even on a busy
    // machine. `BRANCHSYNC_CUT_CHUNK` sets another size.
    let chunk: u64 = std::env::var("BRANCHSYNC_CUT_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or((lines as u64 / 40).max(1));
    let (fx, proxy) = routed(lines, chunk);
    // Attempts that commit nothing (cut while connecting) are counted.
    fx.rewrite_config(|s| s.replace("retries = 3", "retries = 10"));
    let before = down(&proxy);
    assert_eq!(sync(&fx), 0);
    let clean = down(&proxy) - before;

    let stop = Arc::new(AtomicBool::new(false));
    let proxy = Arc::new(proxy);
    let cutter = {
        let (stop, proxy) = (stop.clone(), proxy.clone());
        std::thread::spawn(move || {
            let mut cuts = 0;
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(1));
                cuts += proxy.cut_now();
            }
            cuts
        })
    };
    let before = down(&proxy);
    let started = std::time::Instant::now();
    let status = sync(&fx);
    stop.store(true, Ordering::SeqCst);
    let cuts = cutter.join().unwrap();
    let carried = down(&proxy) - before;
    println!(
        "{lines} rows in chunks of {chunk}, link cut every second: exit {status} in {:.1}s, {cuts} connections cut, {carried} bytes vs {clean} clean ({:.3}x)",
        started.elapsed().as_secs_f64(),
        carried as f64 / clean as f64
    );
    assert_eq!(status, 0);
    assert!(
        carried as f64 <= 1.5 * clean as f64,
        "carried {carried} bytes for a clean copy of {clean}"
    );
    let mut central = fx.central.client();
    let want =
        super::common::erp::content_hash(&mut fx.branches[0].1.client(), "c_invoiceline", None);
    let got =
        super::common::erp::content_hash(&mut central, "c_invoiceline", Some(&fx.branches[0].0));
    assert_eq!(got, want);
    let _ = assert_clean_layout;
}
