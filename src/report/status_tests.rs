//! The seed's layout of the detail and list views.

use super::*;
use crate::report::test_rows::{batch, row};

#[test]
fn detail_has_the_seed_layout() {
    let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
    b.total_tables = 120;
    b.completed_tables = 45;
    b.failed_tables = 2;
    b.duration_seconds = Some(3725.0);
    let mut done = row("pgsql_lmp", "m_product", ProgressStatus::Completed);
    done.records_processed = 15234;
    done.duration_seconds = Some(125.0);
    let mut failed = row("pgsql_jkt", "c_order", ProgressStatus::Failed);
    failed.error_message = Some(format!("connection reset {}", "x".repeat(100)));
    let running = row("pgsql_jkt", "c_invoice", ProgressStatus::InProgress);
    let text = render_batch_detail(
        &b,
        &[done, failed, running],
        RunHistory::default(),
        false,
        Paint::PLAIN,
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "=".repeat(80));
    assert_eq!(lines[1], "Sync Batch Details: sync_20261126084522_AbCd1234");
    assert_eq!(lines[2], "=".repeat(80));
    assert!(
        text.contains("Batch Summary:\n  Status: failed\n  Started: "),
        "{text}"
    );
    assert!(text.contains("  Duration: 01:02:05\n"), "{text}");
    assert!(
        text.contains("  Progress: 45/120 tables (37.5%)\n"),
        "{text}"
    );
    assert!(text.contains("  Failed: 2 tables\n"), "{text}");
    assert!(text.contains("Table Progress:\n┌"), "{text}");
    for col in [
        "Connection",
        "Table",
        "Status",
        "Records",
        "Duration",
        "Error",
    ] {
        assert!(text.contains(col), "{col} missing in {text}");
    }
    assert!(text.contains("15,234"), "{text}");
    assert!(text.contains("00:02:05"), "{text}");
    assert!(text.contains("Running.."), "{text}");
    assert!(text.contains("N/A"), "{text}");
    assert!(text.contains('…'), "{text}");
    let cell = text.lines().find(|l| l.contains("c_order")).unwrap();
    assert!(!cell.contains(&"x".repeat(61)), "{text}");
    // What the table cut is printed whole under it.
    assert!(
        text.contains(&format!(
            "\nErrors in full:\n  pgsql_jkt / c_order: connection reset {}\n",
            "x".repeat(100)
        )),
        "{text}"
    );
    assert!(
        text.contains("--resume=sync_20261126084522_AbCd1234"),
        "{text}"
    );
    assert!(!text.contains('\x1b'));
}

#[test]
fn running_batch_shows_running_duration_and_no_completion() {
    let b = batch("sync_20261126084522_AbCd1234", BatchStatus::Running);
    let text = render_batch_detail(&b, &[], RunHistory::default(), false, Paint::PLAIN);
    assert!(text.contains("  Duration: Running..\n"), "{text}");
    assert!(!text.contains("Completed:"), "{text}");
    assert!(text.contains("No tables in this batch."), "{text}");
    assert!(!text.contains("--resume"), "{text}");
}

#[test]
fn failed_filter_without_failures_says_so() {
    let b = batch("sync_20261126084522_AbCd1234", BatchStatus::Completed);
    let text = render_batch_detail(&b, &[], RunHistory::default(), true, Paint::PLAIN);
    assert!(
        text.contains("Table Progress (failed only):\n  No failed tables."),
        "{text}"
    );
}

#[test]
fn list_has_columns_and_hints() {
    let mut a = batch("sync_20261126084522_AbCd1234", BatchStatus::Completed);
    a.total_tables = 120;
    a.completed_tables = 120;
    a.duration_seconds = Some(61.0);
    let b = batch("sync_20261126084000_ZzZz9999", BatchStatus::Running);
    let text = render_batch_list(&[a, b], 30, &[], Paint::PLAIN);
    assert!(text.contains("All Sync Batches: 2 newest of 30"), "{text}");
    for col in [
        "Batch ID", "Status", "Started", "Duration", "Progress", "Failed",
    ] {
        assert!(text.contains(col), "{col} missing in {text}");
    }
    assert!(text.contains("120/120 (100.0%)"), "{text}");
    assert!(text.contains("00:01:01"), "{text}");
    assert!(text.contains("Running.."), "{text}");
    assert!(
        text.ends_with(&format!("{}\n{}\n", hint_details(), hint_resume())),
        "{text}"
    );
}

#[test]
fn colours_mark_statuses() {
    let b = batch("sync_20261126084522_AbCd1234", BatchStatus::Interrupted);
    let rows = [row("a", "m_product", ProgressStatus::Pending)];
    let text = render_batch_detail(&b, &rows, RunHistory::default(), false, Paint::COLOUR);
    assert!(text.contains("\x1b[35minterrupted"), "{text:?}");
    assert!(text.contains('\x1b'), "{text:?}");
}
