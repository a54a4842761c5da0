//! The reported case (issue: identical branches must never conflict): a
//! pagila-shaped schema with a domain over integer, an enum, `text[]`,
//! `tsvector`, `bytea` and a partitioned table, on three branches identical
//! except for their data, synced in every mode into a central database that
//! lacks the domain and the enum, one that has them, and a SQLite file.

use crate::world::{Db, Entry, World};

pub const SCHEMA: &str = r#"
CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
"#;

const TABLES: &str = r#"
CREATE TABLE film (
  film_id integer PRIMARY KEY,
  title text NOT NULL,
  release_year year,
  rating mpaa_rating DEFAULT 'G',
  special_features text[],
  fulltext tsvector NOT NULL,
  poster bytea,
  ts timestamp NOT NULL
);
CREATE TABLE payment (
  payment_id integer NOT NULL,
  amount numeric(5,2) NOT NULL,
  payment_date timestamptz NOT NULL,
  ts timestamp NOT NULL,
  PRIMARY KEY (payment_date, payment_id)
) PARTITION BY RANGE (payment_date);
CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01 00:00+00') TO ('2022-02-01 00:00+00');
CREATE TABLE payment_p2022_02 PARTITION OF payment FOR VALUES FROM ('2022-02-01 00:00+00') TO ('2022-03-01 00:00+00');
"#;

fn data(seed: i64) -> String {
    format!(
        r#"
INSERT INTO film SELECT g, 'FILM ' || g || ' ✓ {seed}', 1990 + (g + {seed}) % 30,
  (ARRAY['G','PG','PG-13','R','NC-17'])[1 + (g + {seed}) % 5]::mpaa_rating,
  CASE WHEN g % 4 = 0 THEN NULL ELSE ARRAY['Trailers', 'Deleted "Scenes"', NULL] END,
  to_tsvector('english', 'A thoughtful drama of a robot and a dog ' || g),
  CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text || '{seed}'), 'hex') END,
  timestamp '2022-01-01' + g * interval '1 minute'
FROM generate_series(1, 40) g;
INSERT INTO payment SELECT g, (g * 1.25 + {seed}) % 999,
  timestamptz '2022-01-20 00:00+00' + g * interval '7 hours', timestamp '2022-01-01' + g * interval '1 second'
FROM generate_series(1, 60) g;
"#
    )
}

fn entries() -> Vec<Entry> {
    let mut e = Entry::all_modes("film", "film", "film_id");
    e.extend(Entry::all_modes("payment", "payment", "payment_id"));
    e
}

const BRANCHES: [&str; 3] = ["pg_one", "pg_two", "pg_three"];

fn world(central: Db, dir: tempfile::TempDir) -> World {
    let branches = BRANCHES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let db = Db::pg(&format!("ident_{name}"));
            db.exec(SCHEMA);
            db.exec(TABLES);
            db.exec(&data(i as i64));
            ((*name).to_owned(), db)
        })
        .collect();
    World::new(dir, branches, central, &entries())
}

/// Runs the batch twice: both complete; the second writes nothing in the
/// modes that compare (every row identical, so every row skipped).
fn sync_twice(w: &World) {
    for round in 1..=2 {
        let run = w.sync();
        assert_eq!(run.code, 0, "round {round}:\n{}", run.text);
        for (conn, table, status, processed, skipped, error) in &run.progress {
            assert_eq!(
                status, "completed",
                "round {round} {conn}/{table}: {error:?}"
            );
            if round == 2 && !table.ends_with("_full") {
                assert_eq!(processed, skipped, "round 2 {conn}/{table} rewrote rows");
            }
        }
        assert_eq!(
            run.progress.len(),
            BRANCHES.len() * 2 * crate::world::MODES.len(),
            "{}",
            run.text
        );
    }
}

fn assert_content(w: &World) {
    w.assert_arrived(&[("film", "film_id"), ("payment", "payment_id")]);
}

fn column_type(w: &World, table: &str, column: &str) -> String {
    w.central
        .types(table)
        .into_iter()
        .find(|(n, _)| n == column)
        .unwrap()
        .1
}

#[test]
fn three_identical_branches_into_a_bare_central() {
    let w = world(Db::pg("ident_central_bare"), tempfile::tempdir().unwrap());
    sync_twice(&w);
    for mode in crate::world::MODES {
        let t = format!("film_{mode}");
        assert_eq!(column_type(&w, &t, "release_year"), "integer");
        assert_eq!(column_type(&w, &t, "rating"), "text");
        assert_eq!(column_type(&w, &t, "special_features"), "text[]");
        assert_eq!(column_type(&w, &t, "fulltext"), "tsvector");
    }
    assert_content(&w);
}

#[test]
fn three_identical_branches_into_a_central_with_the_same_types() {
    let central = Db::pg("ident_central_typed");
    central.exec(SCHEMA);
    let w = world(central, tempfile::tempdir().unwrap());
    sync_twice(&w);
    for mode in crate::world::MODES {
        let t = format!("film_{mode}");
        assert_eq!(column_type(&w, &t, "release_year"), "year");
        assert_eq!(column_type(&w, &t, "rating"), "mpaa_rating");
    }
    assert_content(&w);
}

#[test]
fn three_identical_branches_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let central = Db::sqlite(dir.path(), "central");
    let w = world(central, dir);
    sync_twice(&w);
    assert_eq!(column_type(&w, "film_full", "release_year"), "INTEGER");
    assert_eq!(column_type(&w, "film_full", "rating"), "TEXT");
    assert_content(&w);
}

/// A central made by an earlier version (the domain as `bigint`, the enum
/// as `text`) takes every branch: both are widenings of the base types.
#[test]
fn a_central_made_by_kind_is_accepted() {
    let central = Db::pg("ident_central_old");
    for mode in crate::world::MODES {
        central.exec(&format!(
            "CREATE TABLE film_{mode} (branch text NOT NULL, film_id integer, title text NOT NULL, release_year bigint,
               rating text, special_features text[], fulltext tsvector NOT NULL, poster bytea, ts timestamp NOT NULL,
               PRIMARY KEY (branch, film_id))"
        ));
    }
    let w = world(central, tempfile::tempdir().unwrap());
    sync_twice(&w);
    assert_content(&w);
}

/// A narrower central column of the same type (`smallint` for the
/// branches' `integer`) is widened once by the batch's plan, before any
/// copy: every branch arrives.
#[test]
fn a_narrower_central_column_is_widened_by_the_plan() {
    let central = Db::pg("ident_central_narrow");
    for mode in crate::world::MODES {
        central.exec(&format!(
            "CREATE TABLE film_{mode} (branch text NOT NULL, film_id integer, title text NOT NULL, release_year smallint,
               rating text, special_features text[], fulltext tsvector NOT NULL, poster bytea, ts timestamp NOT NULL,
               PRIMARY KEY (branch, film_id))"
        ));
    }
    let w = world(central, tempfile::tempdir().unwrap());
    sync_twice(&w);
    for mode in crate::world::MODES {
        let t = format!("film_{mode}");
        assert_eq!(column_type(&w, &t, "release_year"), "integer");
    }
    assert_content(&w);
}

/// A central column of another type (`boolean` for the branches' year) is
/// not changed by a branch: each copy is refused before any row moves,
/// naming the table, the column, both types (the domain with its base) and
/// a fix that keeps every value; run at the central, the fix lets every
/// branch arrive.
#[test]
fn a_central_column_of_another_type_is_refused_with_a_fix_that_runs() {
    let central = Db::pg("ident_central_other");
    for mode in crate::world::MODES {
        central.exec(&format!(
            "CREATE TABLE film_{mode} (branch text NOT NULL, film_id integer, title text NOT NULL, release_year boolean,
               rating text, special_features text[], fulltext tsvector NOT NULL, poster bytea, ts timestamp NOT NULL,
               PRIMARY KEY (branch, film_id))"
        ));
    }
    let w = world(central, tempfile::tempdir().unwrap());
    let run = w.sync();
    assert_eq!(run.code, 1, "{}", run.text);
    let mut fixes = std::collections::BTreeSet::new();
    for branch in BRANCHES {
        for mode in crate::world::MODES {
            let table = format!("film_{mode}");
            let row = run.row(branch, &table);
            assert_eq!(row.2, "failed", "{branch}/{table}");
            let error = row.5.as_deref().unwrap_or_default();
            for part in [
                "film_",
                "\"release_year\"",
                "year (over integer)",
                "boolean",
                "ALTER TABLE",
            ] {
                assert!(error.contains(part), "{part:?} missing from: {error}");
            }
            assert_eq!(row.3, 0, "no row moved: {row:?}");
            let fix = error
                .split_once("(ALTER TABLE")
                .and_then(|(_, rest)| rest.rsplit_once(") or the source"))
                .map(|(sql, _)| format!("ALTER TABLE{sql}"))
                .unwrap_or_else(|| panic!("no fix in: {error}"));
            fixes.insert(fix);
        }
        assert_eq!(run.row(branch, "payment_full").2, "completed");
    }
    for fix in &fixes {
        w.central.exec(fix);
    }
    sync_twice(&w);
    assert_content(&w);
}

/// Into a MySQL central: the domain over integer is a `BIGINT`, the enum a
/// `LONGTEXT`, a domain over `varchar(10)` a `VARCHAR(10)` (as the plain
/// `varchar(10)` of an identical branch: the limit the source enforces is
/// kept), three identical branches never conflict, and every value
/// arrives equal in meaning.
#[test]
fn three_identical_branches_into_mysql() {
    let central = Db::mysql("ident_central_my");
    let w = world(central, tempfile::tempdir().unwrap());
    for (_, db) in &w.branches {
        db.exec(
            "CREATE DOMAIN code AS varchar(10);
             ALTER TABLE film ADD COLUMN film_code code, ADD COLUMN plain_code varchar(10);
             UPDATE film SET film_code = 'F-' || film_id, plain_code = 'F-' || film_id",
        );
    }
    sync_twice(&w);
    for mode in crate::world::MODES {
        let t = format!("film_{mode}");
        assert!(column_type(&w, &t, "release_year").starts_with("bigint"));
        assert_eq!(column_type(&w, &t, "rating"), "longtext");
        assert_eq!(column_type(&w, &t, "film_code"), "varchar(10)");
        assert_eq!(column_type(&w, &t, "plain_code"), "varchar(10)");
    }
    for branch in BRANCHES {
        let rows = w.central.rows("film_full", "film_id", &["branch".into()]);
        let n = rows
            .iter()
            .filter(|r| r[0].as_deref() == Some(branch))
            .count();
        assert_eq!(n, 40, "{branch}");
    }
}
