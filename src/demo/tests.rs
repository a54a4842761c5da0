//! The generator on its own: determinism, colliding ids, sizes, and a config
//! that the real config loader accepts.

use super::*;
use crate::config::{Config, Mode};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;

/// Every row of `table`, ordered by its key, as SQLite values.
fn dump(db: &Path, table: &str) -> Vec<Vec<SqlValue>> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {table} ORDER BY {table}_id"))
        .unwrap();
    let n = stmt.column_count();
    let rows = stmt
        .query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect())
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

fn count(db: &Path, table: &str) -> u64 {
    let conn = Connection::open(db).unwrap();
    let n: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap();
    n as u64
}

#[test]
fn same_branch_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let branch = Branch::nth(1);
    let sizes = Sizes::for_rows(120);
    generate::write_branch(&a, &branch, &sizes).unwrap();
    generate::write_branch(&b, &branch, &sizes).unwrap();
    for table in TABLES {
        let rows = dump(&a, table);
        assert!(!rows.is_empty(), "{table} is empty");
        assert_eq!(rows, dump(&b, table), "{table} differs between two runs");
    }
}

#[test]
fn ids_collide_across_branches_but_data_differs() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = prepare(dir.path(), 2, 50).unwrap();
    let [a, b] = [0, 1].map(|i| prepared.layout.branch_file(&prepared.branches[i]));
    for table in TABLES {
        let (ra, rb) = (dump(&a, table), dump(&b, table));
        let ids = |rows: &[Vec<SqlValue>]| rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
        assert_eq!(
            ids(&ra),
            ids(&rb),
            "{table}: both branches count ids from 1000000"
        );
        assert_eq!(ra[0][0], SqlValue::Integer(generate::FIRST_ID));
        assert_ne!(ra, rb, "{table}: two branches hold the same data");
    }
}

#[test]
fn row_counts_follow_rows() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = prepare(dir.path(), 3, 300).unwrap();
    assert_eq!(prepared.branches.len(), 3);
    let expected = [
        ("ad_org", 4),
        ("m_product", 30),
        ("c_bpartner", 30),
        ("c_order", 75),
        ("c_invoice", 75),
        ("c_invoiceline", 300),
    ];
    for b in &prepared.branches {
        let file = prepared.layout.branch_file(b);
        for (table, n) in expected {
            assert_eq!(count(&file, table), n, "{} {table}", b.name);
        }
    }
    assert_eq!(prepared.rows, 3 * 514);
}

#[test]
fn data_has_nulls_unicode_quotes_and_exact_amounts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    generate::write_branch(&db, &Branch::nth(0), &Sizes::for_rows(400)).unwrap();
    let conn = Connection::open(&db).unwrap();
    let q = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(q("SELECT count(*) FROM m_product WHERE description IS NULL") > 0);
    assert!(q("SELECT count(*) FROM c_invoice WHERE c_order_id IS NULL") > 0);
    assert!(q("SELECT count(*) FROM c_invoiceline WHERE m_product_id IS NULL") > 0);
    assert!(q("SELECT count(*) FROM c_bpartner WHERE name LIKE '%''%' OR name LIKE '%\"%'") > 0);
    assert!(
        q("SELECT count(*) FROM m_product WHERE length(name) <> length(CAST(name AS BLOB))") > 0
    );
    // Invoice totals are the sum of their lines, to the cent.
    assert_eq!(
        q("SELECT count(*) FROM c_invoice i WHERE round(i.grandtotal * 100) <>
             (SELECT round(sum(l.linenetamt) * 100) FROM c_invoiceline l WHERE l.c_invoice_id = i.c_invoice_id)"),
        0
    );
    let updated: String = conn
        .query_row(
            "SELECT updated FROM c_order ORDER BY c_order_id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(&updated, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{updated}"
    );
    let declared: String = conn
        .query_row(
            "SELECT type FROM pragma_table_info('c_invoiceline') WHERE name = 'linenetamt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(declared, "NUMERIC");
    assert_eq!(generate::money(1250), "12.50");
    assert_eq!(generate::money(7), "0.07");
}

#[test]
fn names_are_connection_names() {
    let all = branches(20);
    assert_eq!(all[0].name, "sqlite_lmp");
    assert_eq!(all[16].name, "sqlite_btm");
    assert_eq!(all[17].name, "sqlite_b018");
    let mut unique = std::collections::HashSet::new();
    for b in &all {
        assert!(b
            .name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'));
        assert!(unique.insert(b.name.clone()), "duplicate {}", b.name);
    }
}

#[test]
fn config_loads_and_describes_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let prepared = prepare(dir.path(), 3, 10).unwrap();
    let config = Config::load(
        &prepared.layout.config(),
        &crate::driver::registry::Registry,
    )
    .unwrap();
    assert_eq!(config.connections.len(), 3);
    assert_eq!(
        config.journal.path,
        dir.path().join("storage/sync-journal.db")
    );
    let target = config.target.as_ref().unwrap();
    assert_eq!(
        (target.driver.as_str(), target.branch_column()),
        ("sqlite", "branch")
    );
    assert_eq!(target.url, dir.path().join("central.db").to_string_lossy());
    for c in &config.connections {
        assert_eq!(c.driver, "sqlite");
        assert!(
            Path::new(&c.url).is_file(),
            "{} points at a missing file",
            c.url
        );
    }
    let modes: Vec<_> = config
        .tables
        .iter()
        .map(|t| (t.source.as_str(), t.mode))
        .collect();
    assert_eq!(
        modes,
        [
            ("ad_org", Mode::Full),
            ("m_product", Mode::Upsert),
            ("c_bpartner", Mode::Upsert),
            ("c_order", Mode::Incremental),
            ("c_invoice", Mode::Incremental),
            ("c_invoiceline", Mode::Full),
        ]
    );
    let single: Vec<_> = config.tables.iter().filter(|t| t.from.is_some()).collect();
    assert_eq!(single.len(), 1);
    assert_eq!(single[0].from.as_deref(), Some("sqlite_lmp"));
}

#[test]
fn second_prepare_keeps_journal_and_central() {
    let dir = tempfile::tempdir().unwrap();
    let layout = prepare(dir.path(), 1, 10).unwrap().layout;
    std::fs::create_dir_all(layout.journal().parent().unwrap()).unwrap();
    std::fs::write(layout.journal(), b"journal").unwrap();
    std::fs::write(layout.central(), b"central").unwrap();
    let before = dump(&layout.branch_file(&Branch::nth(0)), "c_invoiceline");
    prepare(dir.path(), 1, 10).unwrap();
    assert_eq!(std::fs::read(layout.journal()).unwrap(), b"journal");
    assert_eq!(std::fs::read(layout.central()).unwrap(), b"central");
    assert_eq!(
        dump(&layout.branch_file(&Branch::nth(0)), "c_invoiceline"),
        before
    );
    assert!(!layout.branches_dir().join("sqlite_lmp.db.tmp").exists());
}

#[test]
fn zero_branches_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        prepare(dir.path(), 0, 10),
        Err(DemoError::NoBranches)
    ));
}
