//! The `sqlite` driver as source and target, on real files: every mode, schema
//! drift, NULL keys, awkward names and text, failures and cancellation
//! mid-write (the target must stay as it was), and concurrent writers.

#[path = "driver_sqlite/drift.rs"]
mod drift;
#[path = "driver_sqlite/failures.rs"]
mod failures;
#[path = "driver_sqlite/world.rs"]
mod world;

use branchsync::config::Mode;
use branchsync::driver::{Value, WriteOutcome, WritePlan};
use chrono::NaiveDate;
use world::{world, Job};

const PRODUCTS: &str = "
CREATE TABLE m_product (
  m_product_id INTEGER PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2),
  updated TIMESTAMP, isactive BOOLEAN, image BLOB, attrs JSON);
INSERT INTO m_product VALUES
  (1, 'Widget', '12.50', '2024-01-01 10:00:00', 1, x'00ff', '{\"a\":1}'),
  (2, 'Gadget', 3, '2024-01-02T11:30:00.25', 0, NULL, NULL),
  (3, 'Thing', NULL, 'not a date', NULL, NULL, '[1,2]');";

const PRODUCT_ROWS: &str =
    "SELECT branch, m_product_id, name, price, updated, isactive, image, attrs FROM m_product ORDER BY 1, 2";

fn full(conn: &'static str) -> Job<'static> {
    Job::new(conn, "m_product", &["m_product_id"], Mode::Full)
}

fn upsert(conn: &'static str) -> Job<'static> {
    Job::new(conn, "m_product", &["m_product_id"], Mode::Upsert)
}

fn outcome(processed: u64, skipped: u64) -> WriteOutcome {
    WriteOutcome {
        processed,
        skipped,
        ..WriteOutcome::default()
    }
}

#[test]
fn full_creates_the_table_with_branch_and_key() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    let (out, rejects) = w.sync(full("branch_a")).unwrap();
    assert_eq!(out, outcome(3, 0));
    assert!(rejects.0.is_empty());
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info('m_product')"
        ),
        [
            "'branch'|'TEXT'|1|1",
            "'m_product_id'|'INTEGER'|1|2",
            "'name'|'TEXT'|0|0",
            "'price'|'NUMERIC(10,2)'|0|0",
            "'updated'|'TIMESTAMP'|0|0",
            "'isactive'|'BOOLEAN'|0|0",
            "'image'|'BLOB'|0|0",
            "'attrs'|'JSON'|0|0",
        ]
    );
    assert_eq!(
        w.dump("central.db", PRODUCT_ROWS),
        [
            "'branch_a'|1|'Widget'|r12.5|'2024-01-01 10:00:00'|1|x'00ff'|'{\"a\":1}'",
            "'branch_a'|2|'Gadget'|3|'2024-01-02 11:30:00.250'|0|NULL|NULL",
            "'branch_a'|3|'Thing'|NULL|'not a date'|NULL|NULL|'[1,2]'",
        ]
    );
    let mode = w.dump("central.db", "PRAGMA journal_mode");
    assert_eq!(mode, ["'wal'"]);
}

#[test]
fn full_again_reflects_deletes_and_leaves_other_branches_alone() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    w.exec("b.db", PRODUCTS);
    w.exec("b.db", "UPDATE m_product SET name = 'B ' || name");
    w.sync(full("branch_a")).unwrap();
    w.sync(full("branch_b")).unwrap();
    let b_rows = w.dump(
        "central.db",
        "SELECT * FROM m_product WHERE branch = 'branch_b'",
    );
    assert_eq!(b_rows.len(), 3);

    w.exec("a.db", "DELETE FROM m_product WHERE m_product_id = 3; UPDATE m_product SET name = 'W2' WHERE m_product_id = 1");
    let (out, _) = w.sync(full("branch_a")).unwrap();
    assert_eq!(out, outcome(2, 0));
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT branch, m_product_id, name FROM m_product ORDER BY 1, 2"
        ),
        [
            "'branch_a'|1|'W2'",
            "'branch_a'|2|'Gadget'",
            "'branch_b'|1|'B Widget'",
            "'branch_b'|2|'B Gadget'",
            "'branch_b'|3|'B Thing'",
        ]
    );
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT * FROM m_product WHERE branch = 'branch_b'"
        ),
        b_rows
    );
}

#[test]
fn upsert_updates_changed_rows_and_counts_identical_ones_as_skipped() {
    let w = world();
    w.exec("a.db", PRODUCTS);
    assert_eq!(w.sync(upsert("branch_a")).unwrap().0, outcome(3, 0));
    let before = w.dump("central.db", PRODUCT_ROWS);
    assert_eq!(w.sync(upsert("branch_a")).unwrap().0, outcome(3, 3));
    assert_eq!(
        w.dump("central.db", PRODUCT_ROWS),
        before,
        "an unchanged upsert changed rows"
    );

    w.exec(
        "a.db",
        "UPDATE m_product SET price = '13.75' WHERE m_product_id = 2;
         INSERT INTO m_product (m_product_id, name) VALUES (4, 'New');",
    );
    assert_eq!(w.sync(upsert("branch_a")).unwrap().0, outcome(4, 2));
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT m_product_id, name, price FROM m_product ORDER BY 1"
        ),
        [
            "1|'Widget'|r12.5",
            "2|'Gadget'|r13.75",
            "3|'Thing'|NULL",
            "4|'New'|NULL"
        ]
    );
}

#[test]
fn incremental_reads_from_the_targets_watermark() {
    let w = world();
    w.exec(
        "a.db",
        "CREATE TABLE c_invoice (c_invoice_id INTEGER PRIMARY KEY, amount NUMERIC, updated DATETIME);
         INSERT INTO c_invoice VALUES (1, 10, '2024-01-01 00:00:00'), (2, 20, '2024-01-02 00:00:00'),
                                      (3, 30, '2024-01-03 00:00:00');",
    );
    let mut job = Job::new(
        "branch_a",
        "c_invoice",
        &["c_invoice_id"],
        Mode::Incremental,
    );
    job.cursor = Some("updated");
    assert_eq!(w.sync(job).unwrap().0, outcome(3, 0));

    let mut source = w.endpoint("branch_a").source().unwrap();
    let schema = source.describe(None, "c_invoice").unwrap().unwrap();
    let key = vec!["c_invoice_id".to_owned()];
    let mut plan = WritePlan {
        schema: "public",
        table: "c_invoice",
        columns: &schema.columns,
        key: &key,
        mode: Mode::Incremental,
        cursor: Some("updated"),
        branch: Some(("branch", "branch_a")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let mut target = w.endpoint("target").target().unwrap();
    let day3 = NaiveDate::from_ymd_opt(2024, 1, 3)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    assert_eq!(
        target.watermark(&plan).unwrap(),
        Some(Value::Timestamp(day3))
    );
    plan.branch = Some(("branch", "branch_b"));
    assert_eq!(
        target.watermark(&plan).unwrap(),
        None,
        "branch_b has no rows yet"
    );

    w.exec(
        "a.db",
        "UPDATE c_invoice SET amount = 11, updated = '2024-01-05 09:00:00' WHERE c_invoice_id = 1;
         UPDATE c_invoice SET amount = 99 WHERE c_invoice_id = 2; -- cursor not moved: not read
         INSERT INTO c_invoice VALUES (4, 40, '2024-01-04 00:00:00');",
    );
    // Rows 1, 3 (at the watermark, unchanged) and 4.
    assert_eq!(w.sync(job).unwrap().0, outcome(3, 1));
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT c_invoice_id, amount, updated FROM c_invoice ORDER BY 1"
        ),
        [
            "1|11|'2024-01-05 09:00:00'",
            "2|20|'2024-01-02 00:00:00'",
            "3|30|'2024-01-03 00:00:00'",
            "4|40|'2024-01-04 00:00:00'",
        ]
    );
}

#[test]
fn awkward_names_and_text_arrive_intact() {
    let w = world();
    let evil = "a\"; DROP TABLE x;--";
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let texts = [
        "it's \"quoted\"",
        "tab\there\nnew line\r\n",
        "Zürich ✓ 東京 🚀",
        evil,
        "back\\slash",
        "",
    ];
    let mut sql = format!(
        "CREATE TABLE {} ({} INTEGER PRIMARY KEY, {} TEXT);",
        q(evil),
        q("id\""),
        q(evil)
    );
    for (i, t) in texts.iter().enumerate() {
        sql.push_str(&format!(
            "INSERT INTO {} VALUES ({i}, '{}');",
            q(evil),
            t.replace('\'', "''")
        ));
    }
    w.exec("a.db", &sql);
    w.exec(
        "central.db",
        "CREATE TABLE x (y INTEGER); INSERT INTO x VALUES (7);",
    );
    let job = Job::new("branch_a", evil, &["id\""], Mode::Upsert);
    assert_eq!(w.sync(job).unwrap().0, outcome(6, 0));
    assert_eq!(w.sync(job).unwrap().0, outcome(6, 6));
    let got = w.dump(
        "central.db",
        &format!("SELECT {} FROM {} ORDER BY {}", q(evil), q(evil), q("id\"")),
    );
    let want: Vec<String> = texts.iter().map(|t| format!("'{t}'")).collect();
    assert_eq!(got, want);
    assert_eq!(w.dump("central.db", "SELECT y FROM x"), ["7"]);
}

#[test]
fn two_branches_write_the_same_table_at_once() {
    let w = world();
    let mut sql =
        String::from("CREATE TABLE c_invoiceline (id INTEGER PRIMARY KEY, qty REAL, note TEXT);");
    sql.push_str("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) ");
    sql.push_str("INSERT INTO c_invoiceline SELECT i, i * 0.5, 'line ' || i FROM n;");
    w.exec("a.db", &sql);
    w.exec("b.db", &sql);
    w.exec("b.db", "DELETE FROM c_invoiceline WHERE id > 4000");
    let job = |conn: &'static str| Job::new(conn, "c_invoiceline", &["id"], Mode::Full);
    let results = std::thread::scope(|s| {
        let a = s.spawn(|| w.sync(job("branch_a")));
        let b = s.spawn(|| w.sync(job("branch_b")));
        [a.join().unwrap(), b.join().unwrap()]
    });
    let outs: Vec<WriteOutcome> = results.into_iter().map(|r| r.unwrap().0).collect();
    assert_eq!(outs, [outcome(5000, 0), outcome(4000, 0)]);
    assert_eq!(
        w.dump(
            "central.db",
            "SELECT branch, count(*), sum(qty) FROM c_invoiceline GROUP BY 1 ORDER BY 1"
        ),
        ["'branch_a'|5000|r6251250", "'branch_b'|4000|r4001000"]
    );
}
