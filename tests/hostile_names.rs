//! Identifier quoting, proven on a real PostgreSQL → PostgreSQL sync: tables,
//! keys, cursors and columns with names built to break SQL (`a"; DROP TABLE
//! x;--`, `Ünïcode "quoted"`, quotes, backslashes, `$1`, mixed case, spaces,
//! path separators) must arrive with their content intact, every canary table
//! must survive, and no file may be written outside the tool's folders.

mod common;

use common::fixture::{code, reliability, Fixture};
use postgres::Client;

/// The test's own identifier quoting (deliberately not the product's).
fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Columns of every hostile table: (name, type).
const COLUMNS: &[(&str, &str)] = &[
    ("a\"; DROP TABLE x;--", "text"),
    ("Ünïcode \"quoted\"", "text"),
    ("MixedCase", "integer"),
    ("with space", "numeric(12,2)"),
    ("$1", "text"),
    ("back\\slash", "text"),
    ("'single'", "text"),
    ("select", "boolean"),
    ("\"", "bytea"),
];

/// Hostile values, one per row.
const VALUES: &[&str] = &[
    "'; DROP TABLE x;--",
    "\"); DROP TABLE x; --",
    "back\\slash \\\\ \\x00 \\N",
    "tab\there\nnew line",
    "Ünïcödé ✓ 𝄞",
    "$1 $$ $body$ %s {}",
];

/// Creates `table` at `c` with `key`/`cursor` columns and hostile data
/// (`branch` varies the content; `null_keys` adds rows without a key).
fn create(c: &mut Client, table: &str, key: &str, cursor: &str, branch: i32, null_keys: bool) {
    let mut cols: Vec<String> = vec![format!(
        "{} integer{}",
        q(key),
        if null_keys { "" } else { " PRIMARY KEY" }
    )];
    cols.push(format!("{} timestamp NOT NULL", q(cursor)));
    cols.extend(COLUMNS.iter().map(|(n, t)| format!("{} {t}", q(n))));
    c.batch_execute(&format!("CREATE TABLE {} ({})", q(table), cols.join(", ")))
        .unwrap();
    let names: Vec<String> = [key, cursor]
        .iter()
        .map(|n| q(n))
        .chain(COLUMNS.iter().map(|(n, _)| q(n)))
        .collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ($1, timestamp '2024-01-01' + $2 * interval '1 minute', $3, $4, $5, $6::text::numeric, $7, $8, $9, $10, $11)",
        q(table),
        names.join(", ")
    );
    let n = 40;
    for i in 0..n {
        let v = VALUES[i as usize % VALUES.len()];
        let key: Option<i32> = if null_keys && i % 10 == 3 {
            None
        } else {
            Some(i + 1)
        };
        c.execute(
            insert.as_str(),
            &[
                &key,
                &(i as f64),
                &format!("{v} #{i} b{branch}"),
                &v,
                &(i * branch),
                &format!("{}.25", i),
                &v.chars().rev().collect::<String>(),
                &"\\",
                &"'",
                &(i % 2 == 0),
                &v.as_bytes().to_vec(),
            ],
        )
        .unwrap();
    }
}

/// (key, content hash) of every row, the branch column left out.
fn rows(
    c: &mut Client,
    table: &str,
    key: &str,
    cursor: &str,
    branch: Option<&str>,
) -> Vec<(Option<String>, String)> {
    let cols: Vec<String> = [key, cursor]
        .iter()
        .map(|n| q(n))
        .chain(COLUMNS.iter().map(|(n, _)| q(n)))
        .collect();
    let sql = format!(
        "SELECT {}::text, md5(ROW({})::text) FROM {} {} ORDER BY 1, 2",
        q(key),
        cols.join(", "),
        q(table),
        if branch.is_some() {
            "WHERE branch = $1"
        } else {
            ""
        }
    );
    let r = match branch {
        Some(b) => c.query(&sql, &[&b]),
        None => c.query(&sql, &[]),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
    r.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// One synced table: (model, source table, target table, key, cursor, mode).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Builds branches and central with canaries, syncs `cases` twice (the
/// second run after changes) and checks content, canaries and files.
fn sync_hostile(cases: &[Case], null_key_table: Option<&str>) -> usize {
    let fx = Fixture::new(2, 10);
    for (i, (_, db)) in fx.branches.iter().enumerate() {
        let mut c = db.client();
        c.batch_execute("CREATE TABLE x (canary text); INSERT INTO x VALUES ('alive');")
            .unwrap();
        let mut made = std::collections::HashSet::new();
        for (_, source, _, key, cursor, _) in cases {
            if made.insert(*source) {
                create(
                    &mut c,
                    source,
                    key,
                    cursor,
                    i as i32 + 1,
                    null_key_table == Some(source),
                );
            }
        }
    }
    fx.central
        .exec("CREATE TABLE x (canary text); INSERT INTO x VALUES ('alive');");
    fx.write_config();
    let mut extra = String::new();
    for (model, source, target, key, cursor, mode) in cases {
        extra += &format!(
            "[[table]]\nmodel = \"{model}\"\nsource = {}\ntarget = {}\nkey = [{}]\nmode = \"{mode}\"\n{}\n",
            toml_str(source),
            toml_str(target),
            toml_str(key),
            if *mode == "incremental" { format!("cursor = {}\n", toml_str(cursor)) } else { String::new() }
        );
    }
    fx.append_config(&extra);
    let models: Vec<&str> = cases.iter().map(|c| c.0).collect();
    let tables = models.join(",");

    for round in 0..2 {
        if round == 1 {
            for (_, db) in &fx.branches {
                let mut c = db.client();
                for (_, source, _, key, cursor, _) in cases {
                    c.batch_execute(&format!(
                        "UPDATE {t} SET {v} = {v} || ' ✎ ''; DROP TABLE x;--', {cur} = {cur} + interval '1 day' WHERE {k} % 7 = 0;
                         DELETE FROM {t} WHERE {k} % 11 = 0 AND {k} > 20;",
                        t = q(source),
                        v = q(COLUMNS[0].0),
                        cur = q(cursor),
                        k = q(key),
                    ))
                    .unwrap();
                }
            }
        }
        let out = fx.run(&["sync-all", "--tables", &tables]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("");
        assert_eq!(code(&out), 0, "round {round}: sync-all failed: {error}");
        let mut central = fx.central.client();
        for (name, db) in &fx.branches {
            let mut src = db.client();
            for (model, source, target, key, cursor, mode) in cases {
                let mut want = rows(&mut src, source, key, cursor, None);
                let got = rows(&mut central, target, key, cursor, Some(name));
                if null_key_table == Some(source) {
                    // Rows without a key are rejected, not copied.
                    want.retain(|r| r.0.is_some());
                }
                if *mode != "full" {
                    // Only full mode reflects deletes: every live row must
                    // be there, as it is now.
                    let have: std::collections::HashSet<_> = got.iter().collect();
                    let missing: Vec<_> = want.iter().filter(|r| !have.contains(r)).collect();
                    assert!(
                        missing.is_empty(),
                        "{model} from {name}, round {round}: {missing:?}"
                    );
                } else {
                    assert_eq!(got, want, "{model} from {name}, round {round}");
                }
            }
        }
    }
    // The canaries survived everywhere.
    for c in [
        &mut fx.central.client(),
        &mut fx.branches[0].1.client(),
        &mut fx.branches[1].1.client(),
    ] {
        let v: String = c.query_one("SELECT canary FROM x", &[]).unwrap().get(0);
        assert_eq!(v, "alive");
    }
    // Reject files stay inside storage/rejects, whatever the table is called.
    if null_key_table.is_some() {
        let storage = fx.dir.path().join("storage");
        let mut stray = Vec::new();
        let mut rejects = 0;
        let mut stack = vec![fx.dir.path().to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "csv") {
                    let batch_dir = p.parent().and_then(|d| d.parent());
                    if batch_dir == Some(storage.join("rejects").as_path()) {
                        rejects += 1;
                    } else {
                        stray.push(p);
                    }
                }
            }
        }
        assert!(
            stray.is_empty(),
            "reject files written outside storage/rejects: {stray:?}"
        );
        assert!(rejects >= 2, "no reject files were written");
    }
    cases.len() * 2 * fx.branches.len()
}

#[test]
fn hostile_table_column_key_and_cursor_names_round_trip() {
    let cases: &[Case] = &[
        (
            "Semicolon",
            "a; DROP TABLE x;--",
            "a; DROP TABLE x;--",
            "id; DROP TABLE x;--",
            "upd'ated",
            "full",
        ),
        (
            "UnicodeUpsert",
            "Ünïcode 'quoted' täble",
            "Ünïcode 'quoted' täble",
            "Kéy 'k' $1",
            "Üpdated at",
            "upsert",
        ),
        (
            "UnicodeIncr",
            "Ünïcode 'quoted' täble",
            "Incrémental; \\ target",
            "Kéy 'k' $1",
            "Üpdated at",
            "incremental",
        ),
        (
            "MixedCase",
            "MixedCase Table",
            "MixedCase Table",
            "Id",
            "Updated",
            "upsert",
        ),
    ];
    let n = sync_hostile(cases, Some("a; DROP TABLE x;--"));
    reliability(
        "hostile table/key/cursor names (;, --, ', \\, $1, unicode, case) and column names with \", full/upsert/incremental, NULL keys",
        n,
        0,
        0,
        "content identical, canary tables alive, reject file inside storage/rejects",
    );
}

/// A target table name that looks like a path must not steer the reject
/// file out of `storage/rejects/<batch>/`.
#[test]
fn path_like_table_names_keep_reject_files_in_place() {
    let cases: &[Case] = &[(
        "PathLike",
        "rej/ects",
        "../../../../escaped",
        "k",
        "u",
        "upsert",
    )];
    let n = sync_hostile(cases, Some("rej/ects"));
    reliability(
        "table names with / and ../ (reject file placement)",
        n,
        0,
        0,
        "content identical, reject files inside storage/rejects/<batch>/",
    );
}

/// The names of the issue itself, with double quotes in table and key names.
#[test]
fn double_quotes_in_table_and_key_names_round_trip() {
    let cases: &[Case] = &[
        (
            "Quoted",
            "a\"; DROP TABLE x;--",
            "a\"; DROP TABLE x;--",
            "Ünïcode \"quoted\" key",
            "upd\"ated",
            "upsert",
        ),
        (
            "QuotedIncr",
            "a\"; DROP TABLE x;--",
            "Ünïcode \"quoted\"",
            "Ünïcode \"quoted\" key",
            "upd\"ated",
            "incremental",
        ),
    ];
    let n = sync_hostile(cases, None);
    reliability(
        "double quotes in table, key and cursor names (a\"; DROP TABLE x;--, Ünïcode \"quoted\")",
        n,
        0,
        0,
        "content identical, canaries alive",
    );
}
