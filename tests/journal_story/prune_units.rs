//! `prune`'s units: a month is `mo` and `m` stays minutes, so `1m` written
//! for a month deletes nothing; it is refused with the spelling of a month
//! and the way to really mean minutes (`--yes`).

use super::common::journal::Site;
use super::old_batch;
use branchsync::journal::{BatchStatus, Journal};

fn batches(site: &Site) -> i64 {
    Journal::open_read(&site.journal_path())
        .unwrap()
        .batch_count()
        .unwrap()
}

#[test]
fn one_m_is_refused_and_a_month_is_mo() {
    let site = Site::new();
    site.journal()
        .import_batches(vec![
            old_batch(1, 2, BatchStatus::Completed),
            old_batch(2, 10, BatchStatus::Completed),
            old_batch(3, 40, BatchStatus::Failed),
        ])
        .unwrap();

    for args in [
        &["prune", "--older-than", "1m"][..],
        &["prune", "--older-than", "59m59s"],
        &["prune", "--older-than", "1m", "--dry-run"],
    ] {
        let out = site.cmd().args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("prune --older-than 1mo`") && err.contains("--yes`"),
            "{args:?}: the refusal shows neither a month nor --yes: {err}"
        );
        assert_eq!(batches(&site), 3, "{args:?} deleted batches");
    }
    let err = site
        .cmd()
        .args(["prune", "--older-than", "1m"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&err.stderr);
    assert!(err.contains("means 1 minute, not a month"), "{err}");

    let text = site.stdout(&["prune", "--older-than", "1mo"]);
    assert!(text.starts_with("Deleted 1 batch"), "{text}");
    assert_eq!(batches(&site), 2);
    // Under cron (-q) it prints nothing.
    let text = site.stdout(&["prune", "--older-than", "1w", "-q"]);
    assert_eq!(text, "");
    assert_eq!(batches(&site), 1);
    // A day is an hour or more: no --yes needed.
    let text = site.stdout(&["prune", "--older-than", "3d"]);
    assert!(text.starts_with("Nothing to prune"), "{text}");
    // Minutes, when meant.
    let text = site.stdout(&["prune", "--older-than", "1m", "--yes"]);
    assert!(text.starts_with("Deleted 1 batch"), "{text}");
    assert_eq!(batches(&site), 0);
}
