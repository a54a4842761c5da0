//! `full` into MySQL goes through `LOAD DATA LOCAL INFILE`: every awkward
//! value arrives as it was sent, the branch's old rows go and other
//! branches' stay, and a value the column cannot hold fails the write
//! (LOCAL would only warn) and leaves the table as it was.

use crate::common::mysql::MyDb;
use crate::{loads_run, write};
use branchsync::config::Mode;
use branchsync::driver::Value;
use chrono::NaiveDate;
use mysql::prelude::Queryable;

type Stored = (
    i64,
    Option<String>,
    Option<Vec<u8>>,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<i64>,
);

#[test]
fn full_loads_awkward_values_exactly() {
    let db = MyDb::create("bs_my_load");
    db.exec(
        "CREATE TABLE t (branch VARCHAR(20) NOT NULL, id BIGINT NOT NULL, txt LONGTEXT,
             b LONGBLOB, d DECIMAL(65,30), f DOUBLE, ts DATETIME(6), ok TINYINT(1),
             PRIMARY KEY (branch, id)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
         INSERT INTO t (branch, id, txt) VALUES ('br', -1, 'old'), ('other', 1, 'kept')",
    );
    let ts = NaiveDate::from_ymd_opt(2026, 11, 30)
        .unwrap()
        .and_hms_micro_opt(23, 59, 58, 123_456)
        .unwrap();
    let awkward = "tab\there\nnew line\\back \\N\r\u{0}end";
    let rows = vec![
        vec![
            Value::Int(1),
            Value::Text(awkward.into()),
            Value::Bytes(vec![0, 9, 10, 13, b'\\', b'N', 255]),
            Value::Numeric("12345678901234567890.123456789012345678901234567890".into()),
            Value::Float(-0.5e-300),
            Value::Timestamp(ts),
            Value::Bool(true),
        ],
        vec![
            Value::Int(2),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
        vec![
            Value::Int(3),
            Value::Text("\\N".into()),
            Value::Bytes(vec![]),
            Value::Numeric("-0.000000000000000000000000000001".into()),
            Value::Float(1e300),
            Value::Timestamp(ts),
            Value::Bool(false),
        ],
        vec![
            Value::Int(4),
            Value::Text(String::new()),
            Value::Bytes(b"\\t".to_vec()),
            Value::Numeric("0".into()),
            Value::Float(0.1),
            Value::Null,
            Value::Bool(true),
        ],
        vec![
            Value::Int(5),
            Value::Text("ünïcödé 😀 '\"`".into()),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
    ];
    let before = loads_run();
    assert_eq!(write(&db, "t", Mode::Full, &rows).unwrap(), 5);
    assert!(loads_run() > before, "no LOAD DATA ran");

    let got: Vec<Stored> = db
        .conn()
        .query(
            "SELECT id, txt, b, CAST(d AS CHAR), f, CAST(ts AS CHAR), ok FROM t
             WHERE branch = 'br' ORDER BY id",
        )
        .unwrap();
    let ts_text = Some("2026-11-30 23:59:58.123456".to_owned());
    let want: Vec<Stored> = vec![
        (
            1,
            Some(awkward.into()),
            Some(vec![0, 9, 10, 13, b'\\', b'N', 255]),
            Some("12345678901234567890.123456789012345678901234567890".into()),
            Some(-0.5e-300),
            ts_text.clone(),
            Some(1),
        ),
        (2, None, None, None, None, None, None),
        (
            3,
            Some("\\N".into()),
            Some(vec![]),
            Some("-0.000000000000000000000000000001".into()),
            Some(1e300),
            ts_text,
            Some(0),
        ),
        (
            4,
            Some(String::new()),
            Some(b"\\t".to_vec()),
            Some("0.000000000000000000000000000000".into()),
            Some(0.1),
            None,
            Some(1),
        ),
        (
            5,
            Some("ünïcödé 😀 '\"`".into()),
            None,
            None,
            None,
            None,
            None,
        ),
    ];
    assert_eq!(got, want);
    let other: Vec<(String, i64)> = db
        .conn()
        .query("SELECT branch, id FROM t WHERE branch <> 'br'")
        .unwrap();
    assert_eq!(
        other,
        [("other".to_owned(), 1)],
        "another branch's rows stay"
    );
}

#[test]
fn a_value_the_column_cannot_hold_fails_the_load_and_changes_nothing() {
    let db = MyDb::create("bs_my_load_refused");
    db.exec(
        "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(3));
         INSERT INTO t VALUES (1, 'old')",
    );
    let rows = vec![
        vec![Value::Int(1), Value::Text("ok".into())],
        vec![Value::Int(2), Value::Text("too long".into())],
    ];
    let err = write(&db, "t", Mode::Full, &rows).unwrap_err();
    assert!(err.message.contains("name"), "{err}");
    let got: Vec<(i64, String)> = db.conn().query("SELECT id, name FROM t").unwrap();
    assert_eq!(got, [(1, "old".to_owned())], "the table is as it was");

    // A key sent twice: LOCAL would skip the second row.
    let rows = vec![
        vec![Value::Int(7), Value::Text("a".into())],
        vec![Value::Int(7), Value::Text("b".into())],
    ];
    let err = write(&db, "t", Mode::Full, &rows).unwrap_err();
    assert!(err.message.contains("Skipped: 1"), "{err}");
    let got: Vec<(i64, String)> = db.conn().query("SELECT id, name FROM t").unwrap();
    assert_eq!(got, [(1, "old".to_owned())], "the table is as it was");
}

/// Chunks are loaded by a second thread while the next one fills: a row
/// the server refuses in a late chunk fails the write with the server's
/// words (not the feed's "the loader stopped"), and the chunks loaded
/// before it are rolled back with the rest.
#[test]
fn a_refused_row_after_many_chunks_fails_the_write_with_the_servers_words() {
    let db = MyDb::create("bs_my_load_late");
    db.exec(
        "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(200));
         INSERT INTO t VALUES (0, 'old')",
    );
    // About 150 bytes a row: 120,000 rows make several 4 MiB chunks.
    let filler = "x".repeat(140);
    let mut rows: Vec<Vec<Value>> = (1..=120_000)
        .map(|i| vec![Value::Int(i), Value::Text(filler.clone())])
        .collect();
    rows.push(vec![Value::Int(120_001), Value::Text("y".repeat(300))]);
    rows.extend((120_002..=130_000).map(|i| vec![Value::Int(i), Value::Text(filler.clone())]));
    let err = write(&db, "t", Mode::Full, &rows).unwrap_err();
    assert!(
        err.message.contains("did not store") && err.message.contains("name"),
        "{err}"
    );
    let got: Vec<(i64, String)> = db.conn().query("SELECT id, name FROM t").unwrap();
    assert_eq!(got, [(0, "old".to_owned())], "the table is as it was");

    // Without the bad row, every chunk lands.
    rows.remove(120_000);
    assert_eq!(write(&db, "t", Mode::Full, &rows).unwrap(), 129_999);
    let n: Option<u64> = db.conn().query_first("SELECT count(*) FROM t").unwrap();
    assert_eq!(n, Some(129_999));
}
