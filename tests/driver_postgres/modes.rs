//! The three modes through the driver API, on the binary and the text path.

use crate::common::pg::TestDb;
use crate::harness::*;
use branchsync::config::Mode;
use branchsync::driver::{
    postgres::BINARY_COPY, Column, ColumnKind, NativeType, RowSink, Value, WritePlan,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

#[test]
fn full_replaces_only_this_branch_slice() {
    let lmp = branch_db("bs_pgdrv_full_lmp", 1, 300);
    let jkt = branch_db("bs_pgdrv_full_jkt", 2, 250);
    let central = TestDb::create("bs_pgdrv_full_central");
    let dst = endpoint("target", &central);
    let (src_lmp, src_jkt) = (endpoint("pgsql_lmp", &lmp), endpoint("pgsql_jkt", &jkt));

    let run = sync(
        &*src_lmp,
        &*dst,
        &Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp"),
    )
    .unwrap();
    assert!(
        run.binary,
        "same types on both sides must take the binary path"
    );
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped, run.sent),
        (300, 0, 300)
    );
    let run = sync(
        &*src_jkt,
        &*dst,
        &Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_jkt"),
    )
    .unwrap();
    assert_eq!(run.outcome.processed, 250);

    let want_lmp = hash(&lmp, "c_bpartner", BPARTNER_COLS, None);
    let want_jkt = hash(&jkt, "c_bpartner", BPARTNER_COLS, None);
    assert_eq!(want_lmp.0, 300);
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_lmp")),
        want_lmp
    );
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_jkt")),
        want_jkt
    );

    // Deletes and changes at the source are reflected; the other branch stays.
    lmp.exec(
        "DELETE FROM c_bpartner WHERE c_bpartner_id % 10 = 3;
         UPDATE c_bpartner SET name = 'renamed', qty = NULL WHERE c_bpartner_id % 10 = 4;",
    );
    let run = sync(
        &*src_lmp,
        &*dst,
        &Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp"),
    )
    .unwrap();
    assert_eq!(run.outcome.processed, 270);
    let want_lmp = hash(&lmp, "c_bpartner", BPARTNER_COLS, None);
    assert_eq!(want_lmp.0, 270);
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_lmp")),
        want_lmp
    );
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_jkt")),
        want_jkt
    );
}

#[test]
fn upsert_counts_identical_rows_as_skipped() {
    let lmp = branch_db("bs_pgdrv_ups_lmp", 3, 200);
    let jkt = branch_db("bs_pgdrv_ups_jkt", 4, 50);
    let central = TestDb::create("bs_pgdrv_ups_central");
    let dst = endpoint("target", &central);
    let src = endpoint("pgsql_lmp", &lmp);
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Upsert, "pgsql_lmp");
    sync(
        &*endpoint("pgsql_jkt", &jkt),
        &*dst,
        &Job::new("c_bpartner", &["c_bpartner_id"], Mode::Upsert, "pgsql_jkt"),
    )
    .unwrap();
    let want_jkt = hash(&jkt, "c_bpartner", BPARTNER_COLS, None);

    let run = sync(&*src, &*dst, &job).unwrap();
    assert!(run.binary);
    assert_eq!((run.outcome.processed, run.outcome.skipped), (200, 0));

    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped),
        (200, 200),
        "nothing changed"
    );

    // 3 changed (one of them only in json), 2 new, 1 deleted (upsert keeps it).
    lmp.exec(&bpartner_rows(3, 201, 202));
    lmp.exec(
        "UPDATE c_bpartner SET description = E'changed\\ttab' WHERE c_bpartner_id = 1000010;
         UPDATE c_bpartner SET so_creditlimit = 1.01 WHERE c_bpartner_id = 1000011;
         UPDATE c_bpartner SET raw = '{\"x\": 1}' WHERE c_bpartner_id = 1000012;
         DELETE FROM c_bpartner WHERE c_bpartner_id = 1000020;",
    );
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (201, 196));
    let central_lmp = hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_lmp"));
    assert_eq!(
        central_lmp.0, 202,
        "the row deleted at the source stays in upsert mode"
    );
    lmp.exec(&bpartner_rows(3, 20, 20));
    assert_eq!(central_lmp, hash(&lmp, "c_bpartner", BPARTNER_COLS, None));
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_jkt")),
        want_jkt
    );
}

#[test]
fn incremental_reads_from_the_target_watermark() {
    let lmp = branch_db("bs_pgdrv_inc_lmp", 5, 100);
    let central = TestDb::create("bs_pgdrv_inc_central");
    let dst = endpoint("target", &central);
    let src = endpoint("pgsql_lmp", &lmp);
    let mut job = Job::new(
        "c_bpartner",
        &["c_bpartner_id"],
        Mode::Incremental,
        "pgsql_lmp",
    );
    job.cursor = Some("updated");

    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (100, 0));
    let indexes = scalar_i64(
        &central,
        "SELECT count(*) FROM pg_indexes WHERE tablename = 'c_bpartner' AND indexdef LIKE '%(branch, updated)'",
    );
    assert_eq!(indexes, 1, "the watermark lookup has an index");
    // Unchanged: only the rows at the watermark itself are read again.
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (1, 1));

    // Rows touched after the watermark, and a row changed *before* it (not
    // seen by incremental, by design).
    lmp.exec(
        "UPDATE c_bpartner SET name = 'later', updated = timestamp '2030-01-01 00:00:00.5' + c_bpartner_id * interval '1 ms'
           WHERE c_bpartner_id IN (1000003, 1000004, 1000005);
         UPDATE c_bpartner SET name = 'unseen' WHERE c_bpartner_id = 1000001;",
    );
    let run = sync(&*src, &*dst, &job).unwrap();
    assert!(run.binary);
    // The row at the old watermark comes again, unchanged.
    assert_eq!((run.outcome.processed, run.outcome.skipped), (4, 1));
    let mut c = central.client();
    let wm: String = c
        .query_one(
            "SELECT max(updated)::text FROM c_bpartner WHERE branch = 'pgsql_lmp'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(wm, "2030-01-01 00:16:40.505");
    let unseen: String = c
        .query_one(
            "SELECT name FROM c_bpartner WHERE c_bpartner_id = 1000001",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(unseen.starts_with("Partner 1 "), "{unseen}");
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (1, 1));
}

#[test]
fn a_wider_target_column_takes_the_text_path() {
    let lmp = branch_db("bs_pgdrv_text_lmp", 6, 150);
    let central = TestDb::create("bs_pgdrv_text_central");
    let dst = endpoint("target", &central);
    let src = endpoint("pgsql_lmp", &lmp);
    let full = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    assert!(sync(&*src, &*dst, &full).unwrap().binary);

    central.exec(
        "ALTER TABLE c_bpartner ALTER COLUMN qty TYPE bigint, ALTER COLUMN value TYPE text,
                                ALTER COLUMN so_creditlimit TYPE numeric(14,2)",
    );
    let want = hash(&lmp, "c_bpartner", BPARTNER_COLS, None);
    let run = sync(&*src, &*dst, &full).unwrap();
    assert!(!run.binary, "int4 -> int8 cannot take the binary stream");
    assert_eq!(run.outcome.processed, 150);
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_lmp")),
        want
    );

    let ups = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Upsert, "pgsql_lmp");
    let run = sync(&*src, &*dst, &ups).unwrap();
    assert!(!run.binary);
    assert_eq!((run.outcome.processed, run.outcome.skipped), (150, 150));
    lmp.exec("UPDATE c_bpartner SET qty = 2147483647, logo = '\\xdeadbeef' WHERE c_bpartner_id = 1000001");
    let run = sync(&*src, &*dst, &ups).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (150, 149));
    assert_eq!(
        hash(&central, "c_bpartner", BPARTNER_COLS, Some("pgsql_lmp")),
        hash(&lmp, "c_bpartner", BPARTNER_COLS, None)
    );
}

fn col(name: &str, kind: ColumnKind) -> Column {
    Column {
        name: name.into(),
        kind,
        native: NativeType::new("sqlite", "ANY"),
        nullable: true,
    }
}

/// Rows from a source of another dialect arrive as values and are written
/// as COPY text, into a table created from the kinds.
#[test]
fn values_from_another_dialect_are_written_as_text() {
    let central = TestDb::create("bs_pgdrv_values_central");
    let dst = endpoint("target", &central);
    let columns = vec![
        col("id", ColumnKind::Int),
        col("ok", ColumnKind::Bool),
        col("f", ColumnKind::Float),
        col("n", ColumnKind::Numeric),
        col("t", ColumnKind::Text),
        col("b", ColumnKind::Bytes),
        col("d", ColumnKind::Date),
        col("ts", ColumnKind::Timestamp),
        col("tz", ColumnKind::TimestampTz),
        col("j", ColumnKind::Json),
    ];
    let key = vec!["id".to_string()];
    let ts = NaiveDateTime::parse_from_str("2024-05-06 07:08:09.123456", "%Y-%m-%d %H:%M:%S%.f")
        .unwrap();
    let rows = vec![
        vec![
            Value::Int(1),
            Value::Bool(true),
            Value::Float(0.1),
            Value::Numeric("12345678901234567890.0123456789".into()),
            Value::Text("tab\there\nnew\\line \\N 'q' \"dq\" ünï ✓".into()),
            Value::Bytes(vec![0, 255, b'\\', b'\n']),
            Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            Value::Timestamp(ts),
            Value::TimestampTz(DateTime::<Utc>::from_naive_utc_and_offset(ts, Utc)),
            Value::Json("{\"a\": [1, \"x\\ty\"]}".into()),
        ],
        vec![
            Value::Int(-2),
            Value::Null,
            Value::Float(f64::INFINITY),
            Value::Null,
            Value::Text(String::new()),
            Value::Bytes(vec![]),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ],
    ];
    for mode in [Mode::Full, Mode::Upsert] {
        let plan = WritePlan {
            schema: "public",
            table: "from_sqlite",
            columns: &columns,
            key: &key,
            mode,
            cursor: None,
            branch: Some(("branch", "sqlite_a")),
            partition_by_branch: false,
            key_unique_at_source: true,
        };
        let mut t = dst.target().unwrap();
        t.prepare(&plan).unwrap();
        let out = t
            .write(&plan, &mut |sink: &mut dyn RowSink| {
                assert!(
                    sink.raw(BINARY_COPY).is_none(),
                    "no binary path for another dialect"
                );
                for r in &rows {
                    sink.row(r)?;
                }
                Ok(rows.len() as u64)
            })
            .unwrap();
        assert_eq!(out.processed, 2);
    }
    let mut c = central.client();
    let types: Vec<String> = c
        .query(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
             WHERE attrelid = 'from_sqlite'::regclass AND attnum > 0 ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        types,
        [
            "text",
            "bigint",
            "boolean",
            "double precision",
            "numeric",
            "text",
            "bytea",
            "date",
            "timestamp without time zone",
            "timestamp with time zone",
            "jsonb"
        ]
    );
    let r = c
        .query_one(
            "SELECT branch, ok, f, n::text, t, b, d::text, ts::text, (tz AT TIME ZONE 'UTC')::text, j::text
             FROM from_sqlite WHERE id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(r.get::<_, String>(0), "sqlite_a");
    assert!(r.get::<_, bool>(1));
    assert_eq!(r.get::<_, f64>(2), 0.1);
    assert_eq!(r.get::<_, String>(3), "12345678901234567890.0123456789");
    assert_eq!(
        r.get::<_, String>(4),
        "tab\there\nnew\\line \\N 'q' \"dq\" ünï ✓"
    );
    assert_eq!(r.get::<_, Vec<u8>>(5), vec![0, 255, b'\\', b'\n']);
    assert_eq!(r.get::<_, String>(6), "2024-02-29");
    assert_eq!(r.get::<_, String>(7), "2024-05-06 07:08:09.123456");
    assert_eq!(r.get::<_, String>(8), "2024-05-06 07:08:09.123456");
    assert_eq!(r.get::<_, String>(9), "{\"a\": [1, \"x\\ty\"]}");
    let r = c
        .query_one(
            "SELECT ok IS NULL, f, t, length(b), d IS NULL FROM from_sqlite WHERE id = -2",
            &[],
        )
        .unwrap();
    assert!(r.get::<_, bool>(0));
    assert_eq!(r.get::<_, f64>(1), f64::INFINITY);
    assert_eq!(r.get::<_, String>(2), "");
    assert_eq!(r.get::<_, i32>(3), 0);
    assert!(r.get::<_, bool>(4));
}
