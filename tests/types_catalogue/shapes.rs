//! The shapes real schemas have (docs/TYPES.md, "Shapes"), synced in every
//! mode from PostgreSQL into PostgreSQL and SQLite: generated and identity
//! columns, hostile column names, a 1,200-column table, an inheritance
//! parent, a table without a primary key (the key only in the config), and
//! citext with and without the extension at the central.

use crate::world::{Db, Entry, World};

const SHAPES: &str = r#"
CREATE TABLE sh_generated (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  serial_no serial,
  qty integer NOT NULL,
  price numeric(8,2) NOT NULL,
  total numeric GENERATED ALWAYS AS (qty * price) STORED,
  ts timestamp NOT NULL
);
INSERT INTO sh_generated (qty, price, ts)
  SELECT g, g * 1.25, timestamp '2024-01-01' + g * interval '1 minute' FROM generate_series(1, 20) g;

CREATE TABLE "sh names" (
  "order" integer PRIMARY KEY,
  "select" text,
  "with space" text,
  "quo""te" text,
  "ünï✓" text,
  "UPPER" integer,
  "from" timestamp NOT NULL
);
INSERT INTO "sh names" SELECT g, 'sel ' || g, 'sp ' || g, 'q"' || g, 'ü' || g, g, timestamp '2024-01-01' + g * interval '1 hour'
  FROM generate_series(1, 10) g;

CREATE TABLE sh_parent (id integer PRIMARY KEY, ts timestamp NOT NULL, v text);
CREATE TABLE sh_child (extra text) INHERITS (sh_parent);
INSERT INTO sh_parent SELECT g, timestamp '2024-01-01' + g * interval '1 hour', 'parent ' || g FROM generate_series(1, 5) g;
INSERT INTO sh_child SELECT g, timestamp '2024-01-01' + g * interval '1 hour', 'child ' || g, 'x' FROM generate_series(6, 10) g;

CREATE TABLE sh_nopk (code text NOT NULL, ts timestamp NOT NULL, v integer);
INSERT INTO sh_nopk SELECT 'C-' || g, timestamp '2024-01-01' + g * interval '1 hour', g FROM generate_series(1, 10) g;
"#;

/// `CREATE TABLE sh_wide` with `n` value columns of rotating types, and rows.
fn wide(n: usize) -> String {
    let types = [
        "integer",
        "text",
        "numeric(10,2)",
        "boolean",
        "timestamp",
        "bytea",
    ];
    let cols: Vec<String> = (0..n)
        .map(|i| format!("c{i:04} {}", types[i % types.len()]))
        .collect();
    let vals = |row: usize| -> Vec<String> {
        (0..n)
            .map(|i| match (i + row) % 7 {
                6 => "NULL".to_owned(),
                _ => match i % types.len() {
                    0 => format!("{}", i * 1000 + row),
                    1 => format!("'t{i} r{row} ✓'"),
                    2 => format!("{i}.{row:02}"),
                    3 => format!("{}", (i + row).is_multiple_of(2)),
                    4 => format!("timestamp '2024-01-01' + interval '{i} minutes {row} seconds'"),
                    _ => format!("'\\x{:02x}{:02x}'", i % 256, row),
                },
            })
            .collect()
    };
    let mut s = format!(
        "CREATE TABLE sh_wide (id integer PRIMARY KEY, ts timestamp NOT NULL, {});\n",
        cols.join(", ")
    );
    for row in 1..=5 {
        s += &format!(
            "INSERT INTO sh_wide VALUES ({row}, timestamp '2024-01-01' + interval '{row} hours', {});\n",
            vals(row).join(", ")
        );
    }
    s
}

const WIDE_COLUMNS: usize = 1200;

fn entries() -> Vec<Entry> {
    let mut e = Vec::new();
    for (table, key, cursor) in [
        ("sh_generated", "id", "ts"),
        ("sh names", "order", "from"),
        ("sh_parent", "id", "ts"),
        ("sh_nopk", "code", "ts"),
        ("sh_wide", "id", "ts"),
    ] {
        for mut entry in Entry::all_modes(table, table, key) {
            if entry.cursor.is_some() {
                entry.cursor = Some(cursor.to_owned());
            }
            e.push(entry);
        }
    }
    e
}

fn branch() -> Db {
    let db = Db::pg("shapes_src");
    db.exec(SHAPES);
    db.exec(&wide(WIDE_COLUMNS));
    db
}

fn check(w: &World) {
    for round in 1..=2 {
        let run = w.sync();
        assert_eq!(run.code, 0, "round {round}:\n{}", run.text);
        for (conn, table, status, processed, skipped, error) in &run.progress {
            assert_eq!(status, "completed", "{conn}/{table}: {error:?}");
            if round == 2 && !table.ends_with("_full") {
                assert_eq!(processed, skipped, "round 2 {conn}/{table} rewrote rows");
            }
        }
    }
    w.assert_arrived(&[
        ("sh_generated", "id"),
        ("sh names", "order"),
        ("sh_parent", "id"),
        ("sh_nopk", "code"),
        ("sh_wide", "id"),
    ]);
}

#[test]
fn shapes_into_postgres() {
    let w = World::new(
        tempfile::tempdir().unwrap(),
        vec![("pg_shapes".into(), branch())],
        Db::pg("shapes_central"),
        &entries(),
    );
    check(&w);
    // Identity, serial and generated columns arrive as plain columns
    // holding the branch's values.
    let flags: Vec<(String, String, String, bool)> = w
        .central
        .pg_db()
        .client()
        .query(
            "SELECT attname::text, attidentity::text, attgenerated::text, atthasdef FROM pg_attribute
             WHERE attrelid = 'sh_generated_full'::regclass AND attnum > 0 ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    for (name, identity, generated, has_default) in flags {
        assert!(
            identity.is_empty() && generated.is_empty() && !has_default,
            "{name}"
        );
    }
    assert_eq!(w.central.columns("sh_wide_full").len(), WIDE_COLUMNS + 3);
}

#[test]
fn shapes_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let central = Db::sqlite(dir.path(), "central");
    let w = World::new(
        dir,
        vec![("pg_shapes".into(), branch())],
        central,
        &entries(),
    );
    check(&w);
    assert_eq!(w.central.columns("sh_wide_full").len(), WIDE_COLUMNS + 3);
}

/// citext becomes `text` at a central without the extension and stays
/// `citext` at one with it; both hold the branch's exact values.
#[test]
fn citext_with_and_without_the_extension() {
    let make_branch = || {
        let db = Db::pg("citext_src");
        db.exec(
            "CREATE EXTENSION citext;
             CREATE TABLE sh_citext (id integer PRIMARY KEY, ts timestamp NOT NULL, email citext, tags citext[]);
             INSERT INTO sh_citext VALUES (1, '2024-01-01', 'Ann@Example.COM', '{A,b}'), (2, '2024-01-01', 'ünï', NULL);",
        );
        vec![("pg_citext".to_owned(), db)]
    };
    let entries = Entry::all_modes("sh_citext", "sh_citext", "id");
    let with_ext = Db::pg("citext_central_ext");
    with_ext.exec("CREATE EXTENSION citext");
    for (central, want) in [
        (Db::pg("citext_central_bare"), ["text", "text[]"]),
        (with_ext, ["citext", "citext[]"]),
    ] {
        let w = World::new(
            tempfile::tempdir().unwrap(),
            make_branch(),
            central,
            &entries,
        );
        for _ in 0..2 {
            let run = w.sync();
            assert_eq!(run.code, 0, "{}", run.text);
        }
        let types = w.central.types("sh_citext_full");
        assert_eq!(types[3].1, want[0]);
        assert_eq!(types[4].1, want[1]);
        w.assert_arrived(&[("sh_citext", "id")]);
    }
}
