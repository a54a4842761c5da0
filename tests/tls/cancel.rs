//! Cancel requests over TLS: they go out through the session's own
//! connector (a plaintext request would not even be accepted for a session
//! that asked for TLS), so a statement that sends nothing for a minute stops
//! within seconds, and a long COPY into the target rolls back.

use crate::common::pg::TestDb;
use crate::server_certs::server_tls;
use crate::{open, verify_full, NoRejects, Rows};
use branchsync::config::Mode;
use branchsync::driver::{ErrorKind, ReadRequest, RowSink, WritePlan};
use std::time::{Duration, Instant};

#[test]
fn a_cancel_reaches_a_statement_running_over_tls() {
    let tls = server_tls();
    let db = TestDb::create("bs_tls_cancel");
    // No row comes before the sleep ends: only the server-side cancel
    // (sent over TLS like the session) can stop the read early.
    db.exec("CREATE VIEW slow AS SELECT g AS id FROM pg_sleep(60) s, generate_series(1, 3) g");
    let ep = open(&verify_full(
        "pgsql_tls_cancel",
        &db.url,
        "localhost",
        &tls.ca,
    ))
    .unwrap();
    let mut s = ep.source().unwrap();
    let schema = s.describe(None, "slow").unwrap().unwrap();
    let cancel = s.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        cancel();
        Instant::now()
    });
    let req = ReadRequest {
        schema: None,
        table: "slow",
        columns: &schema.columns,
        key: &[],
        since: None,
        range: Default::default(),
    };
    let err = s
        .read(&req, &mut Rows::default(), &mut NoRejects)
        .unwrap_err();
    let stopped = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert!(
        stopped.duration_since(cancelled_at) < Duration::from_secs(5),
        "stopped {:?} after the cancel",
        stopped.duration_since(cancelled_at)
    );
    let mut admin = db.client();
    let running: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(running, 0, "the statement still runs at the server");
}

#[test]
fn cancelling_a_long_copy_over_tls_leaves_the_target_as_it_was() {
    let tls = server_tls();
    let src_db = TestDb::create("bs_tls_copy_src");
    src_db.exec(
        "CREATE VIEW big AS SELECT a * 100000 + b AS id, repeat('x', 50) || b AS payload
         FROM generate_series(0, 9999) a CROSS JOIN generate_series(1, 100000) b",
    );
    let central = TestDb::create("bs_tls_copy_central");
    central.exec(
        "CREATE TABLE big (branch text NOT NULL, id integer, payload text, PRIMARY KEY (branch, id));
         INSERT INTO big VALUES ('pgsql_lmp', -1, 'before')",
    );
    let src = open(&verify_full("pgsql_lmp", &src_db.url, "localhost", &tls.ca)).unwrap();
    let dst = open(&verify_full("target", &central.url, "127.0.0.1", &tls.ca)).unwrap();
    let mut s = src.source().unwrap();
    let schema = s.describe(None, "big").unwrap().unwrap();
    let key: Vec<String> = vec![];
    let plan = WritePlan {
        schema: "public",
        table: "big",
        columns: &schema.columns,
        key: &key,
        mode: Mode::Full,
        cursor: None,
        branch: Some(("branch", "pgsql_lmp")),
        partition_by_branch: false,
    };
    let mut t = dst.target().unwrap();
    t.prepare(&plan).unwrap();
    let cancel = t.cancel_handle();
    let req = ReadRequest {
        schema: None,
        table: "big",
        columns: &schema.columns,
        key: &key,
        since: None,
        range: Default::default(),
    };
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        cancel();
        Instant::now()
    });
    let err = t
        .write(&plan, &mut |sink: &mut dyn RowSink| {
            s.read(&req, sink, &mut NoRejects)
        })
        .unwrap_err();
    let stopped = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert!(
        stopped.duration_since(cancelled_at) < Duration::from_secs(5),
        "stopped {:?} after the cancel",
        stopped.duration_since(cancelled_at)
    );
    let rows: Vec<(String, i32)> = central
        .client()
        .query("SELECT branch, id FROM big", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        rows,
        [("pgsql_lmp".to_string(), -1)],
        "the target is as it was"
    );
}
