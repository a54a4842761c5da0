//! Cancel requests over TLS: they go out through the session's own
//! connector (a plaintext request would not even be accepted for a session
//! that asked for TLS), so a statement that sends nothing for a minute stops
//! within seconds, and a long COPY into the target rolls back.

use crate::common::cancel::{
    assert_cancelled_soon, assert_pg_target_untouched, cancel_a_long_copy, cancel_after, Side,
    PG_ENDLESS_VIEW, TARGET_BIG,
};
use crate::common::pg::TestDb;
use crate::server_certs::server_tls;
use crate::{open, verify_full, NoRejects, Rows};

use branchsync::driver::ReadRequest;
use std::time::Duration;

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
    let canceller = cancel_after(cancel, Duration::from_millis(1000));
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
    assert_cancelled_soon(&err, canceller);
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
    src_db.exec(PG_ENDLESS_VIEW);
    let central = TestDb::create("bs_tls_copy_central");
    central.exec(TARGET_BIG);
    let src = open(&verify_full("pgsql_lmp", &src_db.url, "localhost", &tls.ca)).unwrap();
    let dst = open(&verify_full("target", &central.url, "127.0.0.1", &tls.ca)).unwrap();
    cancel_a_long_copy(&*src, &*dst, "public", Side::Target);
    assert_pg_target_untouched(&central);
}
