//! Domains and enums beyond the binary passthrough, and what becomes of a
//! domain's CHECK (docs/TYPES.md, "Domains, enums and their checks").
//!
//! The passthrough streams PostgreSQL's binary COPY only when every column
//! of the central table has exactly the branch's type; otherwise each value
//! is decoded to its kind and written as text. The catalogue's domain, enum,
//! array (of enums and domains) and composite families are synced through
//! that decoded path, into a central without the types (base types), into
//! one with the types whose tables differ in another column (the `ts`
//! cursor is `timestamptz` there), and into SQLite and MySQL, and compared
//! with the passthrough into a central that has the types.

use crate::catalogue::{catalogue, compare_families, entries, sync_twice, Tally};
use crate::families::{FAMILIES, TYPES};
use crate::world::{Db, Entry, World, MODES};

const DOMAIN_FAMILIES: [&str; 4] = ["cat_domain", "cat_enum", "cat_array", "cat_composite"];

fn domain_entries() -> Vec<Entry> {
    entries("")
        .into_iter()
        .filter(|e| DOMAIN_FAMILIES.iter().any(|f| e.source == *f))
        .collect()
}

/// The central tables of the domain families made ahead, with the branch's
/// types but `ts timestamptz`: every table differs from the branch's in
/// one column, so none takes the passthrough.
fn tables_with_another_ts(central: &Db) {
    for (table, columns, _) in FAMILIES {
        if !DOMAIN_FAMILIES.contains(table) {
            continue;
        }
        for mode in MODES {
            central.exec(&format!(
                "CREATE TABLE {table}_{mode} (branch text NOT NULL, id integer NOT NULL, \
                 ts timestamptz NOT NULL, {columns}, PRIMARY KEY (branch, id))"
            ));
        }
    }
}

/// The type of `column` of the central table `table`.
fn central_type(db: &Db, table: &str, column: &str) -> String {
    let types = db.types(table);
    let t = types.iter().find(|(n, _)| n == column);
    t.unwrap_or_else(|| panic!("{table}.{column}: {types:?}"))
        .1
        .clone()
}

#[test]
fn domains_and_enums_through_the_decoded_path() {
    let dir = tempfile::tempdir().unwrap();
    let with_types = Db::pg("dom_typed");
    with_types.exec(TYPES);
    let with_types_other_ts = Db::pg("dom_typed_ts");
    with_types_other_ts.exec(TYPES);
    tables_with_another_ts(&with_types_other_ts);
    // (pair, central, what c_year and c_mood become at the central, and
    // the column a PostgreSQL central names when it decodes the rows)
    let cases = [
        (
            "postgres→postgres, central without the types (decoded)",
            Db::pg("dom_bare"),
            Some(("integer", "text")),
            Some(r#"column "c_year" is year at the source and integer here"#),
        ),
        (
            "postgres→postgres, central with the types, ts differs (decoded)",
            with_types_other_ts,
            Some(("year", "mood")),
            Some(
                r#"column "ts" is timestamp without time zone at the source and timestamp with time zone here"#,
            ),
        ),
        (
            "postgres→postgres, central with the types (passthrough)",
            with_types,
            Some(("year", "mood")),
            None,
        ),
        (
            "postgres→sqlite (decoded)",
            Db::sqlite(dir.path(), "dom"),
            None,
            None,
        ),
        (
            "postgres→mysql (decoded)",
            Db::mysql("dom_central"),
            None,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (i, (pair, central, want, decoded)) in cases.into_iter().enumerate() {
        let orig = catalogue(&format!("dom_src_{i}"));
        let types: usize = DOMAIN_FAMILIES
            .iter()
            .map(|t| orig.types(t).len() - 2)
            .sum();
        let w = World::new(
            tempfile::tempdir().unwrap(),
            vec![("pg_cat".into(), orig)],
            central,
            &domain_entries(),
        );
        let mut tally = Tally::default();
        if w.central.driver() == "postgres" {
            // The route each table took, as the central logs it at -v.
            let log = w.sync_with(&["-v"]).text;
            let said = log.lines().filter(|l| l.contains("rows decoded")).count();
            match decoded {
                Some(column) if !log.contains(column) => tally
                    .failures
                    .push(format!("not decoded for {column}:\n{log}")),
                None if said > 0 => tally.failures.push(format!("decoded:\n{log}")),
                _ => {}
            }
        }
        sync_twice(&w, &mut tally.failures);
        compare_families(
            &w.branches[0].1,
            &w.central,
            &mut tally,
            None,
            &DOMAIN_FAMILIES,
        );
        if let Some((year, mood)) = want {
            for mode in MODES {
                let got = (
                    central_type(&w.central, &format!("cat_domain_{mode}"), "c_year"),
                    central_type(&w.central, &format!("cat_enum_{mode}"), "c_mood"),
                );
                if got != (year.to_owned(), mood.to_owned()) {
                    tally
                        .failures
                        .push(format!("{mode}: central types {got:?}"));
                }
            }
        }
        tally.print(pair, types);
        failures.extend(tally.failures.into_iter().map(|f| format!("[{pair}] {f}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A central that lacks the domain stores its base type with no CHECK: it
/// takes a value the branch's domain refuses when another branch sends it
/// (here a branch whose column is a plain `integer`). A central that has a
/// domain of the same name applies its own CHECK: a branch value it refuses
/// fails the table in every mode, naming the constraint, and no row of that
/// batch is written.
#[test]
fn a_domain_check_is_the_centrals_own() {
    let checked = |name: &str, values: &str| {
        let db = Db::pg(name);
        db.exec(&format!(
            "CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE > 0);
             CREATE TABLE films (id integer PRIMARY KEY, ts timestamp NOT NULL, y year);
             INSERT INTO films VALUES {values};"
        ));
        db
    };
    let plain = Db::pg("domck_plain");
    plain.exec(
        "CREATE TABLE films (id integer PRIMARY KEY, ts timestamp NOT NULL, y integer);
         INSERT INTO films VALUES (1, '2024-01-01', -5), (2, '2024-01-01', 0);",
    );
    let entries = Entry::all_modes("films", "films", "id");
    let w = World::new(
        tempfile::tempdir().unwrap(),
        vec![
            (
                "checked".into(),
                checked("domck_a", "(1, '2024-01-01', 1999)"),
            ),
            ("plain".into(), plain),
        ],
        Db::pg("domck_central"),
        &entries,
    );
    let run = w.sync();
    assert_eq!(run.code, 0, "{}", run.text);
    let mut client = w.central.pg_db().client();
    for mode in MODES {
        let table = format!("films_{mode}");
        assert_eq!(central_type(&w.central, &table, "y"), "integer");
        let checks: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = $1::text::regclass AND contype = 'c'",
                &[&table],
            )
            .unwrap()
            .get(0);
        assert_eq!(checks, 0, "{table} has no CHECK");
        let rows = w.central.rows(&table, "id", &["y".into(), "branch".into()]);
        let got: Vec<(Option<String>, Option<String>)> = rows
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let mut want = vec![
            (Some("1999".into()), Some("checked".into())),
            (Some("-5".into()), Some("plain".into())),
            (Some("0".into()), Some("plain".into())),
        ];
        want.sort();
        let mut got = got;
        got.sort();
        assert_eq!(
            got, want,
            "{table}: what the branch's domain refuses is taken"
        );
    }

    // A central with its own, stricter `year`.
    let central = Db::pg("domck_strict");
    central.exec("CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE > 2000);");
    let w = World::new(
        tempfile::tempdir().unwrap(),
        vec![(
            "checked".into(),
            checked(
                "domck_b",
                "(1, '2024-01-01', 2024), (2, '2024-01-01', 1999)",
            ),
        )],
        central,
        &entries,
    );
    let run = w.sync();
    assert_eq!(run.code, 1, "{}", run.text);
    for mode in MODES {
        let table = format!("films_{mode}");
        assert_eq!(central_type(&w.central, &table, "y"), "year");
        let failed = run.row("checked", &table);
        assert_eq!(failed.2, "failed", "{table}: {failed:?}");
        let error = failed.5.as_deref().unwrap_or_default();
        assert!(error.contains("year_check"), "{table}: {error}");
        let n = w.central.rows(&table, "id", &["id".to_owned()]).len();
        assert_eq!(n, 0, "{table}: no row of the failed batch");
    }
}
