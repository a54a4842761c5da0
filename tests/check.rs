//! `check` through the real binary: real SQLite files, a PostgreSQL address
//! where nothing listens, and a password that must never be printed.

use assert_cmd::Command;
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

const SENTINEL: &str = "pw-sentinel-7c1e9a";

/// A branch file holding `tables` (each with `<table>_id` key and `updated`).
fn branch(path: &Path, tables: &[&str]) {
    let conn = Connection::open(path).unwrap();
    for t in tables {
        conn.execute_batch(&format!(
            "CREATE TABLE {t} ({t}_id INTEGER PRIMARY KEY, name TEXT, updated TIMESTAMP);
             INSERT INTO {t} VALUES (1000000, 'Café \"A\"', '2024-01-01 08:00:00');"
        ))
        .unwrap();
    }
}

const TABLES: &str = r#"
[[table]]
model = "MOrg"
source = "ad_org"
key = ["ad_org_id"]
mode = "full"
from = "sqlite_a"

[[table]]
model = "MProduct"
source = "m_product"
key = ["m_product_id"]

[[table]]
model = "MOrder"
source = "c_order"
key = ["c_order_id"]
mode = "incremental"
cursor = "updated"
"#;

fn config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let text = format!(
        r#"
[journal]
path = "storage/journal.db"

[engine]
connect_timeout = "2s"

[target]
driver = "sqlite"
url = "central.db"

[[connection]]
name = "sqlite_a"
driver = "sqlite"
url = "a.db"

[[connection]]
name = "sqlite_b"
driver = "sqlite"
url = "b.db"
{extra}
{TABLES}"#
    );
    let path = dir.join("branchsync.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn check(config: &Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(config)
        .arg("check")
        .env("NO_COLOR", "1")
        .env("BRANCHSYNC_CHECK_PASSWORD", SENTINEL)
        .env_remove("RUST_LOG")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text, started.elapsed())
}

#[test]
fn all_tables_present_is_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    // ad_org is single-source from sqlite_a: sqlite_b need not have it.
    branch(&dir.path().join("b.db"), &["m_product", "c_order"]);
    let (code, out, _) = check(&config(dir.path(), ""));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("sqlite_a") && out.contains("sqlite_b"),
        "{out}"
    );
    assert!(!out.contains('✗'), "{out}");
    assert!(out.contains("✓ m_product"), "{out}");
    // The target does not exist yet: a note, not a problem, and nothing is created.
    assert!(!dir.path().join("central.db").exists());
}

#[test]
fn a_missing_table_is_exit_1_and_named() {
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    branch(&dir.path().join("b.db"), &["m_product"]);
    let (code, out, _) = check(&config(dir.path(), ""));
    assert_eq!(code, Some(1), "{out}");
    let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("  ✗ ")).collect();
    assert_eq!(bad.len(), 1, "exactly one problem line:\n{out}");
    assert!(
        bad[0].contains("c_order") && bad[0].contains("missing") && bad[0].contains("sqlite_b"),
        "{out}"
    );
    assert!(out.contains("1 problem found"), "{out}");
    assert!(out.contains("- sqlite_b: c_order"), "{out}");
}

#[test]
fn a_missing_key_column_is_exit_1_and_named() {
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    branch(&dir.path().join("b.db"), &["m_product"]);
    Connection::open(dir.path().join("b.db"))
        .unwrap()
        .execute_batch("CREATE TABLE c_order (id INTEGER PRIMARY KEY, updated TIMESTAMP)")
        .unwrap();
    let (code, out, _) = check(&config(dir.path(), ""));
    assert_eq!(code, Some(1), "{out}");
    let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("  ✗ ")).collect();
    assert_eq!(bad.len(), 1, "{out}");
    assert!(
        bad[0].contains("key c_order_id") && bad[0].contains("sqlite_b"),
        "{out}"
    );
    assert!(
        !bad[0].contains("updated"),
        "the cursor column is there:\n{out}"
    );
}

#[test]
fn an_unreachable_postgres_is_reported_within_the_timeout_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    branch(&dir.path().join("b.db"), &["m_product", "c_order"]);
    let pg = r#"
[[connection]]
name = "pgsql_down"
driver = "postgres"
url = "postgres://reader:inline-secret-91f3@127.0.0.1:1/idempiere"
password_env = "BRANCHSYNC_CHECK_PASSWORD"
sslmode = "disable"
"#;
    let (code, out, elapsed) = check(&config(dir.path(), pg));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        !out.contains(SENTINEL),
        "the password from password_env was printed:\n{out}"
    );
    assert!(
        !out.contains("inline-secret-91f3"),
        "the password in the url was printed:\n{out}"
    );
    let bad: Vec<&str> = out.lines().filter(|l| l.starts_with("  ✗ ")).collect();
    assert!(
        !bad.is_empty() && bad.iter().all(|l| l.contains("unreachable")),
        "{out}"
    );
    assert!(out.contains("connection pgsql_down"), "{out}");
    assert!(out.contains("- pgsql_down: unreachable"), "{out}");
    // connect_timeout is 2s; the binary's start and the report add little.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}:\n{out}");
}

#[test]
fn a_server_that_never_answers_is_reported_within_the_timeout() {
    // A local port that accepts connections (the kernel's backlog) but never
    // says a word: the PostgreSQL handshake hangs until connect_timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    branch(&dir.path().join("b.db"), &["m_product", "c_order"]);
    let pg = format!(
        r#"
[[connection]]
name = "pgsql_silent"
driver = "postgres"
url = "postgres://reader@127.0.0.1:{port}/idempiere"
password_env = "BRANCHSYNC_CHECK_PASSWORD"
sslmode = "disable"
"#
    );
    let (code, out, elapsed) = check(&config(dir.path(), &pg));
    drop(silent);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("- pgsql_silent: unreachable"), "{out}");
    assert!(!out.contains(SENTINEL), "{out}");
    // connect_timeout 2s, plus at most a second of grace and the binary's start.
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}:\n{out}");
    assert!(
        elapsed >= Duration::from_millis(1500),
        "a silent server cannot fail fast: {elapsed:?}\n{out}"
    );
}

#[test]
fn an_invalid_config_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("branchsync.toml");
    std::fs::write(&path, "[journal]\npath = \"j.db\"\n[[table]]\nmodel = \"X\"\nsource = \"x\"\nmode = \"sideways\"\n").unwrap();
    let (code, out, _) = check(&path);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("branchsync.toml"), "{out}");
}

/// The shared test server, reached through a host name that is not loopback
/// (`pg.example`, pinned to 127.0.0.1 by `hostaddr`, so nothing is resolved).
fn wan_named_server(sslmode: &str) -> String {
    format!(
        "\n[[connection]]\nname = \"pgsql_wan\"\ndriver = \"postgres\"\nurl = \"postgres://root@pg.example:5432/test?hostaddr=127.0.0.1\"\n{sslmode}\n"
    )
}

#[test]
fn a_wan_host_defaults_to_verify_full_and_says_the_fix_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    branch(
        &dir.path().join("a.db"),
        &["ad_org", "m_product", "c_order"],
    );
    branch(&dir.path().join("b.db"), &["m_product", "c_order"]);
    let (code, out, _) = check(&config(dir.path(), &wan_named_server("")));
    assert_eq!(code, Some(1), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("pgsql_wan") && l.contains("TLS (sslmode verify-full) failed"))
        .unwrap_or_else(|| panic!("no verify-full failure in {out}"));
    for fix in [
        "defaults to verify-full",
        "sslrootcert",
        "sslmode = \"require\"",
        "sslmode = \"disable\" explicitly",
    ] {
        assert!(line.contains(fix), "{fix} missing in {line}");
    }

    // Explicit plaintext to that host works, and check warns about it.
    let (_, out, _) = check(&config(
        dir.path(),
        &wan_named_server("sslmode = \"disable\""),
    ));
    assert!(out.contains("reachable: PostgreSQL"), "{out}");
    assert!(out.contains(", no TLS"), "{out}");
    assert!(
        out.contains("warning: sslmode = \"disable\" over a non-loopback host"),
        "{out}"
    );
    // A loopback host keeps plaintext by default, without a warning.
    let (_, out, _) = check(&config(
        dir.path(),
        "\n[[connection]]\nname = \"pgsql_lo\"\ndriver = \"postgres\"\nurl = \"postgres://root@127.0.0.1:5432/test\"\n",
    ));
    assert!(out.contains("reachable: PostgreSQL"), "{out}");
    assert!(!out.contains("warning: sslmode"), "{out}");
}
