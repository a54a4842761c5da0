//! Target schema handling: creation, added columns, conflicts, missing key
//! columns, hostile names, missing source tables.

use crate::common::pg::TestDb;
use crate::harness::*;
use branchsync::config::Mode;
use branchsync::driver::ErrorKind;

fn types(db: &TestDb, table: &str) -> Vec<(String, String, bool)> {
    db.client()
        .query(
            "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
             WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

fn primary_key(db: &TestDb, table: &str) -> Vec<String> {
    db.client()
        .query(
            "SELECT a.attname::text FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
             WHERE i.indrelid = $1::text::regclass AND i.indisprimary ORDER BY k.o",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn creates_the_table_with_the_branch_column_and_key() {
    let lmp = branch_db("bs_pgdrv_create_lmp", 1, 10);
    let central = TestDb::create("bs_pgdrv_create_central");
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Upsert, "pgsql_lmp");
    sync(
        &*endpoint("pgsql_lmp", &lmp),
        &*endpoint("target", &central),
        &job,
    )
    .unwrap();
    let got = types(&central, "c_bpartner");
    assert_eq!(got[0], ("branch".into(), "text".into(), true));
    let src: Vec<(String, String)> = types(&lmp, "c_bpartner")
        .into_iter()
        .map(|(n, t, _)| (n, t))
        .collect();
    let dst: Vec<(String, String)> = got[1..]
        .iter()
        .map(|(n, t, _)| (n.clone(), t.clone()))
        .collect();
    assert_eq!(src, dst, "source types are kept");
    assert_eq!(
        primary_key(&central, "c_bpartner"),
        ["branch", "c_bpartner_id"]
    );
}

#[test]
fn a_column_new_at_the_source_is_added() {
    let lmp = branch_db("bs_pgdrv_addcol_lmp", 1, 20);
    let central = TestDb::create("bs_pgdrv_addcol_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    lmp.exec("ALTER TABLE c_bpartner ADD COLUMN taxid varchar(20) NOT NULL DEFAULT 'NPWP-1'");
    let run = sync(&*src, &*dst, &job).unwrap();
    assert!(run.binary);
    let got = types(&central, "c_bpartner");
    assert_eq!(
        got.last().unwrap(),
        &("taxid".into(), "character varying(20)".into(), false)
    );
    let cols = format!("{BPARTNER_COLS}, taxid");
    assert_eq!(
        hash(&central, "c_bpartner", &cols, Some("pgsql_lmp")),
        hash(&lmp, "c_bpartner", &cols, None)
    );
}

#[test]
fn a_type_conflict_names_table_column_and_both_types() {
    let lmp = branch_db("bs_pgdrv_conflict_lmp", 1, 5);
    let central = TestDb::create("bs_pgdrv_conflict_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    sync(&*src, &*dst, &job).unwrap();
    let before = hash(&central, "c_bpartner", BPARTNER_COLS, None);
    central.exec("ALTER TABLE c_bpartner ALTER COLUMN qty TYPE smallint");
    let err = sync(&*src, &*dst, &job).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    for part in ["c_bpartner", "\"qty\"", "integer", "smallint", "target"] {
        assert!(err.message.contains(part), "{part:?} missing from: {err}");
    }
    assert_eq!(hash(&central, "c_bpartner", BPARTNER_COLS, None), before);
}

#[test]
fn a_key_column_missing_at_the_target_fails_the_table() {
    let lmp = branch_db("bs_pgdrv_nokey_lmp", 1, 5);
    let central = TestDb::create("bs_pgdrv_nokey_central");
    central.exec("CREATE TABLE c_bpartner (branch text NOT NULL, name varchar(120))");
    let job = Job::new("c_bpartner", &["c_bpartner_id"], Mode::Full, "pgsql_lmp");
    let err = sync(
        &*endpoint("pgsql_lmp", &lmp),
        &*endpoint("target", &central),
        &job,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    assert!(
        err.message
            .contains("key column \"c_bpartner_id\" is missing"),
        "{err}"
    );
    assert_eq!(scalar_i64(&central, "SELECT count(*) FROM c_bpartner"), 0);
    assert_eq!(types(&central, "c_bpartner").len(), 2, "nothing was added");
}

#[test]
fn upsert_needs_a_unique_key_at_the_target() {
    let lmp = branch_db("bs_pgdrv_nouniq_lmp", 1, 5);
    let central = TestDb::create("bs_pgdrv_nouniq_central");
    let (src, dst) = (endpoint("pgsql_lmp", &lmp), endpoint("target", &central));
    sync(
        &*src,
        &*dst,
        &Job::new("c_bpartner", &[], Mode::Full, "pgsql_lmp"),
    )
    .unwrap();
    let err = sync(
        &*src,
        &*dst,
        &Job::new("c_bpartner", &["c_bpartner_id"], Mode::Upsert, "pgsql_lmp"),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    assert!(
        err.message
            .contains("ADD PRIMARY KEY (\"branch\", \"c_bpartner_id\")"),
        "{err}"
    );
}

#[test]
fn hostile_names_stay_names() {
    let src_db = TestDb::create("bs_pgdrv_hostile_src");
    let central = TestDb::create("bs_pgdrv_hostile_central");
    let evil = "a\"; DROP TABLE x;--";
    let ddl = r#"CREATE TABLE x (id int);
        CREATE TABLE "a""; DROP TABLE x;--" ("we""ird id" integer PRIMARY KEY, "v'al" text);
        INSERT INTO "a""; DROP TABLE x;--" VALUES (1, 'it''s'), (2, NULL);"#;
    src_db.exec(ddl);
    central.exec("CREATE TABLE x (id int)");
    let (src, dst) = (endpoint("pgsql_lmp", &src_db), endpoint("target", &central));
    for mode in [Mode::Full, Mode::Upsert, Mode::Incremental] {
        let mut job = Job::new(evil, &["we\"ird id"], mode, "pgsql_lmp");
        job.cursor = Some("we\"ird id");
        let run = sync(&*src, &*dst, &job).unwrap();
        assert_eq!(
            run.outcome.processed,
            if mode == Mode::Incremental { 1 } else { 2 },
            "{mode:?}"
        );
    }
    let quoted = r#""a""; DROP TABLE x;--""#;
    let cols = r#""we""ird id", "v'al""#;
    assert_eq!(
        hash(&central, quoted, cols, Some("pgsql_lmp")),
        hash(&src_db, quoted, cols, None)
    );
    assert_eq!(
        scalar_i64(&central, "SELECT count(*) FROM x"),
        0,
        "x still exists"
    );
    assert_eq!(
        scalar_i64(&src_db, "SELECT count(*) FROM x"),
        0,
        "x still exists"
    );
}

#[test]
fn a_missing_source_table() {
    let lmp = TestDb::create("bs_pgdrv_missing_lmp");
    let src = endpoint("pgsql_lmp", &lmp);
    let mut s = src.source().unwrap();
    assert!(s.describe(None, "c_order").unwrap().is_none());
    assert!(s.describe(Some("adempiere"), "c_order").unwrap().is_none());
    let mut rejects = Rejects::default();
    let columns = vec![];
    let req = branchsync::driver::ReadRequest {
        schema: None,
        table: "c_order",
        columns: &columns,
        key: &[],
        since: None,
        range: Default::default(),
    };
    struct Nothing;
    impl branchsync::driver::RowSink for Nothing {
        fn row(
            &mut self,
            _: &[branchsync::driver::Value],
        ) -> Result<(), branchsync::driver::DriverError> {
            Ok(())
        }
    }
    let err = s.read(&req, &mut Nothing, &mut rejects).unwrap_err();
    assert_eq!(err.kind, ErrorKind::MissingTable, "{err}");
    assert!(
        err.message.contains("pgsql_lmp") && err.message.contains("c_order"),
        "{err}"
    );
    // The session is still usable afterwards.
    assert!(s.describe(None, "pg_class").unwrap().is_none());
}
