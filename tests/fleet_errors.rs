//! Failures a mixed fleet meets, said so that the operator can act: a
//! source without a primary key that sends one key twice (named, with the
//! value, at a PostgreSQL and at a MySQL central), a value a MySQL central
//! refuses in `upsert` and `mirror` (the same fix as the bulk path), and a
//! PostgreSQL array column next to a central text column (refused, with a
//! fix that runs). Real servers, real binary.

mod common;

use common::mysql::MyDb;
use common::pg::TestDb;
use std::path::{Path, PathBuf};

/// A config with `target` (TOML lines), one connection and one table.
fn config(dir: &Path, target: &str, connection: &str, table: &str) -> PathBuf {
    let text = format!(
        "[journal]\npath = \"journal.db\"\n\n[log]\nfile = \"sync.log\"\n\n[engine]\nretries = 0\n\n\
         [target]\n{target}\n\n[[connection]]\n{connection}\n\n[[table]]\n{table}\n"
    );
    let path = dir.join("branchsync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary; the exit code and everything it printed and logged.
fn run(config: &Path, args: &[&str]) -> (i32, String) {
    let (code, text) = common::fixture::run_config(config, args);
    let log = std::fs::read_to_string(config.with_file_name("sync.log")).unwrap_or_default();
    (code, format!("{text}{log}"))
}

/// A SQLite branch whose `items` has no primary key and holds key 2 twice.
fn repeating_branch(dir: &Path) {
    let c = rusqlite::Connection::open(dir.join("kiosk.db")).unwrap();
    c.execute_batch(
        "CREATE TABLE items (id INTEGER, name TEXT);
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three'), (2, 'two again');",
    )
    .unwrap();
}

const KIOSK: &str = "name = \"sqlite_kiosk\"\ndriver = \"sqlite\"\nurl = \"kiosk.db\"";

fn items(mode: &str) -> String {
    format!("model = \"Items\"\nsource = \"items\"\nkey = [\"id\"]\nmode = \"{mode}\"")
}

const REPEATED: &str = "the source of sqlite_kiosk sent more than one row with key (id) = ('2')";
const DECLARE: &str = "Declare the columns that are unique there as the key of its [[table]]";

#[test]
fn a_postgres_central_names_the_key_a_source_sent_twice() {
    let central = TestDb::create("bs_errors_pg_repeat");
    let dir = tempfile::tempdir().unwrap();
    repeating_branch(dir.path());
    // A PostgreSQL branch too: its rows pass through as binary COPY.
    let pg = TestDb::create("bs_errors_pg_branch");
    pg.exec(
        "CREATE TABLE items (id bigint, name text);
         INSERT INTO items VALUES (1, 'one'), (7, 'seven'), (7, 'seven again');",
    );
    let target = format!("driver = \"postgres\"\nurl = \"{}\"", central.url);
    let path = config(dir.path(), &target, KIOSK, &items("upsert"));
    let (code, out) = run(&path, &["sync-all"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(REPEATED), "{out}");
    assert!(out.contains("table public.items"), "{out}");
    assert!(out.contains(DECLARE), "{out}");
    assert!(!out.contains("cannot affect row a second time"), "{out}");

    let path = config(
        dir.path(),
        &target,
        &format!(
            "name = \"pgsql_b\"\ndriver = \"postgres\"\nurl = \"{}\"",
            pg.url
        ),
        &items("upsert"),
    );
    let (code, out) = run(&path, &["sync-all"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("the source of pgsql_b sent more than one row with key (id) = ('7')"),
        "{out}"
    );
}

#[test]
fn a_mysql_central_names_the_key_a_source_sent_twice_in_upsert_and_mirror() {
    let central = MyDb::create("bs_errors_my_repeat");
    let dir = tempfile::tempdir().unwrap();
    repeating_branch(dir.path());
    let target = format!("driver = \"mysql\"\nurl = \"{}\"", central.url);
    for mode in ["upsert", "mirror"] {
        let path = config(dir.path(), &target, KIOSK, &items(mode));
        let (code, out) = run(&path, &["sync-all"]);
        assert_ne!(code, 0, "{mode}: {out}");
        assert!(out.contains(REPEATED), "{mode}: {out}");
        assert!(out.contains(DECLARE), "{mode}: {out}");
    }
    // Nothing of the refused table was written.
    let n: Option<i64> =
        mysql::prelude::Queryable::query_first(&mut central.conn(), "SELECT count(*) FROM items")
            .unwrap();
    assert_eq!(n, Some(0));
}

#[test]
fn a_value_a_mysql_central_refuses_gets_the_bulk_paths_fix_in_upsert_and_mirror() {
    let central = MyDb::create("bs_errors_my_value");
    // Made ahead: a flag the branch writes as text.
    central.exec(
        "CREATE TABLE flags (branch VARCHAR(255) NOT NULL, id BIGINT NOT NULL, flag ENUM('Y','N'), \
         PRIMARY KEY (branch, id))",
    );
    let dir = tempfile::tempdir().unwrap();
    let c = rusqlite::Connection::open(dir.path().join("kiosk.db")).unwrap();
    c.execute_batch(
        "CREATE TABLE flags (id INTEGER PRIMARY KEY, flag TEXT);
         INSERT INTO flags VALUES (1, 'Y'), (2, 'maybe');",
    )
    .unwrap();
    let target = format!("driver = \"mysql\"\nurl = \"{}\"", central.url);
    let fix = "fix the rows at the branch, or the target column's type";
    for mode in ["full", "upsert", "mirror"] {
        let table =
            format!("model = \"Flags\"\nsource = \"flags\"\nkey = [\"id\"]\nmode = \"{mode}\"");
        let path = config(dir.path(), &target, KIOSK, &table);
        let (code, out) = run(&path, &["sync-all"]);
        assert_ne!(code, 0, "{mode}: {out}");
        let line = out
            .lines()
            .find(|l| l.contains("column 'flag'"))
            .unwrap_or_else(|| panic!("{mode}: no error naming the column in:\n{out}"));
        assert!(line.contains(fix), "{mode}: {line}");
    }
}

#[test]
fn an_array_column_is_refused_next_to_a_central_text_column_with_a_fix_that_runs() {
    let central = TestDb::create("bs_errors_array_central");
    // What another branch (a MySQL SET, say) made: text holding a,b.
    central.exec(
        "CREATE TABLE films (branch text NOT NULL, id bigint NOT NULL, tags text, PRIMARY KEY (branch, id));
         INSERT INTO films VALUES ('mysql_shop', 1, 'Trailers,Commentaries');",
    );
    let pg = TestDb::create("bs_errors_array_branch");
    pg.exec(
        "CREATE TABLE films (id bigint PRIMARY KEY, tags text[]);
         INSERT INTO films VALUES (1, '{Trailers,\"Deleted Scenes\"}');",
    );
    let dir = tempfile::tempdir().unwrap();
    let path = config(
        dir.path(),
        &format!(
            "driver = \"postgres\"\nurl = \"{}\"\npartitions = \"none\"",
            central.url
        ),
        &format!(
            "name = \"pgsql_hq\"\ndriver = \"postgres\"\nurl = \"{}\"",
            pg.url
        ),
        "model = \"Films\"\nsource = \"films\"\nkey = [\"id\"]\nmode = \"upsert\"",
    );
    let (code, out) = run(&path, &["sync-all"]);
    assert_ne!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("column \"tags\": type conflict"))
        .unwrap_or_else(|| panic!("no conflict named in:\n{out}"));
    assert!(
        line.contains("the source has an array, text[], but the target has text"),
        "{line}"
    );
    let rows = |db: &TestDb| -> Vec<(String, String)> {
        db.client()
            .query("SELECT branch, tags::text FROM films ORDER BY 1", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    assert_eq!(
        rows(&central),
        [("mysql_shop".to_owned(), "Trailers,Commentaries".to_owned())]
    );

    // The fix it gives runs, and the branch then syncs.
    let (_, fix) = line
        .split_once("make the target column an array (")
        .unwrap();
    let (alter, _) = fix.split_once("), or have").unwrap();
    central.exec(alter);
    let (code, out) = run(&path, &["sync-all"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        rows(&central),
        [
            (
                "mysql_shop".to_owned(),
                "{Trailers,Commentaries}".to_owned()
            ),
            (
                "pgsql_hq".to_owned(),
                "{Trailers,\"Deleted Scenes\"}".to_owned()
            ),
        ]
    );
}
