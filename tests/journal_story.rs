//! The journal's life as the reading commands see it: a run journaled through
//! the state-change API, a holder that dies by SIGKILL (liveness), reads while
//! another process writes, corrupted files left untouched, and `prune`
//! boundaries. Real journal files, the real binary, a real lock holder.

mod common;
#[path = "journal_story/prune_units.rs"]
mod prune_units;

use branchsync::journal::{
    format_ts, BatchRow, BatchStatus, Journal, NewProgress, ProgressRow, ProgressStatus, RowCounts,
    RunLock,
};
use common::journal::Site;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn plan(tables: &[(&str, &str)]) -> Vec<NewProgress> {
    tables
        .iter()
        .map(|(conn, table)| NewProgress {
            connection_name: (*conn).into(),
            table_name: (*table).into(),
            model_name: (*table).into(),
            step: 2,
        })
        .collect()
}

const ID: &str = "sync_20261126084522_Story001";

#[test]
fn a_run_as_sync_status_follows_it() {
    let site = Site::new();
    let mut j = site.journal();
    let lock = RunLock::acquire(&site.journal_path()).unwrap();
    let tables = [
        ("pgsql_lmp", "m_product"),
        ("pgsql_lmp", "c_order"),
        ("pgsql_jkt", "m_product"),
        ("pgsql_jkt", "c_order"),
    ];
    j.create_batch(ID, "{\"threads\":2}", &plan(&tables))
        .unwrap();
    let text = site.stdout(&["sync-status"]);
    assert!(
        text.contains(&format!("Sync Batch Details: {ID}")),
        "{text}"
    );
    assert!(text.contains("  Status: running\n"), "{text}");
    assert!(
        text.contains("  Progress: 0/4 tables (0.0%)\n  Failed: 0 tables\n"),
        "{text}"
    );
    assert_eq!(text.matches("pending").count(), 4, "{text}");

    j.start_progress(ID, "pgsql_lmp", "m_product").unwrap();
    j.complete_progress(
        ID,
        "pgsql_lmp",
        "m_product",
        RowCounts {
            processed: 15234,
            skipped: 3,
            ..Default::default()
        },
    )
    .unwrap();
    j.start_progress(ID, "pgsql_lmp", "c_order").unwrap();
    j.record_retry(ID, "pgsql_lmp", "c_order", 1, "connection timeout")
        .unwrap();
    j.fail_progress(
        ID,
        "pgsql_lmp",
        "c_order",
        "authentication failed for user reader",
    )
    .unwrap();
    j.start_progress(ID, "pgsql_jkt", "m_product").unwrap();
    let text = site.stdout(&["sync-status", ID]);
    assert!(
        text.contains("  Progress: 1/4 tables (25.0%)\n  Failed: 1 table\n"),
        "{text}"
    );
    let done = text
        .lines()
        .find(|l| l.contains("pgsql_lmp") && l.contains("m_product"))
        .unwrap();
    assert!(
        done.contains("15,234") && done.contains("00:00:0"),
        "{done}"
    );
    let busy = text
        .lines()
        .find(|l| l.contains("pgsql_jkt") && l.contains("m_product"))
        .unwrap();
    assert!(
        busy.contains("in_progress") && busy.contains("Running..") && busy.contains("N/A"),
        "{busy}"
    );
    let v = site.json(&["sync-status", "--json"]);
    assert_eq!(v["tables"][0]["records_skipped"], 3);
    assert_eq!(v["tables"][1]["retry_count"], 1);
    assert_eq!(
        v["tables"][1]["error_message"],
        "authentication failed for user reader"
    );

    j.complete_progress(
        ID,
        "pgsql_jkt",
        "m_product",
        RowCounts {
            processed: 2,
            skipped: 0,
            ..Default::default()
        },
    )
    .unwrap();
    j.start_progress(ID, "pgsql_jkt", "c_order").unwrap();
    j.complete_progress(
        ID,
        "pgsql_jkt",
        "c_order",
        RowCounts {
            processed: 1000,
            skipped: 0,
            ..Default::default()
        },
    )
    .unwrap();
    j.finish_batch(ID, BatchStatus::Failed).unwrap();
    drop(lock);
    let text = site.stdout(&["sync-status"]);
    assert!(text.contains("  Status: failed\n"), "{text}");
    assert!(text.contains("  Ended: "), "{text}");
    assert!(text.contains("  Duration: 00:00:0"), "{text}");
    assert!(
        text.contains("  Progress: 3/4 tables (75.0%)\n  Failed: 1 table\n"),
        "{text}"
    );
    assert!(!text.contains("Running.."), "{text}");
    let list = site.stdout(&["sync-status", "--all"]);
    let line = list.lines().find(|l| l.contains(ID)).unwrap();
    assert!(
        line.contains("failed") && line.contains("3/4 (75.0%)"),
        "{line}"
    );
}

/// `flock -o LOCK sh -c 'echo $$; exec sleep 60'`: util-linux takes the same
/// flock(2) lock the binary probes; `-o` keeps it in `flock` alone, so killing
/// that one process releases it. Returns the holder and the sleeper's pid once
/// the lock is held.
fn hold_lock_in_child(lock: &std::path::Path) -> (Child, i32) {
    let mut child = std::process::Command::new("flock")
        .arg("-o")
        .arg(lock)
        .args(["sh", "-c", "echo $$; exec sleep 60"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("flock(1) from util-linux");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().parse().unwrap())
}

/// SIGKILL the lock holder (and its sleeper) and reap it.
fn kill(holder: &mut Child, sleeper: i32) {
    // SAFETY: plain kill(2) on pids this test spawned and has not reaped.
    unsafe {
        libc::kill(holder.id() as i32, libc::SIGKILL);
        libc::kill(sleeper, libc::SIGKILL);
    }
    holder.wait().unwrap();
}

#[test]
fn a_killed_holder_leaves_its_batch_interrupted() {
    let site = Site::new();
    let mut j = site.journal();
    j.create_batch(
        ID,
        "{}",
        &plan(&[("pgsql_lmp", "m_product"), ("pgsql_lmp", "c_order")]),
    )
    .unwrap();
    j.start_progress(ID, "pgsql_lmp", "m_product").unwrap();
    j.complete_progress(
        ID,
        "pgsql_lmp",
        "m_product",
        RowCounts {
            processed: 5,
            skipped: 0,
            ..Default::default()
        },
    )
    .unwrap();
    j.start_progress(ID, "pgsql_lmp", "c_order").unwrap();
    drop(j);
    let lock = site.path("storage/journal.db.lock");
    let (mut holder, sleeper) = hold_lock_in_child(&lock);

    let text = site.stdout(&["sync-status"]);
    assert!(text.contains("  Status: running\n"), "{text}");
    assert!(text.contains("Running.."), "{text}");
    let v = site.json(&["sync-status", "--all", "--json"]);
    assert_eq!(v[0]["status"], "running");

    // SIGKILL: no chance to write anything
    kill(&mut holder, sleeper);

    let text = site.stdout(&["sync-status"]);
    assert!(text.contains("  Status: interrupted\n"), "{text}");
    assert!(text.contains(&format!("--resume={ID}")), "{text}");
    assert!(!text.contains("Running.."), "{text}");
    let j = Journal::open_read(&site.journal_path()).unwrap();
    let b = j.batch(ID).unwrap().unwrap();
    assert_eq!(
        b.status,
        BatchStatus::Interrupted,
        "recorded, not only shown"
    );
    assert!(b.completed_at.is_some());
    let rows = j.progress_rows(ID, false).unwrap();
    assert_eq!(rows[0].status, ProgressStatus::Completed);
    assert_eq!(
        rows[1].status,
        ProgressStatus::Pending,
        "its copy went back to pending"
    );
    assert_eq!(j.integrity_check().unwrap(), "ok");
}

#[test]
fn reads_succeed_while_another_process_writes() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const READS: usize = 20;
    let site = Site::new();
    let path = site.journal_path();
    let tables: Vec<(String, String)> = (0..120)
        .map(|i| (format!("branch_{:02}", i % 17), format!("table_{i:03}")))
        .collect();
    let reads = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(std::sync::Barrier::new(2));
    let writer = {
        let (ready, reads, tables) = (ready.clone(), reads.clone(), tables.clone());
        std::thread::spawn(move || {
            let _lock = RunLock::acquire(&path).unwrap();
            let mut j = Journal::open(&path).unwrap();
            let rows: Vec<NewProgress> = tables
                .iter()
                .map(|(c, t)| NewProgress {
                    connection_name: c.clone(),
                    table_name: t.clone(),
                    model_name: t.clone(),
                    step: 2,
                })
                .collect();
            j.create_batch(ID, "{}", &rows).unwrap();
            ready.wait();
            // state changes, one transaction each, until the reader has read
            // the journal many times in the middle of them
            let mut writes = 0u32;
            'busy: for round in 1.. {
                for (c, t) in &tables {
                    j.start_progress(ID, c, t).unwrap();
                    j.record_retry(ID, c, t, round, "connection timeout")
                        .unwrap();
                    writes += 2;
                    if reads.load(Ordering::SeqCst) >= READS {
                        break 'busy;
                    }
                }
            }
            for (c, t) in &tables {
                j.start_progress(ID, c, t).unwrap();
                j.complete_progress(
                    ID,
                    c,
                    t,
                    RowCounts {
                        processed: 10,
                        skipped: 0,
                        ..Default::default()
                    },
                )
                .unwrap();
            }
            j.finish_batch(ID, BatchStatus::Completed).unwrap();
            writes
        })
    };
    ready.wait();
    let mut last_completed = 0;
    let mut seen_running = 0;
    let started = Instant::now();
    while !writer.is_finished() {
        let n = reads.load(Ordering::SeqCst);
        let args: &[&str] = if n.is_multiple_of(2) {
            &["sync-status", "--json"]
        } else {
            &["sync-status", "--all"]
        };
        let out = site.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "read {n} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if n.is_multiple_of(2) {
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let status = v["batch"]["status"].as_str().unwrap();
            assert!(status == "running" || status == "completed", "{status}");
            seen_running += usize::from(status == "running");
            let completed = v["batch"]["completed_tables"].as_i64().unwrap();
            assert!(completed >= last_completed, "the journal went backwards");
            last_completed = completed;
            assert_eq!(v["tables"].as_array().unwrap().len(), 120);
        } else {
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(text.contains(ID), "{text}");
        }
        reads.fetch_add(1, Ordering::SeqCst);
        assert!(started.elapsed() < Duration::from_secs(300), "writer stuck");
    }
    let writes = writer.join().unwrap();
    assert!(reads.load(Ordering::SeqCst) >= READS);
    assert!(
        seen_running >= READS / 2 - 1,
        "{seen_running} reads saw the run"
    );
    assert!(writes >= 2, "{writes}");
    let v = site.json(&["sync-status", "--json"]);
    assert_eq!(v["batch"]["status"], "completed");
    assert_eq!(v["batch"]["completed_tables"], 120);
    assert!(v["tables"][0]["retry_count"].as_i64().unwrap() >= 1);
}

fn assert_refused(site: &Site, args: &[&str], what: &str) -> String {
    let out = site.cmd().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{what}: {args:?}");
    assert!(out.stdout.is_empty(), "{what}");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        err.contains(&site.journal_path().display().to_string()),
        "{what}: {err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one paragraph: {err}");
    err
}

#[test]
fn a_garbage_journal_is_refused_and_left_untouched() {
    let site = Site::new();
    let garbage: Vec<u8> = (0..8192u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(site.journal_path(), &garbage).unwrap();
    for args in [
        vec!["sync-status"],
        vec!["sync-status", "--all", "--json"],
        vec!["export", "--latest"],
        vec!["stats"],
        vec!["prune", "--older-than", "1d"],
    ] {
        let err = assert_refused(&site, &args, "garbage");
        assert!(
            err.contains("not a branchsync journal") && err.contains("untouched"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(site.journal_path()).unwrap(), garbage);
}

#[test]
fn a_truncated_journal_is_refused_and_left_untouched() {
    let site = Site::new();
    let batches: Vec<(BatchRow, Vec<ProgressRow>)> = (0..400)
        .map(|i| old_batch(i, 400 - i as i64, BatchStatus::Completed))
        .collect();
    site.journal().import_batches(batches).unwrap();
    let whole = std::fs::read(site.journal_path()).unwrap();
    assert!(whole.len() > 64 * 1024, "{}", whole.len());
    let cut = whole[..whole.len() / 3].to_vec();
    std::fs::write(site.journal_path(), &cut).unwrap();
    for args in [
        vec!["sync-status", "--all"],
        vec!["sync-status", "--all", "--json"],
        vec!["export", "--latest"],
        vec!["stats"],
        vec!["prune", "--older-than", "1d"],
    ] {
        let err = assert_refused(&site, &args, "truncated");
        assert!(
            err.contains("malformed") || err.contains("corrupt") || err.contains("truncated"),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(site.journal_path()).unwrap(), cut);
}

#[test]
fn a_journal_with_damaged_pages_is_refused_and_left_untouched() {
    let site = Site::new();
    let batches: Vec<(BatchRow, Vec<ProgressRow>)> = (0..400)
        .map(|i| old_batch(i, 400 - i as i64, BatchStatus::Completed))
        .collect();
    site.journal().import_batches(batches).unwrap();
    // Damage the root of sync_progress (and the pages after it): every
    // reader of the progress rows meets it, wherever the file puts it.
    let root: i64 = rusqlite::Connection::open(site.journal_path())
        .unwrap()
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'sync_progress'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut bytes = std::fs::read(site.journal_path()).unwrap();
    let page = 4096;
    let start = (root as usize - 1) * page;
    let end = (start + 3 * page).min(bytes.len());
    bytes[start..end].fill(0xff);
    std::fs::write(site.journal_path(), &bytes).unwrap();
    // stats reads every progress row, so it meets the damage
    let err = assert_refused(&site, &["stats"], "damaged");
    assert!(
        err.contains("is damaged") && err.contains("restore it from a backup"),
        "{err}"
    );
    assert_eq!(std::fs::read(site.journal_path()).unwrap(), bytes);
}

/// Batch `i` of a history, started `days_ago` days ago, with 3 progress rows.
fn old_batch(i: usize, days_ago: i64, status: BatchStatus) -> (BatchRow, Vec<ProgressRow>) {
    let started = chrono::Utc::now() - chrono::Duration::days(days_ago);
    started_at(i, started, status)
}

fn started_at(
    i: usize,
    started: chrono::DateTime<chrono::Utc>,
    status: BatchStatus,
) -> (BatchRow, Vec<ProgressRow>) {
    let id = format!("sync_20260101000000_Hist{i:04}");
    let ended = status != BatchStatus::Running;
    let b = BatchRow {
        batch_id: id.clone(),
        status,
        total_tables: 3,
        completed_tables: if ended { 3 } else { 0 },
        failed_tables: 0,
        command_options: "{}".into(),
        started_at: format_ts(started),
        completed_at: ended.then(|| format_ts(started + chrono::Duration::seconds(30))),
        duration_seconds: ended.then_some(30.0),
        pid: Some(1),
        host: Some("backup01".into()),
        boot_id: None,
        heartbeat_at: None,
    };
    let rows = ["ad_org", "m_product", "c_order"]
        .iter()
        .map(|t| {
            let status = if ended {
                ProgressStatus::Completed
            } else {
                ProgressStatus::Pending
            };
            let mut r = ProgressRow::new(&id, "pgsql_lmp", t, status);
            r.records_processed = 1;
            r
        })
        .collect();
    (b, rows)
}

#[test]
fn prune_deletes_just_older_keeps_just_newer_and_running() {
    let site = Site::new();
    let now = chrono::Utc::now();
    let thirty = chrono::Duration::days(30);
    let minutes = chrono::Duration::minutes;
    let just_older = started_at(1, now - thirty - minutes(2), BatchStatus::Completed);
    let just_newer = started_at(2, now - thirty + minutes(2), BatchStatus::Failed);
    let ancient_running = started_at(3, now - chrono::Duration::days(90), BatchStatus::Running);
    let ancient_interrupted = started_at(
        4,
        now - chrono::Duration::days(60),
        BatchStatus::Interrupted,
    );
    let ids: Vec<String> = [
        &just_older,
        &just_newer,
        &ancient_running,
        &ancient_interrupted,
    ]
    .iter()
    .map(|(b, _)| b.batch_id.clone())
    .collect();
    site.journal()
        .import_batches(vec![
            just_older,
            just_newer,
            ancient_running,
            ancient_interrupted,
        ])
        .unwrap();
    // the ancient running batch is alive: its run holds the lock (in another
    // process, so that no child spawned by this one can inherit the lock)
    let (mut holder, sleeper) = hold_lock_in_child(&site.path("storage/journal.db.lock"));

    let text = site.stdout(&["prune", "--older-than", "30d", "--dry-run"]);
    assert!(
        text.starts_with("Would delete 2 batches (6 progress rows) started before "),
        "{text}"
    );
    assert!(text.contains(&ids[0]) && text.contains(&ids[3]), "{text}");
    assert!(!text.contains(&ids[1]), "{text}");
    assert!(
        text.contains(&format!("Kept {} (still running", ids[2])),
        "{text}"
    );
    assert!(text.contains("Nothing was deleted (--dry-run)."), "{text}");
    let j = Journal::open_read(&site.journal_path()).unwrap();
    assert_eq!(j.batch_count().unwrap(), 4, "--dry-run deletes nothing");
    assert_eq!(j.progress_rows(&ids[0], false).unwrap().len(), 3);
    drop(j);

    let text = site.stdout(&["prune", "--older-than", "30d"]);
    assert!(
        text.starts_with("Deleted 2 batches (6 progress rows) started before "),
        "{text}"
    );
    let j = Journal::open_read(&site.journal_path()).unwrap();
    assert!(j.batch(&ids[0]).unwrap().is_none());
    assert!(
        j.progress_rows(&ids[0], false).unwrap().is_empty(),
        "its progress rows too"
    );
    assert!(j.batch(&ids[3]).unwrap().is_none());
    assert!(j.batch(&ids[1]).unwrap().is_some(), "just newer is kept");
    assert_eq!(j.progress_rows(&ids[1], false).unwrap().len(), 3);
    let running = j.batch(&ids[2]).unwrap().unwrap();
    assert_eq!(
        running.status,
        BatchStatus::Running,
        "a running batch is never pruned"
    );
    drop(j);

    let text = site.stdout(&["prune", "--older-than", "30d"]);
    assert!(text.starts_with("Nothing to prune"), "{text}");

    // once its process is gone it is interrupted, and old enough to go
    kill(&mut holder, sleeper);
    let text = site.stdout(&["prune", "--older-than", "30d"]);
    assert!(
        text.starts_with("Deleted 1 batch (3 progress rows)") && text.contains(&ids[2]),
        "{text}"
    );
    let j = Journal::open_read(&site.journal_path()).unwrap();
    assert_eq!(j.batch_count().unwrap(), 1);
}

#[test]
fn prune_needs_a_duration_with_a_unit() {
    let site = Site::new();
    for bad in ["30", "thirty days", "-5d"] {
        let out = site
            .cmd()
            .args(["prune", &format!("--older-than={bad}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--older-than") && err.contains("30d"),
            "{bad}: {err}"
        );
    }
    assert!(
        !site.journal_path().exists(),
        "nothing created by a refused prune"
    );
}
