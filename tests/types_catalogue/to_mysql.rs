//! The catalogue into a MySQL central: from PostgreSQL, and from SQLite
//! (the catalogue copied into a SQLite file first, then that file as the
//! branch). Every family arrives equal in meaning but those holding values
//! MySQL cannot store; their tables fail in every mode, saying why, and
//! hold no row (docs/TYPES.md).

use crate::catalogue::{catalogue, compare_families, entries, finish, from_postgres, sync_twice};
use crate::catalogue::{type_count, Tally};
use crate::families::FAMILIES;
use crate::world::{Db, World, MODES};

/// The families holding values MySQL cannot store (docs/TYPES.md), and
/// what the failed table's error says: the write fails, naming the
/// column, and no row of the table is written.
const MYSQL_REFUSES: &[(&str, &str)] = &[
    ("cat_float", "column c_f4: NaN cannot be stored in MySQL"),
    ("cat_numeric", "column c_num: the decimal"),
    ("cat_temporal", "c_date"),
];

/// The same families from SQLite, which holds NaN, infinite numbers and
/// dates as their text: MySQL refuses that text and says so.
const SQLITE_MYSQL_REFUSES: &[(&str, &str)] = &[
    ("cat_float", "column c_f4: NaN cannot be stored in MySQL"),
    ("cat_numeric", "Incorrect decimal value: 'NaN' for column"),
    ("cat_temporal", "c_date"),
];

/// Every table of `MYSQL_REFUSES` failed in every mode with its reason
/// and holds no row at `w`'s central; those failures leave the tally.
fn check_refused(w: &World, branch: &str, refuses: &[(&str, &str)], tally: &mut Tally) {
    for (family, says) in refuses {
        for mode in MODES {
            let failed = format!("round 1 {branch}/{family}_{mode}: failed");
            let hit = tally.failures.iter().find(|f| f.starts_with(&failed));
            let hit = hit
                .unwrap_or_else(|| panic!("{family}_{mode} did not fail: {:#?}", tally.failures));
            assert!(hit.contains(says), "{hit}");
            let rows = w
                .central
                .rows(&format!("{family}_{mode}"), "id", &["id".into()]);
            assert!(rows.is_empty(), "{family}_{mode} holds rows");
        }
    }
    tally.failures.retain(|f| {
        !refuses.iter().any(|(family, _)| {
            f.starts_with(&format!("{family}_")) || f.contains(&format!("{branch}/{family}_"))
        })
    });
}

/// pg → MySQL: every family arrives equal in meaning but the three whose
/// values MySQL cannot hold (NaN and infinite floats and decimals; infinite,
/// BC and past-9999 dates).
#[test]
fn postgres_to_mysql() {
    let (w, mut tally, types) = from_postgres("cat_pm_src", Db::mysql("cat_pm_central"));
    check_refused(&w, "pg_cat", MYSQL_REFUSES, &mut tally);
    finish("postgres→mysql", types, tally);
}

/// SQLite → MySQL: the catalogue as the SQLite central of a pg → SQLite
/// copy stores it (docs/TYPES.md), then that file as a branch; compared
/// with the PostgreSQL original. SQLite keeps NaN and infinite numbers and
/// dates as their text, which MySQL refuses just the same.
#[test]
fn sqlite_to_mysql() {
    let orig = catalogue("cat_sm_src");
    let types = type_count(&orig);
    let dir = tempfile::tempdir().unwrap();
    let hop = Db::sqlite(dir.path(), "hop");
    let full: Vec<_> = entries("")
        .into_iter()
        .filter(|e| e.mode == "full")
        .collect();
    let w1 = World::new(dir, vec![("pg_cat".into(), orig)], hop, &full);
    let run = w1.sync();
    assert_eq!(run.code, 0, "{}", run.text);

    let hop = Db::Sqlite(match &w1.central {
        Db::Sqlite(p) => p.clone(),
        Db::Pg(_) | Db::My(_) => unreachable!(),
    });
    let dir2 = tempfile::tempdir().unwrap();
    let w2 = World::new(
        dir2,
        vec![("sq_cat".into(), hop)],
        Db::mysql("cat_sm_central"),
        &[],
    )
    .with_branch_column("origin", &entries("_full"));
    let mut tally = Tally::default();
    sync_twice(&w2, &mut tally.failures);
    let all: Vec<&str> = FAMILIES.iter().map(|(t, _, _)| *t).collect();
    compare_families(&w1.branches[0].1, &w2.central, &mut tally, None, &all);
    check_refused(&w2, "sq_cat", SQLITE_MYSQL_REFUSES, &mut tally);
    finish("sqlite→mysql", types, tally);
}

/// A value larger than the server's `max_allowed_packet` (16 MB by
/// default on MariaDB): `full` loads it whole (LOAD DATA sends rows in
/// pieces); upsert, incremental and mirror write rows by `INSERT`, which
/// cannot carry it, and fail the table saying so and how to fix it.
#[test]
fn a_value_past_max_allowed_packet() {
    use mysql::prelude::Queryable;
    let packet: u64 = crate::common::mysql::MyDb::admin()
        .query_first("SELECT @@GLOBAL.max_allowed_packet")
        .unwrap()
        .unwrap();
    let size = packet + (1 << 20);
    let pg = Db::pg("packet_src");
    pg.exec(&format!(
        "CREATE TABLE big (id integer PRIMARY KEY, ts timestamp NOT NULL, b bytea);
         INSERT INTO big VALUES (1, '2024-01-01', decode(repeat('00ff5c0a', {}), 'hex'));",
        size / 4
    ));
    let w = World::new(
        tempfile::tempdir().unwrap(),
        vec![("pg_big".into(), pg)],
        Db::mysql("packet_central"),
        &crate::world::Entry::all_modes("big", "big", "id"),
    );
    let run = w.sync();
    assert_eq!(run.code, 1, "{}", run.text);
    for mode in MODES {
        let table = format!("big_{mode}");
        let p = run.row("pg_big", &table);
        if mode == "full" {
            assert_eq!(p.2, "completed", "{p:?}");
            // Read at each server: the client cannot take the row either.
            let Db::My(central) = &w.central else {
                unreachable!()
            };
            let got: Option<(u64, String)> = central
                .conn()
                .query_first(format!("SELECT LENGTH(b), MD5(b) FROM {table}"))
                .unwrap();
            let want = w.branches[0]
                .1
                .pg_db()
                .client()
                .query_one("SELECT length(b)::bigint, md5(b) FROM big", &[])
                .unwrap();
            let want = (want.get::<_, i64>(0) as u64, want.get::<_, String>(1));
            assert_eq!(got, Some(want), "{table}: the value arrived whole");
        } else {
            assert_eq!(p.2, "failed", "{p:?}");
            let error = p.5.as_deref().unwrap_or_default();
            assert!(
                error.contains("max_allowed_packet") && error.contains("mode = \"full\""),
                "{table}: {error}"
            );
        }
    }
}
