//! Upserts that merge the key-ordered source and target streams: only new
//! and changed rows may reach the target's `INSERT` (a BEFORE INSERT
//! trigger counts them; it fires even for rows that then conflict), the
//! rest count as skipped, target-only keys stay, and the content ends equal
//! to the source. The binary numeric order is checked against the server's.

use crate::common::pg::TestDb;
use crate::harness::*;
use branchsync::config::Mode;
use branchsync::driver::postgres::binary_key::{compare_numeric, numeric_binary};
use branchsync::driver::postgres::tuple_frame::TupleReader;
use branchsync::driver::{DriverError, ReadRequest, RowSink, Value, WritePlan};
use std::cmp::Ordering;

const LINE_DDL: &str = "CREATE TABLE m_line (
    id numeric PRIMARY KEY,
    name text,
    qty integer,
    amount numeric(12,2),
    note varchar(200),
    updated timestamp NOT NULL)";
const LINE_COLS: &str = "id, name, qty, amount, note, updated";

/// Keys of every digit count, sign and scale, and a generated bulk.
fn line_rows(db: &TestDb) {
    db.exec(&format!(
        "{LINE_DDL};
         INSERT INTO m_line
         SELECT k, 'name ' || k, (mod(abs(k), 100))::int, round(mod(k, 1000) * 1.5, 2), NULL, timestamp '2024-01-01'
         FROM unnest(ARRAY[-123456789012345678901234.5678, -20000, -9999.9999, -1, -0.5, 0,
                           0.0001, 1, 9999, 10000, 10000.0001, 123456789.123456789,
                           12345678901234567890123456789]::numeric[]) k;
         INSERT INTO m_line
         SELECT g * 3.7 - 1000, CASE WHEN g % 5 = 0 THEN NULL ELSE 'line ' || g || repeat('é', g % 7) END,
                CASE WHEN g % 3 = 0 THEN NULL ELSE g END, g * 0.25,
                CASE WHEN g % 4 = 0 THEN NULL ELSE repeat('n', g % 50) END,
                timestamp '2024-01-01' + g * interval '1 minute'
         FROM generate_series(1, 3000) g WHERE g * 3.7 - 1000 NOT IN (-1, 0, 1);"
    ));
}

/// Counts the rows that reach `INSERT` on `table`, in `ins_calls`.
fn count_inserts(db: &TestDb, table: &str) {
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS ins_calls (n bigint NOT NULL);
         INSERT INTO ins_calls SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ins_calls);
         CREATE OR REPLACE FUNCTION count_ins() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN UPDATE ins_calls SET n = n + 1; RETURN NEW; END $$;
         CREATE TRIGGER count_ins BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION count_ins();"
    ));
}

/// Rows that reached `INSERT` since the last call.
fn inserts(db: &TestDb) -> i64 {
    let n = scalar_i64(db, "SELECT n FROM ins_calls");
    db.exec("UPDATE ins_calls SET n = 0");
    n
}

#[test]
fn upsert_merge_writes_only_new_and_changed_rows() {
    let lmp = TestDb::create("bs_pgmerge_lmp");
    line_rows(&lmp);
    let jkt = TestDb::create("bs_pgmerge_jkt");
    line_rows(&jkt);
    jkt.exec("UPDATE m_line SET name = 'jkt ' || id");
    let central = TestDb::create("bs_pgmerge_central");
    let dst = endpoint("target", &central);
    let (src, src_jkt) = (endpoint("pgsql_lmp", &lmp), endpoint("pgsql_jkt", &jkt));
    let job = Job::new("m_line", &["id"], Mode::Upsert, "pgsql_lmp");
    let job_jkt = Job::new("m_line", &["id"], Mode::Upsert, "pgsql_jkt");
    let total = scalar_i64(&lmp, "SELECT count(*) FROM m_line");
    assert!(total > 2900, "{total}");

    let run = sync(&*src, &*dst, &job).unwrap();
    assert!(run.binary);
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped),
        (total as u64, 0)
    );
    count_inserts(&central, "m_line");

    // Another branch's first run: an empty slice, every row staged.
    let run = sync(&*src_jkt, &*dst, &job_jkt).unwrap();
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped),
        (total as u64, 0)
    );
    assert_eq!(inserts(&central), total);
    let want_jkt = hash(&jkt, "m_line", LINE_COLS, None);

    // Unchanged: everything skipped in the merge, nothing reaches INSERT.
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped),
        (total as u64, total as u64)
    );
    assert_eq!(
        inserts(&central),
        0,
        "identical rows must not reach the target"
    );

    // One byte of text, a size change, NULL <-> value, new keys between and
    // around the old ones, and keys deleted at the source (kept: upsert).
    lmp.exec(
        "UPDATE m_line SET name = 'name 0.0000' WHERE id = 0;
         UPDATE m_line SET name = overlay(name placing 'X' from 3 for 1) WHERE id = 10000;
         UPDATE m_line SET note = 'now much longer than before' WHERE id = -0.5;
         UPDATE m_line SET qty = NULL WHERE id = 1;
         UPDATE m_line SET qty = 42 WHERE id = -1;
         UPDATE m_line SET amount = amount + 0.01 WHERE id = 12345678901234567890123456789;
         UPDATE m_line SET updated = updated + interval '1 microsecond' WHERE id = -123456789012345678901234.5678;
         INSERT INTO m_line VALUES (-123456789012345678901234.5679, 'new, lowest', 1, 1, NULL, now()),
                                   (0.00001, 'new, tiny', NULL, NULL, NULL, now()),
                                   (99999999999999999999999999999, 'new, highest', 2, 2, 'n', now()),
                                   (7.77, 'new, middle', 3, 3, NULL, now());
         DELETE FROM m_line WHERE id IN (9999, 123456789.123456789);",
    );
    let changed = 7 + 4;
    let total = total + 4 - 2;
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(
        (run.outcome.processed, run.outcome.skipped),
        (total as u64, (total - changed) as u64)
    );
    assert_eq!(
        inserts(&central),
        changed,
        "only new and changed rows are written"
    );
    let kept = scalar_i64(
        &central,
        "SELECT count(*) FROM m_line WHERE branch = 'pgsql_lmp' AND id IN (9999, 123456789.123456789)",
    );
    assert_eq!(kept, 2, "keys only in the target stay");
    central.exec("CREATE VIEW lmp_now AS SELECT * FROM m_line WHERE branch = 'pgsql_lmp' AND id NOT IN (9999, 123456789.123456789)");
    assert_eq!(
        hash(&central, "lmp_now", LINE_COLS, None),
        hash(&lmp, "m_line", LINE_COLS, None)
    );
    assert_eq!(
        hash(&central, "m_line", LINE_COLS, Some("pgsql_jkt")),
        want_jkt
    );

    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!(run.outcome.skipped, total as u64);
    assert_eq!(inserts(&central), 0);
}

#[test]
fn multi_column_keys_merge_in_key_order() {
    let src_db = TestDb::create("bs_pgmerge_multi_src");
    src_db.exec(
        "CREATE TABLE m_pair (org integer, line bigint, day date, val text, amt numeric,
                              PRIMARY KEY (org, line, day));
         INSERT INTO m_pair SELECT o, l, date '2024-01-01' + (l % 3)::int, 'v' || o || '/' || l, o * l * 0.5
         FROM generate_series(-3, 3) o, generate_series(-200, 200) l;",
    );
    let central = TestDb::create("bs_pgmerge_multi_central");
    let (src, dst) = (endpoint("pgsql_lmp", &src_db), endpoint("target", &central));
    // Key order differs from the column order on purpose.
    let job = Job::new("m_pair", &["line", "day", "org"], Mode::Upsert, "pgsql_lmp");
    let n = scalar_i64(&src_db, "SELECT count(*) FROM m_pair") as u64;
    sync(&*src, &*dst, &job).unwrap();
    count_inserts(&central, "m_pair");
    central.exec(
        "ALTER TABLE m_pair DROP CONSTRAINT m_pair_pkey, ADD PRIMARY KEY (branch, line, day, org)",
    );

    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (n, n));
    assert_eq!(inserts(&central), 0);

    src_db.exec(
        "UPDATE m_pair SET val = 'changed' WHERE org = -3 AND line = -200;
         UPDATE m_pair SET amt = NULL WHERE org = 3 AND line = 200;
         INSERT INTO m_pair VALUES (0, 0, date '1999-12-31', 'new', 1), (-4, 7, date '2024-01-02', 'new', NULL);",
    );
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (n + 2, n - 2));
    assert_eq!(inserts(&central), 4);
    let cols = "org, line, day, val, amt";
    assert_eq!(
        hash(&central, "m_pair", cols, Some("pgsql_lmp")),
        hash(&src_db, "m_pair", cols, None)
    );
}

#[test]
fn other_key_types_and_single_source_tables_still_upsert() {
    let src_db = TestDb::create("bs_pgmerge_other_src");
    src_db.exec(
        "CREATE TABLE m_code (code varchar(20) PRIMARY KEY, val text);
         INSERT INTO m_code SELECT 'c' || g, 'v' || g FROM generate_series(1, 300) g;
         CREATE TABLE m_single (id bigint PRIMARY KEY, val text);
         INSERT INTO m_single SELECT g, 'v' || g FROM generate_series(1, 300) g;",
    );
    let central = TestDb::create("bs_pgmerge_other_central");
    let (src, dst) = (endpoint("pgsql_lmp", &src_db), endpoint("target", &central));

    // A text key cannot be ordered in binary: every row is staged.
    let code = Job::new("m_code", &["code"], Mode::Upsert, "pgsql_lmp");
    sync(&*src, &*dst, &code).unwrap();
    count_inserts(&central, "m_code");
    src_db.exec("UPDATE m_code SET val = 'changed' WHERE code = 'c7'");
    let run = sync(&*src, &*dst, &code).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (300, 299));
    assert_eq!(inserts(&central), 300);

    // No branch column: the whole table is the slice.
    let mut single = Job::new("m_single", &["id"], Mode::Upsert, "pgsql_lmp");
    single.branch = None;
    sync(&*src, &*dst, &single).unwrap();
    central.exec(
        "DROP TRIGGER count_ins ON m_code;
         CREATE TRIGGER count_ins BEFORE INSERT ON m_single FOR EACH ROW EXECUTE FUNCTION count_ins();",
    );
    inserts(&central);
    src_db.exec(
        "UPDATE m_single SET val = NULL WHERE id = 300; INSERT INTO m_single VALUES (0, 'zero')",
    );
    let run = sync(&*src, &*dst, &single).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (301, 299));
    assert_eq!(inserts(&central), 2);
    assert_eq!(
        hash(&central, "m_single", "id, val", None),
        hash(&src_db, "m_single", "id, val", None)
    );
}

/// Hides the binary stream: the source has to send decoded rows.
struct RowsOnly<'a>(&'a mut dyn RowSink);

impl RowSink for RowsOnly<'_> {
    fn row(&mut self, values: &[Value]) -> Result<(), DriverError> {
        self.0.row(values)
    }

    fn wants_key_order(&self) -> bool {
        self.0.wants_key_order()
    }
}

#[test]
fn decoded_rows_into_a_merging_target_are_staged() {
    let lmp = TestDb::create("bs_pgmerge_rows_lmp");
    line_rows(&lmp);
    let central = TestDb::create("bs_pgmerge_rows_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    let job = Job::new("m_line", &["id"], Mode::Upsert, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    count_inserts(&central, "m_line");
    lmp.exec("UPDATE m_line SET name = NULL WHERE id = 1; DELETE FROM m_line WHERE id = 0");
    let total = scalar_i64(&lmp, "SELECT count(*) FROM m_line") as u64;

    let mut s = src.source().unwrap();
    let schema = s.describe(None, "m_line").unwrap().unwrap();
    let plan = WritePlan {
        schema: "public",
        table: "m_line",
        columns: &schema.columns,
        key: &job.key,
        mode: Mode::Upsert,
        cursor: None,
        branch: Some(("branch", "pgsql_lmp")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let req = ReadRequest {
        schema: None,
        table: "m_line",
        columns: &schema.columns,
        key: &job.key,
        since: None,
        range: Default::default(),
    };
    let mut t = dst.target().unwrap();
    let out = t
        .write(&plan, &mut |sink: &mut dyn RowSink| {
            assert!(sink.wants_key_order());
            s.read(&req, &mut RowsOnly(sink), &mut Rejects::default())
        })
        .unwrap();
    assert_eq!((out.processed, out.skipped), (total, total - 1));
    assert_eq!(
        inserts(&central) as u64,
        total,
        "decoded rows all go through staging"
    );
    assert_eq!(
        scalar_i64(
            &central,
            "SELECT count(*) FROM m_line WHERE name IS NULL AND id = 1"
        ),
        1
    );
    assert_eq!(
        scalar_i64(&central, "SELECT count(*) FROM m_line WHERE id = 0"),
        1
    );
}

#[test]
fn the_binary_numeric_order_is_the_servers() {
    let db = TestDb::create("bs_pgmerge_numeric");
    db.exec(
        "CREATE TABLE nums (v numeric);
         INSERT INTO nums SELECT round((random() - 0.5)::numeric * 10::numeric ^ (g % 40 - 12), g % 20)
         FROM generate_series(1, 4000) g;
         INSERT INTO nums VALUES ('NaN'), ('Infinity'), ('-Infinity'), (0), (0.000), (-0.0), (1.0), (1.00),
           (10000), (9999.99995), (-10000), (1e-30), (-1e-30), (12345678901234567890.1234567890);",
    );
    let mut client = db.client();
    let reader = client
        .copy_out(
            "COPY (SELECT v AS n, v::text AS t, coalesce(v = lag(v) OVER (ORDER BY v), false) AS e FROM nums ORDER BY n)
             TO STDOUT (FORMAT binary)",
        )
        .unwrap();
    let mut tuples = TupleReader::new(reader, 4096);
    let field = |t: &[u8], i: usize| -> Vec<u8> {
        let mut at = 2;
        for _ in 0..i {
            at += 4 + i32::from_be_bytes(t[at..at + 4].try_into().unwrap()) as usize;
        }
        let len = i32::from_be_bytes(t[at..at + 4].try_into().unwrap()) as usize;
        t[at + 4..at + 4 + len].to_vec()
    };
    let mut prev: Option<Vec<u8>> = None;
    let mut seen = 0;
    tuples.advance().unwrap();
    while let Some(t) = tuples.current() {
        let (v, text, equal) = (field(t, 0), field(t, 1), field(t, 2) == [1]);
        let text = String::from_utf8(text).unwrap();
        let ours = numeric_binary(&text).unwrap();
        if text.ends_with("Infinity") || text == "NaN" {
            // The server's display scale of these is arbitrary.
            assert_eq!(ours[..6], v[..6], "{text}");
        } else {
            assert_eq!(ours, v, "{text}");
        }
        if let Some(p) = &prev {
            let want = if equal {
                Ordering::Equal
            } else {
                Ordering::Less
            };
            assert_eq!(compare_numeric(p, &v), want, "before {text}");
        }
        prev = Some(v);
        seen += 1;
        tuples.advance().unwrap();
    }
    assert_eq!(seen, 4014);
}

#[test]
fn a_duplicate_key_at_the_source_fails_the_table_and_changes_nothing() {
    let src_db = TestDb::create("bs_pgmerge_dup_src");
    src_db.exec(
        "CREATE TABLE m_dup (id integer NOT NULL, val text);
         INSERT INTO m_dup SELECT g, 'v' || g FROM generate_series(1, 100) g;",
    );
    let central = TestDb::create("bs_pgmerge_dup_central");
    let (src, dst) = (endpoint("pgsql_lmp", &src_db), endpoint("target", &central));
    let job = Job::new("m_dup", &["id"], Mode::Upsert, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    let before = hash(&central, "m_dup", "id, val", None);
    src_db.exec(
        "INSERT INTO m_dup VALUES (50, 'again'); UPDATE m_dup SET val = 'changed' WHERE id = 7",
    );
    let err = sync(&*src, &*dst, &job).unwrap_err();
    assert!(
        err.message
            .contains("sent more than one row with key (id) = ('50')"),
        "{err}"
    );
    assert!(err.message.contains("m_dup"), "{err}");
    assert_eq!(hash(&central, "m_dup", "id, val", None), before);
    // The target's session is usable again.
    src_db.exec("DELETE FROM m_dup WHERE val = 'again'");
    let run = sync(&*src, &*dst, &job).unwrap();
    assert_eq!((run.outcome.processed, run.outcome.skipped), (100, 99));
}
