//! Readers of the parent table during a refresh: they keep answering (within
//! a second, even while a long report query holds the table and the publish
//! has to wait for it) and see yesterday's slice until the swap.

use super::common::fixture::wait_within;
use super::{a_day_passes, fixture, signature, DEADLINE};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One answer of the reader: the slice's signature and how long it took.
type Answer = ((i64, String), Duration);

#[test]
fn readers_see_the_old_slice_until_the_swap_and_never_wait_a_second() {
    let fx = fixture(1, 200_000, 1_000_000);
    let branch = fx.branches[0].0.clone();
    assert_eq!(super::code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
    let old = signature(&mut fx.central.client(), "c_invoiceline", &branch);
    a_day_passes(&mut fx.branches[0].1.client(), 1);
    let new = {
        let mut c = fx.branches[0].1.client();
        let r = c
            .query_one(
                "SELECT count(*), sum(priceactual)::text FROM c_invoiceline",
                &[],
            )
            .unwrap();
        (r.get::<_, i64>(0), r.get::<_, String>(1))
    };
    assert_ne!(old, new);

    let done = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let reader = {
        let (done, seen, url) = (done.clone(), seen.clone(), fx.central.url.clone());
        let branch = branch.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            while !done.load(Ordering::SeqCst) {
                let t = Instant::now();
                let s = signature(&mut c, "c_invoiceline", &branch);
                seen.lock().unwrap().push((s, t.elapsed()));
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    // A long report query that holds the parent while the new slice is
    // staged: the publish must not queue behind it and block the reader.
    let report = {
        let url = fx.central.url.clone();
        let stage = format!("c_invoiceline__{branch}__next");
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let end = Instant::now() + Duration::from_secs(60);
            while Instant::now() < end {
                let staged = c
                    .query_opt("SELECT 1 FROM pg_class WHERE relname = $1", &[&stage])
                    .unwrap()
                    .is_some();
                if staged {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let mut tx = c.transaction().unwrap();
            tx.query("SELECT count(*) FROM c_invoiceline", &[]).unwrap();
            tx.batch_execute("SELECT pg_sleep(2)").unwrap();
            tx.commit().unwrap();
        })
    };
    let out = wait_within(fx.spawn(&["sync-all"]), DEADLINE).unwrap();
    done.store(true, Ordering::SeqCst);
    reader.join().unwrap();
    report.join().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let seen = seen.lock().unwrap();
    let slowest = seen.iter().map(|(_, d)| *d).max().unwrap();
    println!(
        "reader: {} answers during the refresh, slowest {} ms",
        seen.len(),
        slowest.as_millis()
    );
    assert!(
        slowest < Duration::from_secs(1),
        "a reader waited {slowest:?}"
    );
    // Only whole slices, the old one first, the new one from the swap on.
    let first_new = seen.iter().position(|(s, _)| *s == new);
    assert!(seen[0].0 == old, "the first answer was not the old slice");
    let first_new = first_new.unwrap_or(seen.len());
    assert!(seen[..first_new].iter().all(|(s, _)| *s == old));
    assert!(seen[first_new..].iter().all(|(s, _)| *s == new));
    assert_eq!(
        signature(&mut fx.central.client(), "c_invoiceline", &branch),
        new
    );
}
