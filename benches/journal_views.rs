//! Journal views at scale: with 10,000 batches of 120 progress rows
//! in the journal, `sync-status --all` (liveness check, list query, render)
//! and one batch's details (batch, its 120 rows, render) must answer in
//! < 100 ms. The journal is built once, in one transaction.

use branchsync::journal::{format_ts, BatchRow, BatchStatus, Journal, ProgressRow, ProgressStatus};
use branchsync::report::{json, status, Paint};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::time::{Duration, Instant};

const BATCHES: usize = 10_000;
const TABLES: usize = 120;
const CONNECTIONS: usize = 17;
const MODELS: [&str; 6] = [
    "ad_org",
    "m_product",
    "c_bpartner",
    "c_order",
    "c_invoice",
    "c_invoiceline",
];

fn batch_id(i: usize) -> String {
    let started = start_of(i);
    format!("sync_{}_{:08}", started.format("%Y%m%d%H%M%S"), i)
}

/// One run every hour, from 2025-11-01 on.
fn start_of(i: usize) -> chrono::DateTime<chrono::Utc> {
    let first = chrono::DateTime::parse_from_rfc3339("2025-11-01T00:00:00Z").unwrap();
    first.with_timezone(&chrono::Utc) + chrono::Duration::hours(i as i64)
}

fn history() -> impl Iterator<Item = (BatchRow, Vec<ProgressRow>)> {
    (0..BATCHES).map(|i| {
        let id = batch_id(i);
        let started = start_of(i);
        let failed_at = i % 7; // a few failures here and there
        let rows: Vec<ProgressRow> = (0..TABLES)
            .map(|k| {
                let failed = k == failed_at && i % 3 == 0;
                ProgressRow {
                    batch_id: id.clone(),
                    connection_name: format!("branch_{:02}", k % CONNECTIONS),
                    table_name: format!("{}_{}", MODELS[k % MODELS.len()], k / MODELS.len()),
                    model_name: MODELS[k % MODELS.len()].to_owned(),
                    status: if failed {
                        ProgressStatus::Failed
                    } else {
                        ProgressStatus::Completed
                    },
                    records_processed: if failed {
                        0
                    } else {
                        (i * 31 + k * 977) as i64 % 250_000
                    },
                    records_skipped: 0,
                    error_message: failed
                        .then(|| "connection timeout after 10s (retry 3/3)".to_owned()),
                    started_at: Some(format_ts(started + chrono::Duration::seconds(k as i64))),
                    completed_at: Some(format_ts(
                        started + chrono::Duration::seconds(k as i64 + 20),
                    )),
                    duration_seconds: Some(20.0),
                    retry_count: if failed { 3 } else { 0 },
                    step: if k < CONNECTIONS { 1 } else { 2 },
                    rows_written: None,
                    rows_deleted: None,
                    bytes_read: None,
                    bytes_written: None,
                }
            })
            .collect();
        let failed = rows
            .iter()
            .filter(|r| r.status == ProgressStatus::Failed)
            .count() as i64;
        let batch = BatchRow {
            batch_id: id,
            status: if failed > 0 {
                BatchStatus::Failed
            } else {
                BatchStatus::Completed
            },
            total_tables: TABLES as i64,
            completed_tables: TABLES as i64 - failed,
            failed_tables: failed,
            command_options: "{\"threads\":8}".to_owned(),
            started_at: format_ts(started),
            completed_at: Some(format_ts(started + chrono::Duration::seconds(1800))),
            duration_seconds: Some(1800.0),
            pid: Some(4242),
            host: Some("backup01".to_owned()),
            boot_id: None,
            heartbeat_at: Some(format_ts(started + chrono::Duration::seconds(1800))),
        };
        (batch, rows)
    })
}

fn build(path: &Path) {
    let t = Instant::now();
    let n = Journal::open(path)
        .unwrap()
        .import_batches(history())
        .unwrap();
    assert_eq!(n, BATCHES);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "journal: {BATCHES} batches x {TABLES} progress rows built in {:.1?} ({} MB)",
        t.elapsed(),
        size / 1_000_000
    );
}

/// `sync-status --all` without the process start: open, liveness, list, render.
fn status_all(path: &Path) -> String {
    let mut journal = Journal::open_read(path).unwrap();
    journal.reconcile_liveness(false).unwrap();
    let batches = journal.list_batches(20).unwrap();
    status::render_batch_list(&batches, journal.batch_count().unwrap(), &[], Paint::PLAIN)
}

/// `sync-status <id>` without the process start.
fn status_one(path: &Path, id: &str, as_json: bool) -> String {
    let mut journal = Journal::open_read(path).unwrap();
    journal.reconcile_liveness(false).unwrap();
    let batch = journal.batch(id).unwrap().unwrap();
    let rows = journal.progress_rows(id, false).unwrap();
    if as_json {
        json::batch_json(&batch, &rows)
    } else {
        status::render_batch_detail(
            &batch,
            &rows,
            status::RunHistory::default(),
            false,
            Paint::PLAIN,
        )
    }
}

fn journal_views(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    build(&path);
    let middle = batch_id(BATCHES / 2);
    assert!(status_all(&path).contains(&batch_id(BATCHES - 1)));
    assert!(status_one(&path, &middle, false).contains("Progress: "));

    // the budget, checked once outside criterion's statistics
    for (name, f) in [
        (
            "sync-status --all",
            Box::new(|| status_all(&path)) as Box<dyn Fn() -> String>,
        ),
        (
            "sync-status <id>",
            Box::new(|| status_one(&path, &middle, false)),
        ),
    ] {
        let t = Instant::now();
        let runs = 20;
        for _ in 0..runs {
            std::hint::black_box(f());
        }
        let each = t.elapsed() / runs;
        eprintln!("{name}: {each:.2?} per call (budget 100ms)");
        assert!(each < Duration::from_millis(100), "{name} takes {each:?}");
    }

    let mut group = c.benchmark_group("journal_views_10k_batches");
    group.bench_function("sync_status_all", |b| b.iter(|| status_all(&path)));
    group.bench_function("sync_status_batch", |b| {
        b.iter(|| status_one(&path, &middle, false))
    });
    group.bench_function("sync_status_batch_json", |b| {
        b.iter(|| status_one(&path, &middle, true))
    });
    group.bench_function("list_query_only", |b| {
        let journal = Journal::open_read(&path).unwrap();
        b.iter(|| journal.list_batches(20).unwrap())
    });
    group.bench_function("progress_query_only", |b| {
        let journal = Journal::open_read(&path).unwrap();
        b.iter(|| journal.progress_rows(&middle, false).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = journal_views
}
criterion_main!(benches);
