//! Cron after a branch was down for several runs: `sync-resume-interrupted`
//! works newest first, copies each (connection, table) at most once per
//! run (a table the newest batch completes closes it in the older ones; one
//! that fails is not tried again for them), and goes on past a batch that
//! fails. And giving up many batches at once: `--abandon` with several ids
//! or `--older-than`.

use super::{Site, TABLE};
use rusqlite::Connection;

/// (batch id, status, completed_at) of `conn`'s m_product row in every
/// batch, oldest batch first.
fn rows_of(site: &Site, conn: &str) -> Vec<(String, String, Option<String>)> {
    let c = Connection::open(site.path("journal.db")).unwrap();
    let mut stmt = c
        .prepare(
            "SELECT p.batch_id, p.status, p.completed_at FROM sync_progress p
             JOIN sync_batches b USING (batch_id)
             WHERE p.connection_name = ?1 AND p.table_name = 'm_product'
             ORDER BY b.started_at, b.id",
        )
        .unwrap();
    let rows = stmt
        .query_map([conn], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn batch_status(site: &Site, id: &str) -> String {
    Connection::open(site.path("journal.db"))
        .unwrap()
        .query_row(
            "SELECT status FROM sync_batches WHERE batch_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn cron_resumes_newest_first_and_copies_a_table_once_per_run() {
    let site = Site::new();
    site.config(TABLE, "missing/b.db");
    assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
    let older = site.latest();
    assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
    let newer = site.latest();
    assert_ne!(older, newer);

    // Still down: the branch is tried once in the run (for the newest
    // batch); the older batch's row is left as it was.
    let before = rows_of(&site, "sqlite_b");
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!(
        code, 1,
        "a failed batch is exit 1, and the run goes on: {out}"
    );
    let after = rows_of(&site, "sqlite_b");
    assert_eq!(after[0], before[0], "the older batch's row was tried again");
    assert_ne!(
        after[1].2, before[1].2,
        "the newest batch's row was not tried"
    );
    let at = |s: &str| out.find(s).unwrap_or_else(|| panic!("no {s:?}: {out}"));
    assert!(at(&format!("Resuming batch: {newer}")) < at(&format!("Resuming batch: {older}")));

    // Back: the newest batch copies it, the older one is closed by that copy.
    site.config(TABLE, "b.db");
    let (code, out, _) = site.run(&["sync-resume-interrupted"]);
    assert_eq!(code, 0, "{out}");
    let rows = rows_of(&site, "sqlite_b");
    let completed = rows.iter().filter(|r| r.1 == "completed").count();
    assert_eq!(
        completed, 1,
        "m_product from sqlite_b copied more than once: {rows:?}"
    );
    assert_eq!(
        (rows[1].0.as_str(), rows[1].1.as_str()),
        (newer.as_str(), "completed")
    );
    assert_eq!(rows[0].1, "skipped", "{rows:?}");
    assert!(
        out.contains(&format!(
            "⏭ Skipping m_product (MProduct) from sqlite_b (completed by the newer batch {newer}; not copied again)"
        )),
        "{out}"
    );
    assert_eq!(batch_status(&site, &older), "completed");
    assert_eq!(batch_status(&site, &newer), "completed");
    assert_eq!(site.central_rows(), 70);
    let (code, out, _) = site.run(&["sync-resume-interrupted", "-q"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("Resuming"), "{out}");
}

#[test]
fn the_dry_run_says_newest_first_and_what_the_newer_batch_closes() {
    let site = Site::new();
    site.config(TABLE, "missing/b.db");
    assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
    let older = site.latest();
    assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
    let newer = site.latest();
    let (code, out, _) = site.run(&["sync-resume-interrupted", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("2 batches to resume, newest first"), "{out}");
    assert!(out.find(&newer) < out.find(&older), "{out}");
    assert!(
        out.lines().any(|l| l.contains("sqlite_b")
            && l.contains(&format!("closed if the newer batch {newer} completes it"))),
        "{out}"
    );
}

#[test]
fn abandon_takes_several_ids_or_an_age() {
    let site = Site::new();
    site.config(TABLE, "missing/b.db");
    let mut ids = Vec::new();
    for _ in 0..4 {
        assert_eq!(site.run(&["sync-all", "-q"]).0, 1);
        ids.push(site.latest());
    }
    // The first one is 40 days old.
    Connection::open(site.path("journal.db"))
        .unwrap()
        .execute(
            "UPDATE sync_batches SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 days') WHERE batch_id = ?1",
            [&ids[0]],
        )
        .unwrap();

    // A typo among the ids abandons nothing.
    let (code, _, err) = site.run(&["sync-status", "--abandon", &ids[1], "sync_nope"]);
    assert_eq!(code, 2, "{err}");
    assert!(!site.run(&["sync-status", &ids[1]]).1.contains("Abandoned"));

    let (code, out, _) = site.run(&[
        "sync-status",
        "--abandon",
        &ids[1],
        &ids[2],
        "--reason",
        "branch b closed",
    ]);
    assert_eq!(code, 0, "{out}");
    for id in &ids[1..3] {
        assert!(
            out.contains(&format!("Batch {id} abandoned (branch b closed)")),
            "{out}"
        );
    }
    let (code, out, _) = site.run(&["sync-status", "--abandon", "--older-than", "30d"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("Batch {} abandoned", ids[0])),
        "{out}"
    );
    assert!(
        !out.contains(&ids[3]),
        "a recent batch was abandoned: {out}"
    );

    // Only the newest is left for cron.
    let (_, out, _) = site.run(&["sync-resume-interrupted", "--dry-run"]);
    assert!(out.contains("Dry run: 1 batch to resume"), "{out}");
    assert!(out.contains(&ids[3]), "{out}");
    let (code, out, _) = site.run(&["sync-status", "--abandon", "--older-than", "30d"]);
    assert_eq!(code, 0);
    assert!(out.contains("is left to abandon"), "{out}");
    let (code, _, err) = site.run(&["sync-status", "--abandon"]);
    assert_eq!(code, 2);
    assert!(err.contains("--older-than"), "{err}");
}
