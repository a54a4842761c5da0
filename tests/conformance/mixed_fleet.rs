//! A mixed fleet into one PostgreSQL central: the same rental-shop schema
//! at a MariaDB, a SQLite and a PostgreSQL branch, each in its engine's own
//! idiom (`sakila.rs`). Every slice arrives, every value is what the type
//! lattice says (docs/TYPES.md), and the central's DDL is byte for byte the
//! same for every branch order and thread count: the batch plans each
//! central table from every branch before any copy.

use super::sakila::{self, tables, Col, ROWS};
use super::world::Db;
use std::path::{Path, PathBuf};
use std::process::Command;

const BRANCHES: [(&str, &str); 3] = [("maria", "mysql"), ("lite", "sqlite"), ("pgb", "postgres")];

struct Fleet {
    dir: tempfile::TempDir,
    branches: Vec<(&'static str, &'static str, Db)>,
}

fn fleet() -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let branches = BRANCHES
        .iter()
        .map(|(name, engine)| {
            let db = Db::create(engine, dir.path(), &format!("mixed_{name}"));
            db.exec(&sakila::script(engine));
            (*name, *engine, db)
        })
        .collect();
    Fleet { dir, branches }
}

impl Fleet {
    /// A config with the connections in `order` (indices into BRANCHES).
    fn config(
        &self,
        central: &Db,
        order: &[usize],
        mode: &str,
        threads: usize,
        extra: &str,
    ) -> PathBuf {
        let mut s = format!(
            "[journal]\npath = \"storage/j.db\"\n\n[engine]\nthreads = {threads}\nretries = 0\n\
             connect_timeout = \"5s\"\nstatement_timeout = \"2m\"\n\n\
             [target]\ndriver = \"postgres\"\nurl = \"{}\"\nbranch_column = \"branch\"\n\n",
            central.url()
        );
        for &i in order {
            let (name, engine, db) = &self.branches[i];
            s += &format!(
                "[[connection]]\nname = \"{name}\"\ndriver = \"{engine}\"\nurl = \"{}\"\n\n",
                db.url()
            );
        }
        s += &sakila::table_entries(mode);
        s += extra;
        let path = self.dir.path().join("branchsync.toml");
        std::fs::write(&path, s).unwrap();
        path
    }
}

fn run(config: &Path, args: &[&str]) -> (i32, String) {
    let (code, text) = crate::common::fixture::run_config(config, args);
    (code, format!("$ branchsync {}\n{text}", args.join(" ")))
}

/// The central's schema as `pg_dump --schema-only` prints it.
fn central_ddl(central: &Db) -> String {
    let out = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges", "-d"])
        .arg(central.url())
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `\restrict` lines carry a random key per dump.
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every value of every table at the central equals what its branch holds,
/// after the lattice's conversions; every column has the planned type.
fn check_values(central: &Db) {
    let Db::Pg(db) = central else { unreachable!() };
    let mut c = db.client();
    for (table, cols) in tables() {
        for (name, col) in &cols {
            let ty: String = c
                .query_one(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = $2::text",
                    &[&table, name],
                )
                .unwrap()
                .get(0);
            assert_eq!(ty, col.central(), "{table}.{name}");
        }
        for (branch, engine) in BRANCHES {
            for i in 1..=ROWS {
                let list: Vec<String> = cols.iter().map(|(n, _)| format!("{n}::text")).collect();
                let sql = format!(
                    "SELECT {} FROM {table} WHERE branch = $1 AND {}::text = $2",
                    list.join(", "),
                    cols[0].0
                );
                let row = c
                    .query_opt(sql.as_str(), &[&branch, &i.to_string()])
                    .unwrap()
                    .unwrap_or_else(|| panic!("{table}: row {i} of {branch} missing"));
                for (k, (name, col)) in cols.iter().enumerate() {
                    let got: Option<String> = row.get(k);
                    let want = Col::expected(*col, engine, i);
                    assert_eq!(got, want, "{table}.{name}, row {i} of {branch}");
                }
            }
        }
    }
}

fn completed_slices(dir: &Path) -> i64 {
    let j = rusqlite::Connection::open(dir.join("storage/j.db")).unwrap();
    j.query_row(
        "SELECT count(*) FROM sync_progress WHERE status = 'completed' AND batch_id = (SELECT max(batch_id) FROM sync_batches)",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_mixed_fleet_lands_whole_whatever_the_order() {
    let f = fleet();
    let slices = (tables().len() * BRANCHES.len()) as i64;
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut runs: Vec<(&str, [usize; 3], usize)> = Vec::new();
    for mode in ["full", "upsert"] {
        for order in orders {
            runs.push((mode, order, 8));
        }
        runs.push((mode, [0, 1, 2], 1));
        runs.push((mode, [2, 1, 0], 2));
    }
    runs.push(("mirror", [0, 1, 2], 8));
    runs.push(("mirror", [2, 1, 0], 2));
    // The DDL of each mode's first run (the modes lay tables out differently).
    let mut first: std::collections::HashMap<&str, String> = Default::default();
    for (mode, order, threads) in runs {
        let central = Db::create("postgres", f.dir.path(), "mixed_central");
        let config = f.config(&central, &order, mode, threads, "");
        let (code, text) = run(&config, &["sync-all"]);
        assert_eq!(
            code, 0,
            "{mode}, order {order:?}, {threads} threads:\n{text}"
        );
        assert_eq!(completed_slices(f.dir.path()), slices, "{text}");
        check_values(&central);
        let ddl = central_ddl(&central);
        match first.get(mode) {
            None => {
                first.insert(mode, ddl);
            }
            Some(d) => {
                let diff = ddl.lines().zip(d.lines()).find(|(a, b)| a != b);
                assert!(
                    ddl == *d,
                    "the central's DDL differs for {mode}, order {order:?}, {threads} threads: {diff:?}"
                );
            }
        }
        if mode != "full" {
            // A second run finds every row in place.
            let (code, text) = run(&config, &["sync-all"]);
            assert_eq!(code, 0, "{text}");
            check_values(&central);
        }
    }
}

/// A column without a lossless common type (bytes at one branch, text at
/// another) refuses its table before any row moves: `check` and the dry run
/// say so, the batch fails the table's slices with the branches' types,
/// and every other table arrives.
#[test]
fn a_column_without_common_type_refuses_its_table() {
    let f = fleet();
    for (_, engine, db) in &f.branches {
        let ty = if *engine == "postgres" {
            "bytea"
        } else {
            "TEXT"
        };
        db.exec(&format!(
            "CREATE TABLE store_logo (store_id INTEGER PRIMARY KEY, logo {ty});"
        ));
    }
    let central = Db::create("postgres", f.dir.path(), "mixed_central");
    let extra = "[[table]]\nmodel = \"store_logo\"\nsource = \"store_logo\"\nkey = [\"store_id\"]\nmode = \"full\"\n";
    let config = f.config(&central, &[0, 1, 2], "full", 2, extra);

    let (code, text) = run(&config, &["check"]);
    eprintln!("{text}");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("table store_logo: refused"), "{text}");
    assert!(text.contains("bytea (postgres) at pgb"), "{text}");
    assert!(text.contains("table film: to create"), "{text}");
    assert!(text.contains("special_features"), "{text}");

    let (code, text) = run(&config, &["sync-all", "--dry-run"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("table store_logo: refused"), "{text}");
    let Db::Pg(db) = &central else { unreachable!() };
    let tables: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "check and the dry run write nothing");

    let (code, text) = run(&config, &["sync-all"]);
    assert_ne!(code, 0, "{text}");
    assert_eq!(
        completed_slices(f.dir.path()),
        (tables_len() * BRANCHES.len()) as i64,
        "{text}"
    );
    let exists: bool = db
        .client()
        .query_one("SELECT to_regclass('public.store_logo') IS NOT NULL", &[])
        .unwrap()
        .get(0);
    assert!(!exists, "nothing of the refused table is made");
    let j = rusqlite::Connection::open(f.dir.path().join("storage/j.db")).unwrap();
    let errors: Vec<String> = j
        .prepare("SELECT error_message FROM sync_progress WHERE table_name = 'store_logo' AND status = 'failed'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("no lossless common type"), "{errors:?}");
    assert!(errors[0].contains("TEXT (sqlite) at lite"), "{errors:?}");
    check_values(&central);
}

fn tables_len() -> usize {
    tables().len()
}

/// Every column of every central table (not its partitions) with its type.
fn central_columns(central: &Db) -> Vec<String> {
    let Db::Pg(db) = central else { unreachable!() };
    db.client()
        .query(
            "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY c.relname, a.attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A branch that cannot be reached tonight still counts: the plan uses the
/// description the journal recorded when it last answered, so a new
/// central gets the same tables as with the branch there.
#[test]
fn a_branch_not_reached_is_planned_from_its_last_description() {
    let f = fleet();
    let first = Db::create("postgres", f.dir.path(), "mixed_central");
    let config = f.config(&first, &[0, 1, 2], "upsert", 2, "");
    let (code, text) = run(&config, &["sync-all"]);
    assert_eq!(code, 0, "{text}");
    let want = central_columns(&first);

    let second = Db::create("postgres", f.dir.path(), "mixed_central");
    let config = f.config(&second, &[0, 1, 2], "upsert", 2, "");
    let text = std::fs::read_to_string(&config).unwrap();
    let maria = f.branches[0].2.url();
    let away = maria.replacen("127.0.0.1:3306", "127.0.0.1:1", 1);
    assert_ne!(maria, away, "the MariaDB test server is at 127.0.0.1:3306");
    std::fs::write(&config, text.replace(&maria, &away)).unwrap();

    let (code, text) = run(&config, &["check"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("maria not reached"), "{text}");
    assert!(text.contains("planned with its description of"), "{text}");
    let (code, text) = run(&config, &["sync-all"]);
    assert_ne!(code, 0, "the unreachable branch fails its copies:\n{text}");
    assert_eq!(
        completed_slices(f.dir.path()),
        (tables().len() * 2) as i64,
        "{text}"
    );
    assert_eq!(central_columns(&second), want, "{text}");
}

/// Three nights of the fleet in one batch (every branch, 8 threads), the
/// central full from the second night on, against the same nights with
/// the branches copied one at a time (one batch per branch, in turn).
/// Every night every slice arrives and every value is as the lattice says;
/// the times are printed for the record, never asserted.
#[test]
fn three_nights_of_the_fleet_against_one_branch_at_a_time() {
    let f = fleet();
    let slices = (tables().len() * BRANCHES.len()) as i64;
    let together = Db::create("postgres", f.dir.path(), "mixed_central");
    let config = f.config(&together, &[0, 1, 2], "upsert", 8, "");
    let mut fleet_times = Vec::new();
    for night in 1..=3 {
        let started = std::time::Instant::now();
        let (code, text) = run(&config, &["sync-all"]);
        fleet_times.push(started.elapsed().as_secs_f64());
        assert_eq!(code, 0, "night {night}: {text}");
        assert_eq!(completed_slices(f.dir.path()), slices, "night {night}");
        check_values(&together);
    }

    let apart = Db::create("postgres", f.dir.path(), "mixed_central");
    let config = f.config(&apart, &[0, 1, 2], "upsert", 8, "");
    let mut apart_times = Vec::new();
    for night in 1..=3 {
        let started = std::time::Instant::now();
        for (name, _) in BRANCHES {
            let (code, text) = run(&config, &["sync-all", "--connection", name]);
            assert_eq!(code, 0, "night {night}, {name}: {text}");
        }
        apart_times.push(started.elapsed().as_secs_f64());
        check_values(&apart);
    }
    assert_eq!(central_ddl(&together), central_ddl(&apart));
    eprintln!(
        "{} tables x {} branches, upsert, nights 1-3: the fleet in one batch {:.2?}s, one branch at a time {:.2?}s",
        tables().len(),
        BRANCHES.len(),
        fleet_times,
        apart_times
    );
}

/// An existing central column keeps its type: a central `customer.active`
/// made `boolean` ahead takes the MariaDB and PostgreSQL flags, but not the
/// SQLite branch's `CHAR(1)` 'Y'/'N' (only text holds both, and turning the
/// column into text is the central owner's call). `check` names the branch
/// left out, its copy fails with the type conflict and a fix; run at the
/// central, the fix lets every branch arrive, each flag as the lattice says.
#[test]
fn a_typed_central_column_is_not_turned_into_text_by_one_branch() {
    let f = fleet();
    let central = Db::create("postgres", f.dir.path(), "mixed_central");
    central.exec(
        "CREATE TABLE customer (branch text COLLATE \"C\" NOT NULL, customer_id bigint, first_name text,
           active boolean, email_ok smallint, preferences jsonb, last_update timestamptz,
           PRIMARY KEY (branch, customer_id))",
    );
    let config = f.config(&central, &[2, 0, 1], "upsert", 2, "");
    let (code, text) = run(&config, &["check"]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("lite left out"), "{text}");

    let (code, text) = run(&config, &["sync-all"]);
    assert_eq!(code, 1, "{text}");
    let j = rusqlite::Connection::open(f.dir.path().join("storage/j.db")).unwrap();
    let failed: Vec<(String, String, String)> = j
        .prepare("SELECT connection_name, table_name, error_message FROM sync_progress WHERE status = 'failed'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (conn, table, error) = &failed[0];
    assert_eq!((conn.as_str(), table.as_str()), ("lite", "customer"));
    assert_eq!(
        completed_slices(f.dir.path()),
        (tables().len() * BRANCHES.len() - 1) as i64
    );
    let fix = error
        .split_once("(ALTER TABLE")
        .and_then(|(_, rest)| rest.rsplit_once(") or the source"))
        .map(|(sql, _)| format!("ALTER TABLE{sql}"))
        .unwrap_or_else(|| panic!("no fix in: {error}"));
    assert!(fix.contains("TYPE text"), "{fix}");
    central.exec(&fix);

    let (code, text) = run(&config, &["sync-all"]);
    assert_eq!(code, 0, "{text}");
    check_values(&central);
}
