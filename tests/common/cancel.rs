//! The cancel story every driver pair must pass: a `full` copy of a view
//! that streams for minutes is cancelled mid-way (through the source's or
//! the target's handle), fails as cancelled within seconds, and leaves the
//! target table as it was.
#![allow(dead_code)]

use super::pg::TestDb;
use branchsync::config::Mode;
use branchsync::driver::{
    CancelHandle, Column, DriverError, Endpoint, ErrorKind, ReadRequest, RejectSink, RowSink,
    Value, WritePlan,
};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// PostgreSQL: a view `big` of a billion rows that streams at once (a
/// single generate_series would be materialized before the first row).
pub const PG_ENDLESS_VIEW: &str =
    "CREATE VIEW big AS SELECT a * 100000 + b AS id, repeat('x', 50) || b AS payload
     FROM generate_series(0, 9999) a CROSS JOIN generate_series(1, 100000) b";

/// The target's `big`, holding one row of branch `pgsql_lmp` before the copy.
pub const TARGET_BIG: &str =
    "CREATE TABLE big (branch text NOT NULL, id integer, payload text, PRIMARY KEY (branch, id));
     INSERT INTO big VALUES ('pgsql_lmp', -1, 'before')";

/// Which side's handle cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

struct NoRejects;

impl RejectSink for NoRejects {
    fn reject(&mut self, _: &[Column], _: &[Value], reason: &str) -> Result<(), DriverError> {
        panic!("unexpected reject: {reason}")
    }
}

/// Copy `big` from `src` into `schema.big` at `dst` as branch `pgsql_lmp`,
/// cancel it after 1.5 s through `side`'s handle, and check that the copy
/// failed as cancelled less than 5 s after the cancel. The caller checks
/// the target table.
pub fn cancel_a_long_copy(src: &dyn Endpoint, dst: &dyn Endpoint, schema: &str, side: Side) {
    let mut s = src.source().unwrap();
    let described = s.describe(None, "big").unwrap().unwrap();
    // No key: a NULL-key scan of the view would run before any row flows.
    let key: Vec<String> = vec![];
    let plan = WritePlan {
        schema,
        table: "big",
        columns: &described.columns,
        key: &key,
        mode: Mode::Full,
        cursor: None,
        branch: Some(("branch", "pgsql_lmp")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let mut t = dst.target().unwrap();
    t.prepare(&plan).unwrap();
    let cancel = match side {
        Side::Source => s.cancel_handle(),
        Side::Target => t.cancel_handle(),
    };
    let req = ReadRequest {
        schema: None,
        table: "big",
        columns: &described.columns,
        key: &key,
        since: None,
        range: Default::default(),
    };
    let canceller = cancel_after(cancel, Duration::from_millis(1500));
    let err = t
        .write(&plan, &mut |sink: &mut dyn RowSink| {
            s.read(&req, sink, &mut NoRejects)
        })
        .unwrap_err();
    assert_cancelled_soon(&err, canceller);
}

/// Calls `cancel` after `wait`, from another thread; joins to when it did.
pub fn cancel_after(cancel: CancelHandle, wait: Duration) -> JoinHandle<Instant> {
    std::thread::spawn(move || {
        std::thread::sleep(wait);
        cancel();
        Instant::now()
    })
}

/// `err`, just met, is a cancel, and came less than 5 s after the cancel.
pub fn assert_cancelled_soon(err: &DriverError, canceller: JoinHandle<Instant>) {
    let stopped = Instant::now();
    let cancelled_at = canceller.join().unwrap();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert!(
        stopped.duration_since(cancelled_at) < Duration::from_secs(5),
        "stopped {:?} after the cancel",
        stopped.duration_since(cancelled_at)
    );
}

/// A PostgreSQL target's `big` holds only the row it held before.
pub fn assert_pg_target_untouched(central: &TestDb) {
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
