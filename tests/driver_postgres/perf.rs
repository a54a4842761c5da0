//! A 1M-row full copy through the driver against the `psql | psql` binary
//! COPY pipe on the same table (SPEC §9). Ignored by default; run with
//! `cargo test --release --test driver_postgres perf -- --ignored --nocapture`.

use crate::common::pg::TestDb;
use crate::harness::*;
use branchsync::config::Mode;
use std::process::Command;
use std::time::{Duration, Instant};

const ROWS: i64 = 1_000_000;

const DDL: &str = "(
    c_invoiceline_id numeric(10) PRIMARY KEY, c_invoice_id numeric(10) NOT NULL,
    m_product_id numeric(10), qtyinvoiced numeric(12,2) NOT NULL, priceactual numeric(12,2) NOT NULL,
    linenetamt numeric(14,2) NOT NULL, description text, isactive char(1) NOT NULL DEFAULT 'Y',
    created timestamp NOT NULL, updated timestamp NOT NULL)";

fn c_invoiceline(db: &TestDb) {
    db.exec(&format!(
        "CREATE TABLE c_invoiceline {DDL};
         INSERT INTO c_invoiceline SELECT 1000000 + g, 1000000 + g / 5, CASE WHEN g % 11 = 0 THEN NULL ELSE 1000000 + g % 200 END,
            (g % 9 + 1)::numeric, (g % 97)::numeric(12,2), ((g % 9 + 1) * (g % 97))::numeric(14,2),
            CASE WHEN g % 4 = 0 THEN NULL ELSE 'line ' || g || ' — ✓' END, 'Y',
            timestamp '2024-04-01' + g * interval '1 second', timestamp '2024-04-01' + g * interval '1 second'
         FROM generate_series(1, {ROWS}) g;"
    ));
    db.exec("VACUUM ANALYZE c_invoiceline");
}

fn pipe(src: &TestDb, dst: &TestDb) -> Duration {
    dst.exec("TRUNCATE pipe_target");
    let started = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "psql -X -q '{}' -c 'COPY (SELECT {{cols}} FROM c_invoiceline) TO STDOUT (FORMAT binary)' | psql -X -q '{}' -c 'COPY pipe_target FROM STDIN (FORMAT binary)'",
            src.url, dst.url
        ).replace("{cols}", "c_invoiceline_id, c_invoice_id, m_product_id, qtyinvoiced, priceactual, linenetamt, description, isactive, created, updated"))
        .status()
        .unwrap();
    assert!(status.success());
    started.elapsed()
}

#[test]
#[ignore = "benchmark: 1M rows, run in release with --ignored --nocapture"]
fn perf_full_copy_1m_rows() {
    let src = TestDb::create("bs_pgdrv_perf_src");
    c_invoiceline(&src);
    let central = TestDb::create("bs_pgdrv_perf_central");
    central.exec(&format!("CREATE TABLE pipe_target {DDL}"));
    let (s, d) = (endpoint("pgsql_lmp", &src), endpoint("target", &central));
    let job = Job::new(
        "c_invoiceline",
        &["c_invoiceline_id"],
        Mode::Full,
        "pgsql_lmp",
    );
    // First run creates the table; then alternate pipe and driver.
    sync(&*s, &*d, &job).unwrap();
    for round in 0..3 {
        let p = pipe(&src, &central);
        central.exec("TRUNCATE c_invoiceline");
        let started = Instant::now();
        let run = sync(&*s, &*d, &job).unwrap();
        let ours = started.elapsed();
        assert!(run.binary);
        assert_eq!(run.outcome.processed, ROWS as u64);
        println!(
            "round {round}: pipe {:.2}s, driver full {:.2}s ({:.0} rows/s), ratio pipe/ours {:.2}",
            p.as_secs_f64(),
            ours.as_secs_f64(),
            ROWS as f64 / ours.as_secs_f64(),
            p.as_secs_f64() / ours.as_secs_f64()
        );
    }
    let ups = Job::new(
        "c_invoiceline",
        &["c_invoiceline_id"],
        Mode::Upsert,
        "pgsql_lmp",
    );
    let started = Instant::now();
    let run = sync(&*s, &*d, &ups).unwrap();
    println!(
        "upsert unchanged: {:.2}s (skipped {})",
        started.elapsed().as_secs_f64(),
        run.outcome.skipped
    );
}
