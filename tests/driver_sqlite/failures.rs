//! Failures: an error or a cancel mid-write leaves the target as it was, a
//! held lock times out as retryable (and a cancel does not wait for it), and
//! missing or foreign files are named.

use crate::world::{world, world_with, Rejects, World};
use crate::{full, outcome, PRODUCTS, PRODUCT_ROWS};
use branchsync::config::Mode;
use branchsync::driver::{
    Column, ColumnKind, DriverError, ErrorKind, NativeType, ReadRequest, RowSink, Value, WritePlan,
};
use std::time::{Duration, Instant};

/// A row of `m_product`'s shape.
fn product_row(id: i64) -> Vec<Value> {
    let mut row = vec![Value::Int(id), Value::Text("partial".into())];
    row.resize(7, Value::Null);
    row
}

/// Sends `rows` rows and then fails like a dropped link.
fn failing_feed(sink: &mut dyn RowSink, rows: i64) -> Result<u64, DriverError> {
    for i in 0..rows {
        sink.row(&product_row(100 + i))?;
    }
    Err(DriverError::new(
        ErrorKind::Connection,
        "connection branch_a: the link dropped",
    ))
}

/// The plan `w.sync(full/upsert)` makes for `m_product` from branch_a.
fn product_plan<'a>(columns: &'a [Column], key: &'a [String], mode: Mode) -> WritePlan<'a> {
    WritePlan {
        schema: "public",
        table: "m_product",
        columns,
        key,
        mode,
        cursor: None,
        branch: Some(("branch", "branch_a")),
        partition_by_branch: false,
        key_unique_at_source: true,
    }
}

fn product_columns(w: &World) -> Vec<Column> {
    let mut source = w.endpoint("branch_a").source().unwrap();
    source.describe(None, "m_product").unwrap().unwrap().columns
}

#[test]
fn an_error_mid_write_leaves_the_target_unchanged() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.sync(full("branch_a")).unwrap();
    let before = w.dump("central.db", PRODUCT_ROWS);
    let columns = product_columns(&w);
    let key = vec!["m_product_id".to_owned()];
    let mut target = w.endpoint("target").target().unwrap();
    for mode in [Mode::Full, Mode::Upsert] {
        let plan = product_plan(&columns, &key, mode);
        let err = target
            .write(&plan, &mut |sink: &mut dyn RowSink| failing_feed(sink, 2))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection, "{err}");
        assert!(err.message.contains("link dropped"), "{err}");
        assert_eq!(
            w.dump("central.db", PRODUCT_ROWS),
            before,
            "mode {mode:?} left a trace"
        );
    }
    // The session is usable again after the rollback.
    let plan = product_plan(&columns, &key, Mode::Upsert);
    let out = target
        .write(&plan, &mut |_: &mut dyn RowSink| Ok(0))
        .unwrap();
    assert_eq!(out, outcome(0, 0));
}

#[test]
fn cancelling_a_write_rolls_it_back() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.sync(full("branch_a")).unwrap();
    let before = w.dump("central.db", PRODUCT_ROWS);
    let columns = product_columns(&w);
    let key = vec!["m_product_id".to_owned()];
    let plan = product_plan(&columns, &key, Mode::Full);
    let mut target = w.endpoint("target").target().unwrap();
    let cancel = target.cancel_handle();
    let err = target
        .write(&plan, &mut |sink: &mut dyn RowSink| {
            sink.row(&product_row(100))?;
            cancel();
            sink.row(&product_row(101))?;
            Ok(2)
        })
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert_eq!(w.dump("central.db", PRODUCT_ROWS), before);
}

#[test]
fn a_held_lock_times_out_as_retryable_and_cancels_quickly() {
    let w = world_with("300ms");
    w.exec("a.db", PRODUCTS);
    w.sync(full("branch_a")).unwrap();
    let holder = rusqlite::Connection::open(w.path("central.db")).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = w.sync(full("branch_a")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.kind.is_retryable());
    assert!(
        err.message.contains("locked") && err.message.contains("central.db"),
        "{err}"
    );

    let w2 = world_with("60s");
    w2.exec(
        "central.db",
        "PRAGMA journal_mode=WAL; CREATE TABLE t (a INTEGER);",
    );
    let holder2 = rusqlite::Connection::open(w2.path("central.db")).unwrap();
    holder2.execute_batch("BEGIN IMMEDIATE").unwrap();
    let columns = product_columns(&w);
    let key = vec!["m_product_id".to_owned()];
    let plan = product_plan(&columns, &key, Mode::Full);
    let mut target = w2.endpoint("target").target().unwrap();
    let cancel = target.cancel_handle();
    let started = Instant::now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        cancel();
    });
    let err = target.prepare(&plan).unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "cancel took {:?}",
        started.elapsed()
    );
    drop(holder);
}

#[test]
fn missing_and_foreign_files_are_named() {
    let w = world();
    let err = w
        .endpoint("branch_b")
        .source()
        .err()
        .expect("a missing file opened");
    assert_eq!(err.kind, ErrorKind::MissingTable, "{err}");
    assert!(
        err.message.contains("branch_b") && err.message.contains("b.db"),
        "{err}"
    );
    assert!(!w.path("b.db").exists(), "reading must not create the file");

    let info = w.endpoint("target").probe().unwrap();
    assert!(info.version.starts_with("SQLite 3."), "{}", info.version);
    assert!(
        !w.path("central.db").exists(),
        "probe must not create the file"
    );

    std::fs::write(
        w.path("a.db"),
        b"this is not a database, just text that is long enough",
    )
    .unwrap();
    let err = w
        .endpoint("branch_a")
        .source()
        .err()
        .expect("a text file opened");
    assert!(
        err.message.contains("not a SQLite database") && err.message.contains("a.db"),
        "{err}"
    );

    w.exec("b.db", "CREATE TABLE other (a INTEGER)");
    let mut source = w.endpoint("branch_b").source().unwrap();
    let columns = id_column();
    let req = ReadRequest {
        schema: None,
        table: "m_product",
        columns: &columns,
        key: &[],
        since: None,
        range: Default::default(),
    };
    let mut rejects = Rejects::default();
    let mut sink = NoSink;
    let err = source.read(&req, &mut sink, &mut rejects).unwrap_err();
    assert_eq!(err.kind, ErrorKind::MissingTable, "{err}");
    assert!(err.message.contains("m_product"), "{err}");
}

#[test]
fn a_key_repeated_at_the_source_fails_full_without_a_trace() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.sync(full("branch_a")).unwrap();
    let before = w.dump("central.db", PRODUCT_ROWS);
    w.exec(
        "a.db",
        "CREATE TABLE dup AS SELECT * FROM m_product; DROP TABLE m_product;
         ALTER TABLE dup RENAME TO m_product; INSERT INTO m_product (m_product_id, name) VALUES (2, 'again');",
    );
    let err = w.sync(full("branch_a")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Other, "{err}");
    for part in [
        "m_product",
        "m_product_id=2",
        "UNIQUE",
        "repeats the configured key",
    ] {
        assert!(err.message.contains(part), "{part:?} missing from: {err}");
    }
    assert_eq!(w.dump("central.db", PRODUCT_ROWS), before);
}

/// One column, as any source would describe it.
fn id_column() -> Vec<Column> {
    vec![Column {
        name: "m_product_id".into(),
        kind: ColumnKind::Int,
        native: NativeType::new("sqlite", "INTEGER"),
        nullable: false,
    }]
}

struct NoSink;

impl RowSink for NoSink {
    fn row(&mut self, _values: &[Value]) -> Result<(), DriverError> {
        panic!("no row expected")
    }
}
