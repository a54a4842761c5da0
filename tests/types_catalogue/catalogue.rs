//! The catalogue round trips: every family synced in every mode through
//! every driver pair, each value compared in meaning with the original
//! (`same_meaning`), and a tally per pair and mode printed. A second run of
//! each batch must find every row identical (upsert and incremental skip
//! them all): a value the target changed would show up there as a rewrite.
//!
//! The large bytea is 4 MB here; `BRANCHSYNC_BIG_BYTEA_MB=100` runs the
//! issue's 100 MB.

use crate::families::{self, FAMILIES};
use crate::world::{same_meaning, untagged, Db, Entry, World, MODES};

fn big_bytea_mb() -> usize {
    std::env::var("BRANCHSYNC_BIG_BYTEA_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
}

/// The original catalogue in a PostgreSQL branch database.
pub fn catalogue(name: &str) -> Db {
    let db = Db::pg(name);
    db.exec(&families::sql(big_bytea_mb()));
    db
}

pub fn entries(suffix: &str) -> Vec<Entry> {
    FAMILIES
        .iter()
        .flat_map(|(t, _, _)| Entry::all_modes(&format!("{t}{suffix}"), t, "id"))
        .collect()
}

/// Values compared and passed per mode, and what failed.
#[derive(Default)]
pub struct Tally {
    pub per_mode: Vec<(&'static str, usize, usize)>,
    pub failures: Vec<String>,
}

impl Tally {
    pub fn print(&self, pair: &str, types: usize) {
        for (mode, passed, total) in &self.per_mode {
            eprintln!("catalogue {pair} {mode}: {types} types, {total} values, {passed} passed");
        }
    }
}

/// Runs the batch twice; every table completes both times and the second
/// run rewrites nothing in upsert and incremental.
pub fn sync_twice(w: &World, failures: &mut Vec<String>) {
    for round in 1..=2 {
        let run = w.sync();
        for (conn, table, status, processed, skipped, error) in &run.progress {
            if status != "completed" {
                failures.push(format!("round {round} {conn}/{table}: {status}: {error:?}"));
            } else if round == 2 && !table.ends_with("_full") && processed != skipped {
                failures.push(format!(
                    "round 2 {conn}/{table}: {} of {processed} rows rewritten (a value changed on the way)",
                    processed - skipped
                ));
            }
        }
        assert!(!run.progress.is_empty(), "{}", run.text);
    }
}

/// Compares every family of `got` (tables `<family>_<mode>`) with the
/// original in `orig`, in meaning.
fn compare(orig: &Db, got: &Db, tally: &mut Tally, exact_to: Option<&Db>) {
    let all: Vec<&str> = FAMILIES.iter().map(|(t, _, _)| *t).collect();
    compare_families(orig, got, tally, exact_to, &all);
}

/// Compares the families `tables` of `got` with the original in `orig`.
pub fn compare_families(
    orig: &Db,
    got: &Db,
    tally: &mut Tally,
    exact_to: Option<&Db>,
    tables: &[&str],
) {
    let mut client = orig.pg_db().client();
    for mode in MODES {
        let (mut passed, mut total) = (0, 0);
        for table in tables {
            let (types, cols) = orig.value_columns(table);
            let want = orig.rows(table, "id", &cols);
            let target = format!("{table}_{mode}");
            let rows = got.rows(&target, "id", &cols);
            let reference = exact_to.map(|db| db.rows(&target, "id", &cols));
            for (r, want_row) in want.iter().enumerate() {
                for (i, (name, ty)) in types.iter().enumerate() {
                    let w = want_row[i + 1].as_deref();
                    if w.is_none() {
                        continue;
                    }
                    total += 1;
                    let g = rows.get(r).and_then(|row| row[i + 1].as_deref());
                    let ok = match &reference {
                        // Same driver both ends: the stored value itself.
                        Some(reference) => {
                            reference.get(r).and_then(|row| row[i + 1].as_deref()) == g
                        }
                        None => same_meaning(&mut client, ty, w, g.map(untagged)),
                    };
                    if ok {
                        passed += 1;
                    } else {
                        tally.failures.push(format!(
                            "{target}.{name} ({ty}) id {}: {g:?} for {w:?}",
                            r + 1
                        ));
                    }
                }
            }
        }
        tally.per_mode.push((mode, passed, total));
    }
}

/// The catalogue in a PostgreSQL branch `name`, synced twice into
/// `central` and compared: the world, the tally and the number of types.
pub fn from_postgres(name: &str, central: Db) -> (World, Tally, usize) {
    let orig = catalogue(name);
    let types = type_count(&orig);
    let dir = tempfile::tempdir().unwrap();
    let w = World::new(dir, vec![("pg_cat".into(), orig)], central, &entries(""));
    let mut tally = Tally::default();
    sync_twice(&w, &mut tally.failures);
    compare(&w.branches[0].1, &w.central, &mut tally, None);
    (w, tally, types)
}

pub fn type_count(db: &Db) -> usize {
    FAMILIES.iter().map(|(t, _, _)| db.types(t).len() - 2).sum()
}

pub fn finish(pair: &str, types: usize, tally: Tally) {
    tally.print(pair, types);
    assert!(
        tally.failures.is_empty(),
        "[{pair}] {} failure(s):\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

#[test]
fn postgres_to_postgres() {
    let (_, tally, types) = from_postgres("cat_pp_src", Db::pg("cat_pp_central"));
    finish("postgres→postgres", types, tally);
}

/// pg → SQLite, then that SQLite file as a branch: SQLite → pg (compared
/// with the PostgreSQL original) and SQLite → SQLite (compared with the
/// first SQLite file, stored value for stored value).
#[test]
fn postgres_to_sqlite_and_back() {
    let orig = catalogue("cat_ps_src");
    let types = type_count(&orig);
    let dir = tempfile::tempdir().unwrap();
    let hop1 = Db::sqlite(dir.path(), "hop1");
    let w1 = World::new(dir, vec![("pg_cat".into(), orig)], hop1, &entries(""));
    let mut t1 = Tally::default();
    sync_twice(&w1, &mut t1.failures);
    compare(&w1.branches[0].1, &w1.central, &mut t1, None);

    // The SQLite file as a branch; its full-mode tables are the source.
    let hop1 = Db::Sqlite(match &w1.central {
        Db::Sqlite(p) => p.clone(),
        Db::Pg(_) | Db::My(_) => unreachable!(),
    });
    let dir2 = tempfile::tempdir().unwrap();
    let w2 = World::new(
        dir2,
        vec![("sq_cat".into(), hop1)],
        Db::pg("cat_sp_central"),
        &[],
    )
    .with_branch_column("origin", &entries("_full"));
    let mut t2 = Tally::default();
    sync_twice(&w2, &mut t2.failures);
    compare(&w1.branches[0].1, &w2.central, &mut t2, None);

    let dir3 = tempfile::tempdir().unwrap();
    let hop3 = Db::sqlite(dir3.path(), "hop3");
    let hop1 = Db::Sqlite(match &w1.central {
        Db::Sqlite(p) => p.clone(),
        Db::Pg(_) | Db::My(_) => unreachable!(),
    });
    let w3 = World::new(dir3, vec![("sq_cat".into(), hop1)], hop3, &[])
        .with_branch_column("origin", &entries("_full"));
    let mut t3 = Tally::default();
    sync_twice(&w3, &mut t3.failures);
    compare(&w1.branches[0].1, &w3.central, &mut t3, Some(&w1.central));

    let mut failures = Vec::new();
    for (pair, t) in [
        ("postgres→sqlite", t1),
        ("sqlite→postgres", t2),
        ("sqlite→sqlite", t3),
    ] {
        t.print(pair, types);
        failures.extend(t.failures.into_iter().map(|f| format!("[{pair}] {f}")));
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A JSON document holding `\u0000` fits `json` and SQLite's text but not
/// `jsonb`: from a PostgreSQL `json` column it arrives unchanged in both
/// targets; from SQLite (JSON → `jsonb`) PostgreSQL refuses it, and the table
/// fails with an error naming the value; nothing of it is written.
#[test]
fn json_nul_escape_is_kept_or_refused_never_changed() {
    let doc = r#"{"a": "x\u0000y"}"#;
    let entries = Entry::all_modes("docs", "docs", "id");
    let pg_branch = || {
        let pg = Db::pg("nul_pg");
        pg.exec(&format!(
            "CREATE TABLE docs (id integer PRIMARY KEY, ts timestamp NOT NULL, body json);
             INSERT INTO docs VALUES (1, '2024-01-01', '{doc}'), (2, '2024-01-01', '{{}}');"
        ));
        vec![("pg_nul".to_owned(), pg)]
    };
    let want = [
        (Some("pg_nul".to_owned()), Some(doc.to_owned())),
        (Some("pg_nul".into()), Some("{}".into())),
    ];

    // PostgreSQL json → PostgreSQL and → SQLite: unchanged.
    let dir = tempfile::tempdir().unwrap();
    let central = Db::sqlite(dir.path(), "nul_central");
    for w in [
        World::new(
            tempfile::tempdir().unwrap(),
            pg_branch(),
            Db::pg("nul_central"),
            &entries,
        ),
        World::new(dir, pg_branch(), central, &entries),
    ] {
        let run = w.sync();
        assert_eq!(run.code, 0, "{}", run.text);
        for mode in MODES {
            let cols = ["branch".to_owned(), "body".to_owned()];
            let rows: Vec<(Option<String>, Option<String>)> = w
                .central
                .rows(&format!("docs_{mode}"), "id", &cols)
                .into_iter()
                .map(|r| {
                    (
                        r[0].as_deref().map(untagged).map(str::to_owned),
                        r[1].as_deref().map(untagged).map(str::to_owned),
                    )
                })
                .collect();
            assert_eq!(rows, want, "docs_{mode} in {}", w.central.driver());
        }
    }

    // SQLite JSON → PostgreSQL jsonb: refused, named, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let branch = Db::sqlite(dir.path(), "nul_branch");
    branch.exec(&format!(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, ts TIMESTAMP NOT NULL, body JSON);
         INSERT INTO docs VALUES (1, '2024-01-01 00:00:00', '{doc}'), (2, '2024-01-01 00:00:00', '{{}}');"
    ));
    let w = World::new(
        dir,
        vec![("sq_nul".into(), branch)],
        Db::pg("nul_central"),
        &entries,
    );
    let run = w.sync();
    assert_eq!(run.code, 1, "{}", run.text);
    for mode in MODES {
        let table = format!("docs_{mode}");
        let failed = run.row("sq_nul", &table);
        assert_eq!(failed.2, "failed", "{table}: {failed:?}");
        let error = failed.5.as_deref().unwrap_or_default();
        assert!(error.contains("\\u0000"), "{table}: {error}");
        let n = w.central.rows(&table, "id", &["id".to_owned()]).len();
        assert_eq!(n, 0, "{table}");
    }
}
