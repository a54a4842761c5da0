//! The detail view of a batch that was interrupted, resumed, or given up.

use super::*;
use crate::report::test_rows::batch;

fn segment(start: &str, end: Option<&str>, status: &str) -> Segment {
    Segment {
        started_at: start.into(),
        ended_at: end.map(Into::into),
        end_status: Some(status.into()),
    }
}

#[test]
fn a_resumed_batch_says_when_it_stopped_and_resumed_and_counts_working_time() {
    let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Completed);
    b.started_at = "2026-11-26T08:45:22.000Z".into();
    b.completed_at = Some("2026-11-26T08:47:00.000Z".into());
    b.duration_seconds = Some(12.0);
    let segments = [
        segment(
            "2026-11-26T08:45:22.000Z",
            Some("2026-11-26T08:45:27.000Z"),
            "interrupted",
        ),
        segment(
            "2026-11-26T08:46:53.000Z",
            Some("2026-11-26T08:47:00.000Z"),
            "completed",
        ),
    ];
    let history = RunHistory {
        segments: &segments,
        abandoned: None,
        live: None,
    };
    let text = render_batch_detail(&b, &[], history, false, Paint::PLAIN);
    let at = |ts: &str| local_time(ts);
    let want = format!(
        "  Started: {}\n  Interrupted at: {}\n  Resumed at: {}\n  Completed: {}\n  Duration: 00:00:12 (working time, 2 runs)\n",
        at("2026-11-26T08:45:22.000Z"),
        at("2026-11-26T08:45:27.000Z"),
        at("2026-11-26T08:46:53.000Z"),
        at("2026-11-26T08:47:00.000Z"),
    );
    assert!(text.contains(&want), "{text}");
}

#[test]
fn an_interrupted_batch_is_not_labelled_completed() {
    let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Interrupted);
    b.completed_at = Some("2026-11-26T08:45:27.000Z".into());
    let text = render_batch_detail(&b, &[], RunHistory::default(), false, Paint::PLAIN);
    assert!(!text.contains("Completed:"), "{text}");
    assert!(
        text.contains(&format!(
            "  Interrupted at: {}\n",
            local_time("2026-11-26T08:45:27.000Z")
        )),
        "{text}"
    );
    assert!(text.contains("--abandon"), "{text}");
}

#[test]
fn an_abandoned_batch_says_so_and_offers_no_resume() {
    let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
    b.completed_at = Some("2026-11-26T08:45:27.000Z".into());
    let gone = Abandoned {
        abandoned_at: "2026-11-26T09:00:00.000Z".into(),
        reason: "typo in source".into(),
    };
    let history = RunHistory {
        segments: &[],
        abandoned: Some(&gone),
        live: None,
    };
    let text = render_batch_detail(&b, &[], history, false, Paint::PLAIN);
    assert!(
        text.contains(&format!(
            "  Abandoned: {} (typo in source)\n",
            local_time("2026-11-26T09:00:00.000Z")
        )),
        "{text}"
    );
    // a failed batch ended; it did not complete
    assert!(text.contains("  Ended: "), "{text}");
    assert!(!text.contains("Completed:"), "{text}");
    assert!(!text.contains("--resume"), "{text}");
    let list = render_batch_list(&[b], 1, &[gone_id()], Paint::PLAIN);
    assert!(list.contains("failed (abandoned)"), "{list}");
    assert!(list.contains("All Sync Batches: 1\n"), "{list}");
}

fn gone_id() -> String {
    "sync_20261126084522_AbCd1234".into()
}
