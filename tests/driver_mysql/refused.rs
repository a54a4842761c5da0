//! A server that refuses `LOAD DATA LOCAL INFILE` (`local_infile = 0`, MySQL
//! 8's default): full copies into it fall back to `INSERT`s, and the log
//! says so once per run, however many tables are copied. The server is a
//! private MariaDB started for the test (the shared one allows local files,
//! and `local_infile` is global).

use crate::common::mariadb::PrivateServer;
use assert_cmd::Command;
use mysql::prelude::Queryable;
use std::path::Path;

fn branch(path: &Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, t TEXT);
         INSERT INTO a VALUES (1, 'tab\there'), (2, NULL);
         INSERT INTO b VALUES (1, 'x'), (2, 'y'), (3, 'z');",
    )
    .unwrap();
}

#[test]
fn a_server_without_local_files_gets_inserts_and_the_log_says_so_once() {
    let server = PrivateServer::start(&["--local-infile=0".to_owned()], |_| {});
    let mut admin = server.conn().unwrap();
    admin.query_drop("CREATE DATABASE central").unwrap();
    let local: i64 = admin.query_first("SELECT @@local_infile").unwrap().unwrap();
    assert_eq!(local, 0);

    let dir = tempfile::tempdir().unwrap();
    branch(&dir.path().join("lmp.db"));
    let config = dir.path().join("branchsync.toml");
    std::fs::write(
        &config,
        format!(
            "[journal]\npath = \"journal.db\"\n\n[log]\nfile = \"sync.log\"\n\n\
             [target]\ndriver = \"mysql\"\nurl = \"{}\"\n\n\
             [[connection]]\nname = \"sqlite_lmp\"\ndriver = \"sqlite\"\nurl = \"lmp.db\"\n\n\
             [[table]]\nmodel = \"A\"\nsource = \"a\"\nkey = [\"id\"]\nmode = \"full\"\n\n\
             [[table]]\nmodel = \"B\"\nsource = \"b\"\nkey = [\"id\"]\nmode = \"full\"\n",
            server.url("central")
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .arg("sync-all")
        .env_remove("RUST_LOG")
        .env_remove("BRANCHSYNC_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("sync.log")).unwrap();
    assert_eq!(
        log.matches("refuses LOAD DATA LOCAL INFILE").count(),
        1,
        "once per run:\n{log}"
    );
    assert!(log.contains("local_infile = 1"), "{log}");

    let mut central = server.conn().unwrap();
    let a: Vec<(String, i64, Option<String>)> = central
        .query("SELECT branch, id, t FROM central.a ORDER BY id")
        .unwrap();
    assert_eq!(
        a,
        [
            ("sqlite_lmp".to_owned(), 1, Some("tab\there".to_owned())),
            ("sqlite_lmp".to_owned(), 2, None)
        ]
    );
    let b: i64 = central
        .query_first("SELECT count(*) FROM central.b")
        .unwrap()
        .unwrap();
    assert_eq!(b, 3);
}
