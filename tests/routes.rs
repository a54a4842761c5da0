//! The route a table's rows take (passthrough, range checksums, decoded
//! rows) is stated once, in each driver's registry entry: `sync-all
//! --dry-run` reads it from there for every connection × table, and a real
//! run, which negotiates with the opened endpoints, logs the same route.

mod common;

use assert_cmd::Command;
use branchsync::driver::registry::{self, Route};
use branchsync::driver::{negotiate, Endpoint};
use common::mysql::MyDb;
use common::pg::TestDb;
use std::path::Path;

const PASSTHROUGH: &str =
    "passthrough (postgres-binary-copy) when the column types match, else rows";
const CHECKSUMS: &str =
    "range checksums (postgres-hash128-row-text-v2): only differing key ranges are copied";
const STREAMED: &str = "rows: the whole table in key order, keys not received are deleted";

const TABLES: &str = r#"
[[table]]
model = "Items"
source = "items"
key = ["id"]
mode = "full"

[[table]]
model = "Prices"
source = "prices"
key = ["id"]
mode = "mirror"
"#;

fn config(dir: &Path, target: &str, pg: &str, my: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[journal]
path = "journal.db"

[engine]
retries = 0

[target]
{target}

[[connection]]
name = "pg_branch"
driver = "postgres"
url = "{pg}"

[[connection]]
name = "lite_branch"
driver = "sqlite"
url = "branch.db"

[[connection]]
name = "my_branch"
driver = "mysql"
url = "{my}"
{TABLES}"#
    );
    let path = dir.join("branchsync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(config: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// The bracketed route of `connection`'s line for `table` in a dry run.
fn dry_route(out: &str, connection: &str, table: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(&format!(" {connection} ")) && l.contains(&format!(" {table} ")))
        .unwrap_or_else(|| panic!("no line for {connection}.{table} in:\n{out}"));
    let (_, route) = line.split_once('[').expect("a bracketed route");
    route.trim_end().trim_end_matches(']').to_owned()
}

#[test]
fn dry_run_names_the_route_of_every_pair_from_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let pg = "postgres://nobody@127.0.0.1:1/none";
    let my = "mysql://nobody@127.0.0.1:1/none";
    // Nothing is reached: the routes come from the registry entries.
    let to_pg = config(
        dir.path(),
        &format!("driver = \"postgres\"\nurl = \"{pg}\""),
        pg,
        my,
    );
    let out = run(&to_pg, &["sync-all", "--dry-run"]);
    assert!(out.status.success(), "{out:?}");
    let out = String::from_utf8(out.stdout).unwrap();
    let want = [
        ("pg_branch", "items", PASSTHROUGH),
        ("pg_branch", "prices", CHECKSUMS),
        ("lite_branch", "items", "rows"),
        ("lite_branch", "prices", STREAMED),
        ("my_branch", "items", "rows"),
        ("my_branch", "prices", STREAMED),
    ];
    for (conn, table, route) in want {
        assert_eq!(dry_route(&out, conn, table), route, "{conn}.{table}");
    }

    // Into a MySQL central nothing passes through and nothing bisects.
    let to_my = config(
        dir.path(),
        &format!("driver = \"mysql\"\nurl = \"{my}\""),
        pg,
        my,
    );
    let out = run(&to_my, &["sync-all", "--dry-run"]);
    assert!(out.status.success(), "{out:?}");
    let out = String::from_utf8(out.stdout).unwrap();
    for conn in ["pg_branch", "lite_branch", "my_branch"] {
        assert_eq!(dry_route(&out, conn, "items"), "rows", "{conn}");
        assert_eq!(dry_route(&out, conn, "prices"), STREAMED, "{conn}");
    }
}

/// The endpoints a run opens answer their registry entry's capabilities,
/// and the run logs, per connection × table, the route the dry run named.
#[test]
fn a_real_run_takes_the_route_the_dry_run_names() {
    let dir = tempfile::tempdir().unwrap();
    let central = TestDb::create("bs_routes_central");
    let pg = TestDb::create("bs_routes_pg");
    let my = MyDb::create("bs_routes_my");
    let tables = "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20));
                  INSERT INTO items VALUES (1, 'a'), (2, 'b');
                  CREATE TABLE prices (id INTEGER PRIMARY KEY, price DECIMAL(10,2));
                  INSERT INTO prices VALUES (1, 1.50), (2, 2.25);";
    pg.exec(tables);
    my.exec(tables);
    rusqlite::Connection::open(dir.path().join("branch.db"))
        .unwrap()
        .execute_batch(tables)
        .unwrap();
    let cfg = config(
        dir.path(),
        &format!("driver = \"postgres\"\nurl = \"{}\"", central.url),
        &pg.url,
        &my.url,
    );

    let loaded = branchsync::config::Config::load(&cfg, &registry::Registry).unwrap();
    let engine = &loaded.engine;
    let target = registry::open_endpoint(loaded.target.as_ref().unwrap(), engine, 1).unwrap();
    for c in &loaded.connections {
        let ep: Box<dyn Endpoint> = registry::open_endpoint(c, engine, 1).unwrap();
        let entry = registry::find(&c.driver).unwrap();
        assert_eq!(ep.capabilities(), entry.capabilities, "{}", c.driver);
        for t in &loaded.tables {
            let pairing = negotiate(&ep.capabilities(), &target.capabilities());
            assert_eq!(
                Some(Route::of(&pairing, t.mode)),
                registry::route(&c.driver, "postgres", t.mode),
                "{}.{}",
                c.name,
                t.source
            );
        }
    }

    let dry = run(&cfg, &["sync-all", "--dry-run"]);
    let dry = String::from_utf8(dry.stdout).unwrap();
    let out = run(&cfg, &["-v", "sync-all"]);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    for conn in ["pg_branch", "lite_branch", "my_branch"] {
        for table in ["items", "prices"] {
            let route = dry_route(&dry, conn, table);
            let said = format!("{table} from {conn}: {route}");
            assert!(log.contains(&said), "{said:?} not in the log:\n{log}");
        }
    }
    // And the rows arrived by every route.
    let n: i64 = central
        .client()
        .query_one("SELECT count(*) FROM prices", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 6);
}
