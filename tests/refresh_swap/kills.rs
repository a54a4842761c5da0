//! SIGKILL in each phase of a refresh (loading chunks, building the stage's
//! key, publishing), then a resume: the slice equals the source, nothing is
//! lost or duplicated, and no stage or detached table is left behind.

use super::common::fixture::{signal, wait_until, Fixture};
use super::{a_day_passes, assert_clean_layout, code, fixture, DEADLINE};
use postgres::Client;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
enum Phase {
    Load,
    BuildKey,
    Publish,
}

/// The binary's statement at the central server that matches `pattern`.
fn running(c: &mut Client, pattern: &str) -> bool {
    c.query_opt(
        "SELECT 1 FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
        &[&pattern],
    )
    .map(|r| r.is_some())
    .unwrap_or(false)
}

/// Chunks of c_invoiceline committed by a batch other than `not`.
fn committed_chunks(fx: &Fixture, not: &str) -> i64 {
    let Ok(j) = rusqlite::Connection::open(fx.journal_path()) else {
        return 0;
    };
    j.query_row(
        "SELECT count(*) FROM sync_chunks WHERE batch_id <> ?1 AND table_name = 'c_invoiceline'",
        [not],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

#[test]
fn a_kill_in_each_phase_then_a_resume_gives_an_equal_slice_and_no_orphans() {
    for phase in [Phase::Load, Phase::BuildKey, Phase::Publish] {
        let fx = fixture(1, 120_000, 30_000);
        assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
        let (first, _) = fx.latest_batch();
        a_day_passes(&mut fx.branches[0].1.client(), 1);
        let stage = format!("c_invoiceline__{}__next", fx.branches[0].0);
        let mut watcher = fx.central.client();
        // What holds the binary in the phase until the kill.
        let mut holder = fx.central.client();
        if let Phase::Publish = phase {
            holder
                .batch_execute("BEGIN; SELECT count(*) FROM c_invoiceline")
                .unwrap();
        }
        let child = fx.spawn(&["sync-all"]);
        match phase {
            Phase::Load => wait_until("a committed chunk", DEADLINE, || {
                committed_chunks(&fx, &first) >= 1
            }),
            Phase::BuildKey => {
                // Once the first chunk made the stage visible, hold it: the
                // load goes on beside a reader, building its key waits.
                wait_until("a committed chunk", DEADLINE, || {
                    committed_chunks(&fx, &first) >= 1
                });
                holder
                    .batch_execute(&format!(
                        "BEGIN; LOCK TABLE \"{stage}\" IN ACCESS SHARE MODE"
                    ))
                    .unwrap();
                wait_until("building the stage's key", DEADLINE, || {
                    running(&mut watcher, "LOCK TABLE %__next% IN ACCESS EXCLUSIVE MODE")
                });
            }
            Phase::Publish => wait_until("the publish", DEADLINE, || {
                running(&mut watcher, "%DETACH PARTITION%")
            }),
        }
        signal(&child, libc::SIGKILL);
        let _ = holder.batch_execute("ROLLBACK");
        drop(child);
        std::thread::sleep(Duration::from_millis(200));
        let (batch, _) = fx.latest_batch();
        assert_ne!(batch, first, "{phase:?}: the refresh did not start");
        let out = fx.run_within(&["sync-all", "--resume", &batch], DEADLINE);
        assert_eq!(code(&out), 0, "{phase:?}");
        if let Phase::Load = phase {
            let log = String::from_utf8_lossy(&out.stderr).to_string()
                + &std::fs::read_to_string(fx.dir.path().join("storage/logs/sync.log"))
                    .unwrap_or_default();
            assert!(
                log.contains("Resuming c_invoiceline from pgsql_b0 after chunk"),
                "the resume did not go on after the committed chunks"
            );
        }
        fx.assert_consolidated();
        assert_eq!(fx.lost_and_duplicated(), (0, 0), "{phase:?}");
        assert_clean_layout(&fx);
    }
}
