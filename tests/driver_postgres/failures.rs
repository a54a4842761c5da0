//! Rejects, empty tables, and failures: an error mid-feed, a cancel from
//! another thread, timeouts, dead servers and killed sessions. After each
//! failure the target must be as it was.

use crate::common::cancel::{
    assert_pg_target_untouched, cancel_a_long_copy, Side, PG_ENDLESS_VIEW, TARGET_BIG,
};
use crate::common::pg::TestDb;
use crate::harness::*;
use branchsync::config::Mode;
use branchsync::driver::{
    open_endpoint, postgres::BINARY_COPY, DriverError, ErrorKind, RawFormat, ReadRequest, RowSink,
    Value, WritePlan,
};
use std::io::{self, Write};
use std::time::{Duration, Instant};

#[test]
fn rows_with_a_null_key_are_rejected_with_the_reason() {
    let lmp = TestDb::create("bs_pgdrv_nullkey_lmp");
    lmp.exec(
        "CREATE TABLE c_invoiceline (c_invoice_id numeric(10), line integer, amt numeric(12,2));
         INSERT INTO c_invoiceline VALUES (1, 10, 1.5), (1, NULL, 2.5), (NULL, 30, 3.5), (2, 10, NULL), (NULL, NULL, 0);",
    );
    let central = TestDb::create("bs_pgdrv_nullkey_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    for mode in [Mode::Full, Mode::Upsert] {
        let run = sync(
            &*src,
            &*dst,
            &Job::new(
                "c_invoiceline",
                &["c_invoice_id", "line"],
                mode,
                "pgsql_lmp",
            ),
        )
        .unwrap();
        assert_eq!(run.outcome.processed, 2, "{mode:?}");
        let mut reasons: Vec<String> = run.rejects.iter().map(|r| r.1.clone()).collect();
        reasons.sort();
        assert_eq!(
            reasons,
            [
                "NULL in key column c_invoice_id",
                "NULL in key column c_invoice_id, line",
                "NULL in key column line"
            ]
        );
        let amts: Vec<String> = run
            .rejects
            .iter()
            .map(|r| r.0[2].to_text().unwrap_or_default())
            .collect();
        assert!(amts.contains(&"2.50".to_string()), "{amts:?}");
    }
    assert_eq!(
        scalar_i64(&central, "SELECT count(*) FROM c_invoiceline"),
        2
    );
}

#[test]
fn an_empty_table_is_created_and_copied() {
    let lmp = TestDb::create("bs_pgdrv_empty_lmp");
    lmp.exec(crate::harness::BPARTNER_DDL);
    let central = TestDb::create("bs_pgdrv_empty_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    for mode in [Mode::Full, Mode::Upsert, Mode::Incremental] {
        let mut job = Job::new("c_bpartner", &["c_bpartner_id"], mode, "pgsql_lmp");
        job.cursor = Some("updated");
        let run = sync(&*src, &*dst, &job).unwrap();
        assert_eq!(
            (run.outcome.processed, run.outcome.skipped, run.sent),
            (0, 0, 0),
            "{mode:?}"
        );
    }
    assert_eq!(scalar_i64(&central, "SELECT count(*) FROM c_bpartner"), 0);
}

/// Hides the binary writer: the source sends decoded rows.
struct TextOnly<'a> {
    inner: &'a mut dyn RowSink,
}

/// Passes the first `left` bytes of the binary stream, then fails.
struct BreakingWriter<'a> {
    inner: &'a mut dyn Write,
    left: usize,
}

impl Write for BreakingWriter<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        if b.len() > self.left {
            return Err(io::Error::other(DriverError::other(
                "link to the target broke",
            )));
        }
        self.left -= b.len();
        self.inner.write(b)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl RowSink for TextOnly<'_> {
    fn row(&mut self, v: &[Value]) -> Result<(), DriverError> {
        self.inner.row(v)
    }
    fn raw(&mut self, _: RawFormat) -> Option<&mut dyn Write> {
        None
    }
}

#[test]
fn an_error_mid_feed_rolls_the_target_back() {
    let lmp = branch_db("bs_pgdrv_rollback_lmp", 1, 3000);
    let central = TestDb::create("bs_pgdrv_rollback_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    let before = hash(&central, "c_bpartner", BPARTNER_COLS, None);
    lmp.exec("DELETE FROM c_bpartner WHERE c_bpartner_id % 2 = 0");

    let mut s = src.source().unwrap();
    let schema = s.describe(None, "c_bpartner").unwrap().unwrap();
    let key = vec!["c_bpartner_id".to_string()];
    let req = ReadRequest {
        schema: None,
        table: "c_bpartner",
        columns: &schema.columns,
        key: &key,
        since: None,
        range: Default::default(),
    };
    for mode in [Mode::Full, Mode::Upsert] {
        let plan = WritePlan {
            schema: "public",
            table: "c_bpartner",
            columns: &schema.columns,
            key: &key,
            mode,
            cursor: None,
            branch: Some(("branch", "pgsql_lmp")),
            partition_by_branch: false,
            key_unique_at_source: true,
        };
        let mut t = dst.target().unwrap();
        // 1. The whole stream is sent, then the feed fails.
        let err = t
            .write(&plan, &mut |sink: &mut dyn RowSink| {
                s.read(&req, sink, &mut Rejects::default())?;
                Err(DriverError::other("the feed failed after the data"))
            })
            .unwrap_err();
        assert!(err.message.contains("the feed failed"), "{err}");
        assert_eq!(
            hash(&central, "c_bpartner", BPARTNER_COLS, None),
            before,
            "{mode:?}"
        );

        // 2. The binary stream breaks in the middle.
        let err = t
            .write(&plan, &mut |sink: &mut dyn RowSink| {
                let w = sink.raw(BINARY_COPY).expect("binary path");
                struct Bin<'a>(BreakingWriter<'a>);
                impl RowSink for Bin<'_> {
                    fn row(&mut self, _: &[Value]) -> Result<(), DriverError> {
                        unreachable!()
                    }
                    fn raw(&mut self, _: RawFormat) -> Option<&mut dyn Write> {
                        Some(&mut self.0)
                    }
                }
                let mut bin = Bin(BreakingWriter {
                    inner: w,
                    left: 100_000,
                });
                s.read(&req, &mut bin, &mut Rejects::default())
            })
            .unwrap_err();
        assert!(err.message.contains("link to the target broke"), "{err}");
        assert_eq!(
            hash(&central, "c_bpartner", BPARTNER_COLS, None),
            before,
            "{mode:?}"
        );

        // 3. Rows on the text path, then an error.
        let err = t
            .write(&plan, &mut |sink: &mut dyn RowSink| {
                let mut text = TextOnly { inner: sink };
                s.read(&req, &mut text, &mut Rejects::default())?;
                Err(DriverError::other("late failure"))
            })
            .unwrap_err();
        assert!(err.message.contains("late failure"), "{err}");
        assert_eq!(
            hash(&central, "c_bpartner", BPARTNER_COLS, None),
            before,
            "{mode:?}"
        );
    }
    // Both sessions still work: a normal sync goes through.
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(run.outcome.processed, 1500);
}

struct NullRows;

impl RowSink for NullRows {
    fn row(&mut self, _: &[Value]) -> Result<(), DriverError> {
        Ok(())
    }
}

fn cancel_case(side: Side) {
    let src_db = TestDb::create(match side {
        Side::Target => "bs_pgdrv_cancel_t_src",
        Side::Source => "bs_pgdrv_cancel_s_src",
    });
    src_db.exec(PG_ENDLESS_VIEW);
    let central = TestDb::create("bs_pgdrv_cancel_central");
    central.exec(TARGET_BIG);
    let (src, dst) = (endpoint("pgsql_lmp", &src_db), endpoint("target", &central));
    cancel_a_long_copy(&*src, &*dst, "public", side);
    assert_pg_target_untouched(&central);
}

#[test]
fn cancelling_the_source_stops_a_long_copy() {
    cancel_case(Side::Source);
}

#[test]
fn cancelling_the_target_stops_a_long_copy() {
    cancel_case(Side::Target);
}

#[test]
fn statement_timeout_is_a_timeout() {
    let db = TestDb::create("bs_pgdrv_timeout");
    db.exec("CREATE VIEW slow AS SELECT 1 AS id, pg_sleep(5)::text AS s");
    let mut engine = engine();
    engine.statement_timeout = branchsync::config::DurationStr(Duration::from_millis(300));
    let src = open_endpoint(&server("pgsql_slow", &db.url, ""), &engine, 2).unwrap();
    let mut s = src.source().unwrap();
    let schema = s.describe(None, "slow").unwrap().unwrap();
    let req = ReadRequest {
        schema: None,
        table: "slow",
        columns: &schema.columns,
        key: &[],
        since: None,
        range: Default::default(),
    };
    let started = Instant::now();
    let err = s
        .read(&req, &mut NullRows, &mut Rejects::default())
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.kind.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        err.message.contains("pgsql_slow") && err.message.contains("slow"),
        "{err}"
    );
}

#[test]
fn an_unreachable_server_fails_fast_without_showing_the_password() {
    let mut engine = engine();
    engine.connect_timeout = branchsync::config::DurationStr(Duration::from_secs(2));
    let url = "postgres://reader:s3cretpw@127.0.0.1:1/idempiere";
    let ep =
        open_endpoint(&server("pgsql_dead", url, ""), &engine, 2).expect("opening never connects");
    let started = Instant::now();
    let err = ep.source().err().expect("no server on port 1");
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.message.contains("pgsql_dead"), "{err}");
    assert!(
        err.message.contains("reader@127.0.0.1:1/idempiere"),
        "{err}"
    );
    assert!(!err.message.contains("s3cretpw"), "{err}");
    let err = ep.probe().err().unwrap();
    assert!(!err.message.contains("s3cretpw"), "{err}");
}

#[test]
fn a_missing_database_is_not_retried() {
    let db = TestDb::create("bs_pgdrv_nodb");
    let url = crate::common::pg::url_with_db(&db.url, "bs_no_such_database_here");
    let ep = open_endpoint(&server("pgsql_nodb", &url, ""), &engine(), 2).unwrap();
    let err = ep.source().err().unwrap();
    assert!(!err.kind.is_retryable(), "{err}");
    assert!(err.message.contains("bs_no_such_database_here"), "{err}");
}

#[test]
fn tls_modes_that_could_fall_back_to_plaintext_are_refused() {
    // The TLS modes themselves are tested against the server in tests/tls.rs.
    for extra in ["sslmode = \"require\"", "sslmode = \"verify-full\""] {
        open_endpoint(
            &server("pgsql_tls", "postgres://u@h/db", extra),
            &engine(),
            2,
        )
        .unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
    for mode in ["prefer", "allow"] {
        let err = open_endpoint(
            &server(
                "pgsql_tls",
                &format!("postgres://u@h/db?sslmode={mode}"),
                "",
            ),
            &engine(),
            2,
        )
        .err()
        .expect("no silent plaintext fallback");
        assert!(err.message.contains("pgsql_tls"), "{err}");
        assert!(err.message.contains("plaintext"), "{err}");
    }
}

#[test]
fn a_terminated_session_is_a_connection_error() {
    let lmp = branch_db("bs_pgdrv_kill_lmp", 1, 2000);
    let central = TestDb::create("bs_pgdrv_kill_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    let before = hash(&central, "c_bpartner", BPARTNER_COLS, None);

    let mut s = src.source().unwrap();
    let schema = s.describe(None, "c_bpartner").unwrap().unwrap();
    let key = vec!["c_bpartner_id".to_string()];
    let plan = WritePlan {
        schema: "public",
        table: "c_bpartner",
        columns: &schema.columns,
        key: &key,
        mode: Mode::Full,
        cursor: None,
        branch: Some(("branch", "pgsql_lmp")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let req = ReadRequest {
        schema: None,
        table: "c_bpartner",
        columns: &schema.columns,
        key: &key,
        since: None,
        range: Default::default(),
    };
    let mut t = dst.target().unwrap();
    let central_name = central.name.clone();
    let err = t
        .write(&plan, &mut |sink: &mut dyn RowSink| {
            // An administrator ends the target's session while it copies.
            let mut admin = central.client();
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = $1 AND application_name = 'branchsync' AND pid <> pg_backend_pid()",
                    &[&central_name],
                )
                .unwrap();
            std::thread::sleep(Duration::from_millis(200));
            s.read(&req, sink, &mut Rejects::default())
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connection, "{err}");
    drop(t);
    assert_eq!(hash(&central, "c_bpartner", BPARTNER_COLS, None), before);
    // The pool replaces the dead connection.
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(run.outcome.processed, 2000);
}
