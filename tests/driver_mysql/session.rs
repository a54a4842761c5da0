//! A MySQL session's limits and secrets: `[engine] statement_timeout`
//! stops a long read as a timeout, a cancel (`KILL QUERY` from a side
//! connection) stops a read or a `full` write within seconds and leaves the
//! target as it was, `password_env` supplies the password (and its absence
//! is an error that names the variable), and `sslmode` is kept: `require`
//! never falls back to clear text.

use crate::common::cancel::{assert_cancelled_soon, cancel_a_long_copy, cancel_after, Side};
use crate::common::mysql::MyDb;
use crate::common::pg::TestDb;
use crate::{columns, endpoint, open, server};
use branchsync::config::{DurationStr, EngineConfig};
use branchsync::driver::{Column, DriverError, ErrorKind, ReadRequest, RejectSink, RowSink, Value};
use mysql::prelude::Queryable;
use std::time::{Duration, Instant};

/// A view of a billion rows (MariaDB's sequence engine) that streams at once.
const MY_ENDLESS_VIEW: &str = "CREATE VIEW big AS SELECT a.seq * 100000 + b.seq AS id,
     REPEAT('x', 50) AS payload FROM seq_0_to_9999 a, seq_1_to_100000 b";

struct Count(u64);

impl RowSink for Count {
    fn row(&mut self, _: &[Value]) -> Result<(), DriverError> {
        self.0 += 1;
        Ok(())
    }
}

struct NoRejects;

impl RejectSink for NoRejects {
    fn reject(&mut self, _: &[Column], _: &[Value], reason: &str) -> Result<(), DriverError> {
        panic!("unexpected reject: {reason}")
    }
}

fn read_big(source: &mut dyn branchsync::driver::Source, cols: &[Column]) -> DriverError {
    let req = ReadRequest {
        schema: None,
        table: "big",
        columns: cols,
        key: &[],
        since: None,
        range: Default::default(),
    };
    source
        .read(&req, &mut Count(0), &mut NoRejects)
        .unwrap_err()
}

/// Statements of other sessions still running in `db`.
fn running(db: &MyDb) -> u64 {
    MyDb::admin()
        .query_first::<u64, _>(format!(
            "SELECT count(*) FROM information_schema.processlist
             WHERE db = '{}' AND command = 'Query' AND id <> CONNECTION_ID()",
            db.name
        ))
        .unwrap()
        .unwrap()
}

#[test]
fn the_statement_timeout_stops_a_long_read() {
    let db = MyDb::create("bs_my_timeout");
    db.exec(MY_ENDLESS_VIEW);
    let engine = EngineConfig {
        statement_timeout: DurationStr(Duration::from_secs(1)),
        ..EngineConfig::default()
    };
    let ep = open(&server("br", &db.url, ""), &engine).unwrap();
    let cols = columns(&*ep, "big");
    let started = Instant::now();
    let err = read_big(&mut *ep.source().unwrap(), &cols);
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(err.message.contains("statement_timeout"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_cancel_kills_a_running_read() {
    let db = MyDb::create("bs_my_cancel_read");
    db.exec(MY_ENDLESS_VIEW);
    let ep = endpoint(&db);
    let cols = columns(&*ep, "big");
    let mut s = ep.source().unwrap();
    let canceller = cancel_after(s.cancel_handle(), Duration::from_millis(1000));
    let err = read_big(&mut *s, &cols);
    assert_cancelled_soon(&err, canceller);
    drop(s);
    let deadline = Instant::now() + Duration::from_secs(5);
    while running(&db) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(running(&db), 0, "the statement still runs at the server");
}

#[test]
fn a_cancel_stops_a_full_write_and_leaves_the_target_as_it_was() {
    let src_db = TestDb::create("bs_my_cancel_src");
    src_db.exec(crate::common::cancel::PG_ENDLESS_VIEW);
    let central = MyDb::create("bs_my_cancel_central");
    central.exec(
        "CREATE TABLE big (branch VARCHAR(64) NOT NULL, id INT NOT NULL, payload TEXT,
             PRIMARY KEY (branch, id));
         INSERT INTO big VALUES ('pgsql_lmp', -1, 'before')",
    );
    let src = branchsync::driver::open_endpoint(
        &toml::from_str(&format!(
            "name = \"pgsql_lmp\"\ndriver = \"postgres\"\nurl = {:?}\n",
            src_db.url
        ))
        .unwrap(),
        &EngineConfig::default(),
        4,
    )
    .unwrap();
    cancel_a_long_copy(&*src, &*endpoint(&central), "", Side::Target);
    let rows: Vec<(String, i32)> = central.conn().query("SELECT branch, id FROM big").unwrap();
    assert_eq!(
        rows,
        [("pgsql_lmp".to_owned(), -1)],
        "the target is as it was"
    );
}

/// A user with a password, dropped with the value.
struct User(String);

impl User {
    fn create(db: &MyDb, password: &str) -> User {
        let name = format!("bs_pw_{}", std::process::id());
        let mut admin = MyDb::admin();
        admin
            .query_drop(format!("DROP USER IF EXISTS '{name}'@'%'"))
            .unwrap();
        admin
            .query_drop(format!(
                "CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'"
            ))
            .unwrap();
        admin
            .query_drop(format!("GRANT ALL ON `{}`.* TO '{name}'@'%'", db.name))
            .unwrap();
        User(name)
    }
}

impl Drop for User {
    fn drop(&mut self) {
        let _ = MyDb::admin().query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.0));
    }
}

#[test]
fn password_env_supplies_the_password_and_its_absence_names_the_variable() {
    let db = MyDb::create("bs_my_password");
    let user = User::create(&db, "s3cr3t-pw");
    let url = db.url.replacen("://root@", &format!("://{}@", user.0), 1);
    assert_ne!(url, db.url, "the test server URL names root: {}", db.url);
    let var = format!("BRANCHSYNC_TEST_MY_PW_{}", std::process::id());
    let entry = server("br", &url, &format!("password_env = {var:?}"));
    let engine = EngineConfig::default();

    std::env::remove_var(&var);
    let err = open(&entry, &engine).map(|_| ()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(err.message.contains(&var), "{err}");

    std::env::set_var(&var, "n0t-th1s-0ne");
    let err = open(&entry, &engine).unwrap().probe().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(!err.message.contains("n0t-th1s-0ne"), "{err}");

    std::env::set_var(&var, "s3cr3t-pw");
    let info = open(&entry, &engine).unwrap().probe().unwrap();
    assert!(!info.version.is_empty());
    std::env::remove_var(&var);
}

#[test]
fn sslmode_require_never_falls_back_to_clear_text() {
    let db = MyDb::create("bs_my_tls");
    let have_ssl: String = MyDb::admin()
        .query_first("SELECT @@have_ssl")
        .unwrap()
        .unwrap();
    let engine = EngineConfig::default();
    let clear = open(&server("br", &db.url, "sslmode = \"disable\""), &engine)
        .unwrap()
        .probe()
        .unwrap();
    assert_eq!(clear.tls, None, "disable: {clear:?}");
    let required = open(&server("br", &db.url, "sslmode = \"require\""), &engine)
        .unwrap()
        .probe();
    if have_ssl == "YES" {
        let info = required.unwrap();
        assert!(info.tls.is_some(), "require without TLS: {info:?}");
    } else {
        let err = required.unwrap_err();
        assert!(
            err.message.contains("does not offer TLS") && err.message.contains("sslmode"),
            "{err}"
        );
    }
}
