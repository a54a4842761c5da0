//! What `prune` says it deleted (or would delete), and which running batch it
//! left alone.

use super::format::{count_of, local_time};
use crate::journal::BatchRow;
use std::fmt::Write;

/// `doomed`: the batches deleted (or to delete); `kept_running`: running
/// batches older than the cut-off, which are never deleted.
pub fn render_prune(
    doomed: &[BatchRow],
    kept_running: &[BatchRow],
    cutoff: &str,
    dry_run: bool,
) -> String {
    let mut out = String::new();
    let before = local_time(cutoff);
    if doomed.is_empty() {
        let _ = writeln!(
            out,
            "Nothing to prune: no finished batch started before {before}."
        );
    } else {
        let rows: i64 = doomed.iter().map(|b| b.total_tables).sum();
        let verb = if dry_run { "Would delete" } else { "Deleted" };
        let _ = writeln!(
            out,
            "{verb} {} ({}) started before {before}:",
            count_of(doomed.len() as i64, "batch").replace("batchs", "batches"),
            count_of(rows, "progress row"),
        );
        for b in doomed {
            let _ = writeln!(
                out,
                "  {}  {:<11}  started {}",
                b.batch_id,
                b.status.as_str(),
                local_time(&b.started_at)
            );
        }
        if dry_run {
            out.push_str("Nothing was deleted (--dry-run).\n");
        }
    }
    for b in kept_running {
        let _ = writeln!(
            out,
            "Kept {} (still running, started {}).",
            b.batch_id,
            local_time(&b.started_at)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::BatchStatus;
    use crate::report::test_rows::batch;

    #[test]
    fn lists_what_goes_and_what_stays() {
        let mut old = batch("sync_20260101000000_AAAAAAAA", BatchStatus::Completed);
        old.total_tables = 120;
        let running = batch("sync_20260101000001_BBBBBBBB", BatchStatus::Running);
        let text = render_prune(
            std::slice::from_ref(&old),
            &[running],
            "2026-10-27T00:00:00.000Z",
            true,
        );
        assert!(
            text.starts_with("Would delete 1 batch (120 progress rows) started before "),
            "{text}"
        );
        assert!(
            text.contains("sync_20260101000000_AAAAAAAA  completed"),
            "{text}"
        );
        assert!(text.contains("Nothing was deleted (--dry-run)."), "{text}");
        assert!(
            text.contains("Kept sync_20260101000001_BBBBBBBB (still running"),
            "{text}"
        );
        let two = [old.clone(), old];
        let text = render_prune(&two, &[], "2026-10-27T00:00:00.000Z", false);
        assert!(
            text.starts_with("Deleted 2 batches (240 progress rows)"),
            "{text}"
        );
    }

    #[test]
    fn nothing_to_prune() {
        let text = render_prune(&[], &[], "2026-10-27T00:00:00.000Z", false);
        assert!(text.starts_with("Nothing to prune"), "{text}");
    }
}
