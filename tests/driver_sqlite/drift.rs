//! Schema drift and shapes: how tables are described, created and adapted,
//! what conflicts, what is rejected, and values from another dialect.

use crate::world::{world, Job};
use crate::{outcome, upsert, PRODUCTS};
use branchsync::config::Mode;
use branchsync::driver::{Column, ColumnKind, ErrorKind, NativeType, RowSink, Value, WritePlan};
use chrono::{NaiveDate, TimeZone, Utc};

#[test]
fn describe_maps_declared_types_and_primary_key() {
    let w = world();
    w.exec(
        "a.db",
        "CREATE TABLE c_invoiceline (c_invoice_id INT, line INTEGER, qty REAL, amt DECIMAL(12,2),
           note VARCHAR(60), at DATETIME, due DATE, paid BOOLEAN, doc JSON, raw BLOB, x,
           PRIMARY KEY (c_invoice_id, line)) WITHOUT ROWID;",
    );
    let mut source = w.endpoint("branch_a").source().unwrap();
    let schema = source
        .describe(Some("adempiere"), "c_invoiceline")
        .unwrap()
        .unwrap();
    assert_eq!(schema.primary_key, ["c_invoice_id", "line"]);
    let kinds: Vec<(&str, ColumnKind, &str)> = schema
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.native.name.as_str()))
        .collect();
    use ColumnKind as K;
    assert_eq!(
        kinds,
        [
            ("c_invoice_id", K::Int, "INT"),
            ("line", K::Int, "INTEGER"),
            ("qty", K::Float, "REAL"),
            ("amt", K::Numeric, "DECIMAL(12,2)"),
            ("note", K::Text, "VARCHAR(60)"),
            ("at", K::Timestamp, "DATETIME"),
            ("due", K::Date, "DATE"),
            ("paid", K::Bool, "BOOLEAN"),
            ("doc", K::Json, "JSON"),
            ("raw", K::Bytes, "BLOB"),
            ("x", K::Text, ""),
        ]
    );
    assert!(schema.columns.iter().all(|c| c.native.dialect == "sqlite"));
    assert!(source.describe(None, "no_such_table").unwrap().is_none());
    assert_eq!(source.estimate_rows(None, "c_invoiceline"), Some(0));
}

#[test]
fn a_column_new_at_the_source_is_added_to_the_target() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.sync(upsert("branch_a")).unwrap();
    w.exec("a.db", "ALTER TABLE m_product ADD COLUMN weight REAL; UPDATE m_product SET weight = 2.5 WHERE m_product_id = 1;");
    assert_eq!(w.sync(upsert("branch_a")).unwrap().0, outcome(3, 2));
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT type, \"notnull\" FROM pragma_table_info('m_product') WHERE name = 'weight'"
        ),
        ["'REAL'|0"]
    );
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT m_product_id, weight FROM m_product ORDER BY 1"
        ),
        ["1|r2.5", "2|NULL", "3|NULL"]
    );
}

#[test]
fn a_type_conflict_or_a_missing_key_column_fails_naming_both() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.exec(
        "central.db",
        "CREATE TABLE m_product (branch TEXT NOT NULL, m_product_id INTEGER NOT NULL, name INTEGER,
           PRIMARY KEY (branch, m_product_id));",
    );
    let err = w.sync(upsert("branch_a")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    for part in ["m_product", "column name", "TEXT", "INTEGER", "central.db"] {
        assert!(err.message.contains(part), "{part:?} missing from: {err}");
    }
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT count(*) FROM pragma_table_info('m_product')"
        ),
        ["3"],
        "a failed prepare must not add the other columns"
    );

    w.exec(
        "central.db",
        "DROP TABLE m_product; CREATE TABLE m_product (branch TEXT, name TEXT);",
    );
    let err = w.sync(upsert("branch_a")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    assert!(
        err.message.contains("m_product") && err.message.contains("key column m_product_id"),
        "{err}"
    );

    w.exec(
        "central.db",
        "DROP TABLE m_product; CREATE TABLE m_product (branch TEXT, m_product_id INT, name TEXT);",
    );
    let err = w.sync(upsert("branch_a")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    assert!(
        err.message
            .contains("unique index on (branch, m_product_id)"),
        "{err}"
    );
}

#[test]
fn rows_with_a_null_key_go_to_the_reject_sink() {
    let w = world();
    w.exec(
        "a.db",
        "CREATE TABLE c_order (c_order_id INTEGER, line INTEGER, documentno TEXT);
         INSERT INTO c_order VALUES (1, 1, 'A'), (NULL, 1, 'B'), (3, 1, 'C'), (4, NULL, 'D');",
    );
    let job = Job::new("branch_a", "c_order", &["c_order_id", "line"], Mode::Upsert);
    let (out, rejects) = w.sync(job).unwrap();
    assert_eq!(out, outcome(2, 0));
    let reasons: Vec<&str> = rejects.0.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(
        reasons,
        ["NULL in key column c_order_id", "NULL in key column line"]
    );
    assert_eq!(
        rejects.0[0].0,
        [Value::Null, Value::Int(1), Value::Text("B".into())]
    );
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT branch, c_order_id, documentno FROM c_order ORDER BY 2"
        ),
        ["'branch_a'|1|'A'", "'branch_a'|3|'C'"]
    );
}

#[test]
fn an_empty_table_creates_an_empty_target() {
    let w = world();
    w.exec(
        "a.db",
        "CREATE TABLE ad_org (ad_org_id INTEGER PRIMARY KEY, name TEXT);",
    );
    let mut job = Job::new("branch_a", "ad_org", &["ad_org_id"], Mode::Full);
    job.branch = false;
    assert_eq!(w.sync(job).unwrap().0, outcome(0, 0));
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT name, pk FROM pragma_table_info('ad_org')"
        ),
        ["'ad_org_id'|1", "'name'|0"]
    );
    assert!(w.dump("central.db", "SELECT * FROM ad_org").is_empty());
}

/// Columns as another dialect (PostgreSQL) would describe them.
fn pg_columns() -> Vec<Column> {
    let col = |name: &str, kind, native: &str| Column {
        name: name.into(),
        kind,
        native: NativeType::new("postgres", native),
        nullable: true,
    };
    use ColumnKind as K;
    vec![
        col("id", K::Int, "bigint"),
        col("amt", K::Numeric, "numeric(12,2)"),
        col("doc", K::Json, "jsonb"),
        col("at", K::TimestampTz, "timestamp with time zone"),
        col("day", K::Date, "date"),
        col("ok", K::Bool, "boolean"),
        col("raw", K::Bytes, "bytea"),
        col("f", K::Float, "double precision"),
    ]
}

#[test]
fn values_from_another_dialect_keep_their_exact_form() {
    let w = world();
    let columns = pg_columns();
    let key = vec!["id".to_owned()];
    let plan = WritePlan {
        schema: "public",
        table: "c_payment",
        columns: &columns,
        key: &key,
        mode: Mode::Upsert,
        cursor: None,
        branch: Some(("branch", "pg_hq")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let row = vec![
        Value::Int(1),
        Value::Numeric("12.50".into()),
        Value::Json("1.0".into()),
        Value::TimestampTz(Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap()),
        Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
        Value::Bool(true),
        Value::Bytes(vec![0, 1, 255]),
        Value::Float(0.1),
    ];
    let mut target = w.endpoint("target").target().unwrap();
    target.prepare(&plan).unwrap();
    for expect in [outcome(1, 0), outcome(1, 1)] {
        let out = target
            .write(&plan, &mut |sink: &mut dyn RowSink| {
                sink.row(&row).map(|()| 1)
            })
            .unwrap();
        assert_eq!(out, expect);
    }
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT type FROM pragma_table_info('c_payment')"
        ),
        [
            "'TEXT'",
            "'INTEGER'",
            "'DECIMAL_TEXT(12,2)'",
            "'JSON_TEXT'",
            "'TIMESTAMPTZ'",
            "'DATE'",
            "'BOOLEAN'",
            "'BLOB'",
            "'REAL'"
        ]
    );
    assert_eq!(
        w.dump("central.db", "SELECT * FROM c_payment"),
        ["'pg_hq'|1|'12.50'|'1.0'|'2024-03-01 08:00:00+00:00'|'2024-02-29'|1|x'0001ff'|r0.1"]
    );
}
