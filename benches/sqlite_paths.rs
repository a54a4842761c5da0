//! The SQLite paths' hot loops: reading a table through the `sqlite` driver
//! (value decoding by column kind), writing it through the `sqlite` target
//! (value binding), and rendering a batch report as CSV.

use branchsync::config::{Config, ServerConfig};
use branchsync::driver::{open_endpoint, Column, RejectSink, RowSink, Value};
use branchsync::journal::{ProgressRow, ProgressStatus};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;

const ROWS: u64 = 20_000;

struct Count(u64);

impl RowSink for Count {
    fn row(&mut self, values: &[Value]) -> branchsync::driver::Result<()> {
        self.0 += values.len() as u64;
        Ok(())
    }
}

impl RejectSink for Count {
    fn reject(&mut self, _: &[Column], _: &[Value], _: &str) -> branchsync::driver::Result<()> {
        Ok(())
    }
}

fn server(dir: &Path, file: &str) -> (ServerConfig, Config) {
    let cfg = dir.join("b.toml");
    std::fs::write(
        &cfg,
        format!("[journal]\npath = \"j.db\"\n\n[[connection]]\nname = \"b\"\ndriver = \"sqlite\"\nurl = \"{file}\"\n"),
    )
    .unwrap();
    let config = Config::load(&cfg, &branchsync::driver::registry::Registry).unwrap();
    (config.connections[0].clone(), config)
}

fn source_read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("branch.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE c_invoiceline (c_invoiceline_id INTEGER PRIMARY KEY, qty NUMERIC, price NUMERIC,
             description TEXT, updated TIMESTAMP, flag BOOLEAN, payload BLOB);",
    )
    .unwrap();
    conn.execute(
        "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1)
         INSERT INTO c_invoiceline SELECT n, n % 9 + 1, '12.50', 'line ' || n || ' ✓',
             '2024-04-01 10:00:00', n % 2, x'00ff' FROM g",
        [ROWS as i64],
    )
    .unwrap();
    drop(conn);
    let (server, config) = server(dir.path(), "branch.db");
    let ep = open_endpoint(&server, &config.engine, 1).unwrap();
    let mut source = ep.source().unwrap();
    let schema = source.describe(None, "c_invoiceline").unwrap().unwrap();
    let key = vec!["c_invoiceline_id".to_owned()];
    let mut group = c.benchmark_group("sqlite");
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("read 20k rows (decode by kind)", |b| {
        b.iter(|| {
            let req = branchsync::driver::ReadRequest {
                schema: None,
                table: "c_invoiceline",
                columns: &schema.columns,
                key: &key,
                since: None,
                range: Default::default(),
            };
            let mut sink = Count(0);
            let mut rejects = Count(0);
            source.read(&req, &mut sink, &mut rejects).unwrap();
            assert_eq!(sink.0, ROWS * schema.columns.len() as u64);
        })
    });
    group.finish();
}

fn csv_export(c: &mut Criterion) {
    let rows: Vec<ProgressRow> = (0..120)
        .map(|k| ProgressRow {
            batch_id: "sync_20261126084522_AbCdEfGh".into(),
            connection_name: format!("pgsql_{k:02}"),
            table_name: "c_invoiceline".into(),
            model_name: "CInvoiceLine".into(),
            status: ProgressStatus::Completed,
            records_processed: 15_234 * k,
            records_skipped: k,
            error_message: (k % 17 == 0).then(|| "connection timeout, \"quoted\"\nline".into()),
            started_at: Some("2026-11-26T08:45:22.000Z".into()),
            completed_at: Some("2026-11-26T08:46:01.500Z".into()),
            duration_seconds: Some(39.5),
            retry_count: k % 3,
            step: 2,
            rows_written: Some(15_234 * k - k),
            rows_deleted: Some(0),
            bytes_read: None,
            bytes_written: None,
        })
        .collect();
    c.bench_function("export csv, 120 progress rows", |b| {
        b.iter(|| branchsync::report::csv::progress_csv(&rows).len())
    });
}

criterion_group!(benches, source_read, csv_export);
criterion_main!(benches);
