//! One `[[table]]` for a mixed fleet that keeps the table under different
//! names: a PostgreSQL branch in schema `adempiere`, a MariaDB branch
//! (`driver = "mariadb"`) in another database and under another name, and a
//! SQLite file, synced into one PostgreSQL central. `check` and the dry run
//! name the table each connection reads; the sync reads it there. Real
//! servers, real binary.

mod common;

use common::mysql::MyDb;
use common::pg::TestDb;
use std::path::{Path, PathBuf};

/// The branches: the same three products (ids 1–3) at each, with the name
/// saying where it came from.
struct Fleet {
    central: TestDb,
    pg: TestDb,
    /// The MariaDB database the URL names (it holds nothing of ours).
    entry: MyDb,
    /// The MariaDB database holding the table, as `products`.
    shop: MyDb,
    dir: tempfile::TempDir,
}

impl Fleet {
    fn new() -> Fleet {
        let central = TestDb::create("bs_names_central");
        let pg = TestDb::create("bs_names_pg");
        pg.exec(
            "CREATE SCHEMA adempiere;
             CREATE TABLE adempiere.m_product (m_product_id bigint PRIMARY KEY, name text, qty bigint);
             INSERT INTO adempiere.m_product VALUES (1, 'pg one', 10), (2, 'pg two', 20), (3, 'pg three', 30);
             -- the same name in public must not be read
             CREATE TABLE public.m_product (m_product_id bigint PRIMARY KEY, name text, qty bigint);
             INSERT INTO public.m_product VALUES (99, 'public, not adempiere', 0);",
        );
        let entry = MyDb::create("bs_names_entry");
        let shop = MyDb::create("bs_names_shop");
        shop.exec(
            "CREATE TABLE products (m_product_id BIGINT PRIMARY KEY, name TEXT, qty BIGINT);
             INSERT INTO products VALUES (1, 'maria one', 11), (2, 'maria two', 21), (3, 'maria three', 31);",
        );
        let dir = tempfile::tempdir().unwrap();
        let lite = rusqlite::Connection::open(dir.path().join("kiosk.db")).unwrap();
        lite.execute_batch(
            "CREATE TABLE m_product (m_product_id INTEGER PRIMARY KEY, name TEXT, qty INTEGER);
             INSERT INTO m_product VALUES (1, 'lite one', 12), (2, 'lite two', 22), (3, 'lite three', 32);",
        )
        .unwrap();
        Fleet {
            central,
            pg,
            entry,
            shop,
            dir,
        }
    }

    /// The config: `source = "m_product"` for all, the PostgreSQL
    /// connection's schema, the MariaDB connection's own name for it.
    fn config(&self) -> PathBuf {
        let text = format!(
            r#"
[journal]
path = "journal.db"

[engine]
retries = 0

[target]
driver = "postgres"
url = "{central}"

[[connection]]
name = "pgsql_hq"
driver = "postgres"
url = "{pg}"
schema = "adempiere"

[[connection]]
name = "maria_shop"
driver = "mariadb"
url = "{entry}"
schema = "{shop}"

[[connection]]
name = "sqlite_kiosk"
driver = "sqlite"
url = "kiosk.db"

[[table]]
model = "MProduct"
source = "m_product"
key = ["m_product_id"]
mode = "upsert"

[table.sources]
maria_shop = "products"
"#,
            central = self.central.url,
            pg = self.pg.url,
            entry = self.entry.url,
            shop = self.shop.name,
        );
        let path = self.dir.path().join("branchsync.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn run(config: &Path, args: &[&str]) -> (i32, String) {
    common::fixture::run_config(config, args)
}

/// The report lines of one server in `check`'s output.
fn section<'a>(out: &'a str, title: &str) -> &'a str {
    let start = out
        .find(title)
        .unwrap_or_else(|| panic!("no {title:?} in:\n{out}"));
    let rest = &out[start..];
    let end = rest[1..].find("\n\n").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn one_table_entry_serves_a_postgres_a_mariadb_and_a_sqlite_branch() {
    let fleet = Fleet::new();
    let config = fleet.config();

    let (code, out) = run(&config, &["check"]);
    assert_eq!(code, 0, "{out}");
    let pg = section(&out, "connection pgsql_hq (postgres)");
    assert!(
        pg.contains("✓ adempiere.m_product: 3 columns, key m_product_id"),
        "{pg}"
    );
    let maria = section(&out, "connection maria_shop (mariadb)");
    let want = format!(
        "✓ {}.products: 3 columns, key m_product_id",
        fleet.shop.name
    );
    assert!(maria.contains(&want), "{maria}");
    let lite = section(&out, "connection sqlite_kiosk (sqlite)");
    assert!(
        lite.contains("✓ m_product: 3 columns, key m_product_id"),
        "{lite}"
    );

    let (code, out) = run(&config, &["sync-all", "--dry-run"]);
    assert_eq!(code, 0, "{out}");
    for (conn, source) in [
        ("pgsql_hq", "adempiere.m_product".to_owned()),
        ("maria_shop", format!("{}.products", fleet.shop.name)),
        ("sqlite_kiosk", "m_product".to_owned()),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!(" {conn} ")) && l.contains(&format!(" {source} "))),
            "{conn} reads {source}:\n{out}"
        );
    }

    let (code, out) = run(&config, &["sync-all"]);
    assert_eq!(code, 0, "{out}");
    let rows: Vec<(String, i64, String, i64)> = fleet
        .central
        .client()
        .query(
            "SELECT branch, m_product_id, name, qty FROM public.m_product ORDER BY 1, 2",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    let mut want = Vec::new();
    for (branch, label, base) in [
        ("maria_shop", "maria", 11),
        ("pgsql_hq", "pg", 10),
        ("sqlite_kiosk", "lite", 12),
    ] {
        for (i, word) in [(1, "one"), (2, "two"), (3, "three")] {
            want.push((
                branch.to_owned(),
                i,
                format!("{label} {word}"),
                base + 10 * (i - 1),
            ));
        }
    }
    assert_eq!(rows, want);
}

/// Without the per-connection names, each branch looks where `source`
/// alone says, and the two that keep the table elsewhere fail, naming the
/// table they looked for.
#[test]
fn without_them_check_names_the_table_each_connection_missed() {
    let fleet = Fleet::new();
    let config = fleet.config();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("schema = \"adempiere\"\n", "")
        .replace("[table.sources]\nmaria_shop = \"products\"\n", "");
    std::fs::write(&config, text).unwrap();
    let (code, out) = run(&config, &["check"]);
    assert_eq!(code, 1, "{out}");
    // PostgreSQL reads public.m_product: a table, but the wrong one is
    // still a table; the MariaDB connection finds nothing.
    let maria = section(&out, "connection maria_shop (mariadb)");
    let want = format!(
        "✗ {}.m_product: table missing on maria_shop",
        fleet.shop.name
    );
    assert!(maria.contains(&want), "{maria}");
    assert!(maria.contains("sources.maria_shop = "), "{maria}");
}
