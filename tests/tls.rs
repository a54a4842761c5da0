//! TLS to PostgreSQL (`sslmode`) against the real local server,
//! which presents a certificate the tests make (see `tls/server_certs.rs`):
//! verify-full succeeds with the right CA and fails clearly with a wrong CA
//! or a host name the certificate does not hold; require needs no CA; a
//! server that refuses TLS is never talked to in plaintext; cancel requests
//! travel over TLS; `check` and a whole `sync-all` run over verify-full
//! through the real binary. Whether a session is encrypted is read from the
//! server's own `pg_stat_ssl`.

#[path = "tls/cancel.rs"]
mod cancel;
mod common;
#[path = "tls/refusal.rs"]
mod refusal;
#[path = "tls/server_certs.rs"]
mod server_certs;

use branchsync::config::{DurationStr, EngineConfig, ServerConfig};
use branchsync::driver::{
    open_endpoint, Column, DriverError, Endpoint, ReadRequest, RejectSink, RowSink, Value,
};
use common::fixture::{code, reliability, Fixture};
use common::pg::TestDb;
use server_certs::server_tls;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `url` (on the local server at 127.0.0.1) addressed as `host`: the TLS
/// side checks the certificate against `host`, the socket still goes to
/// 127.0.0.1 (`hostaddr`).
pub fn tls_url(url: &str, host: &str) -> String {
    assert!(
        url.contains("@127.0.0.1:"),
        "the TLS tests need the local server at 127.0.0.1, not {url}"
    );
    let url = url.replacen("@127.0.0.1:", &format!("@{host}:"), 1);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}hostaddr=127.0.0.1")
}

fn server(name: &str, url: &str, extra: &str) -> ServerConfig {
    let mut s: ServerConfig =
        toml::from_str(&format!("driver = \"postgres\"\nurl = {url:?}\n{extra}")).unwrap();
    s.name = name.to_owned();
    s
}

fn open(s: &ServerConfig) -> Result<Box<dyn Endpoint>, DriverError> {
    let engine = EngineConfig {
        connect_timeout: DurationStr::from_secs(3),
        ..EngineConfig::default()
    };
    open_endpoint(s, &engine, 2)
}

/// verify-full against `host` with `ca` as sslrootcert.
fn verify_full(name: &str, url: &str, host: &str, ca: &std::path::Path) -> ServerConfig {
    server(
        name,
        &tls_url(url, host),
        &format!(
            "sslmode = \"verify-full\"\nsslrootcert = {:?}\n",
            ca.to_str().unwrap()
        ),
    )
}

/// A database with a view that shows its reader's own TLS state.
fn tls_db(prefix: &str) -> TestDb {
    let db = TestDb::create(prefix);
    db.exec(
        "CREATE VIEW tls_state AS SELECT ssl, coalesce(version, '') AS version
         FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    db
}

#[derive(Default)]
struct Rows(Vec<Vec<Value>>);

impl RowSink for Rows {
    fn row(&mut self, values: &[Value]) -> Result<(), DriverError> {
        self.0.push(values.to_vec());
        Ok(())
    }
}

struct NoRejects;

impl RejectSink for NoRejects {
    fn reject(&mut self, _: &[Column], _: &[Value], reason: &str) -> Result<(), DriverError> {
        panic!("unexpected reject: {reason}")
    }
}

/// (ssl, protocol version) of a session read through the driver's own
/// source path, as the server sees it.
fn session_tls(ep: &dyn Endpoint) -> (bool, String) {
    let mut s = ep.source().unwrap();
    let schema = s.describe(None, "tls_state").unwrap().unwrap();
    let req = ReadRequest {
        schema: None,
        table: "tls_state",
        columns: &schema.columns,
        key: &[],
        since: None,
        range: Default::default(),
    };
    let mut rows = Rows::default();
    s.read(&req, &mut rows, &mut NoRejects).unwrap();
    match rows.0.as_slice() {
        [row] => match (&row[0], &row[1]) {
            (Value::Bool(ssl), Value::Text(version)) => (*ssl, version.clone()),
            other => panic!("tls_state row: {other:?}"),
        },
        other => panic!("tls_state: {other:?}"),
    }
}

#[test]
fn verify_full_with_the_right_ca_encrypts_the_session() {
    let tls = server_tls();
    let db = tls_db("bs_tls_ok");
    // By name (DNS SAN) and by address (IP SAN).
    for host in ["localhost", "127.0.0.1"] {
        let ep = open(&verify_full("tls_ok", &db.url, host, &tls.ca)).unwrap();
        let (ssl, version) = session_tls(&*ep);
        assert!(ssl, "{host}: the session is not encrypted");
        assert!(version.starts_with("TLSv1."), "{host}: {version}");
        let info = ep.probe().unwrap();
        let shown = info.tls.unwrap_or_default();
        assert!(
            shown.starts_with("verify-full (TLSv1."),
            "{host}: probe says {shown:?}"
        );
    }
}

/// The error of a session on an endpoint that cannot connect.
fn connect_error(s: &ServerConfig) -> (DriverError, Duration) {
    let started = Instant::now();
    let ep = open(s).unwrap();
    let err = ep.source().err().expect("the connection must fail");
    (err, started.elapsed())
}

#[test]
fn verify_full_with_a_wrong_ca_fails_clearly() {
    let tls = server_tls();
    let db = TestDb::create("bs_tls_wrong_ca");
    let (err, took) = connect_error(&verify_full(
        "pgsql_wrong_ca",
        &db.url,
        "localhost",
        &tls.wrong_ca,
    ));
    let msg = &err.message;
    assert!(
        msg.starts_with("pgsql_wrong_ca: connecting to root@localhost:5432/"),
        "{msg}"
    );
    assert!(msg.contains("sslmode verify-full"), "{msg}");
    assert!(msg.contains("not signed by a CA in sslrootcert"), "{msg}");
    assert!(msg.contains(tls.wrong_ca.to_str().unwrap()), "{msg}");
    assert!(msg.contains("UnknownIssuer"), "{msg}");
    assert!(!err.kind.is_retryable(), "{err:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    reliability(
        "TLS: verify-full against a certificate from another CA",
        1,
        0,
        0,
        "refused at the handshake, not retried; error names the connection, the CA file and UnknownIssuer",
    );
}

#[test]
fn verify_full_with_a_host_name_not_in_the_certificate_fails_clearly() {
    let tls = server_tls();
    let db = TestDb::create("bs_tls_wrong_host");
    let (err, _) = connect_error(&verify_full(
        "pgsql_wrong_host",
        &db.url,
        "db.branch.invalid",
        &tls.ca,
    ));
    let msg = &err.message;
    assert!(
        msg.starts_with("pgsql_wrong_host: connecting to root@db.branch.invalid:5432/"),
        "{msg}"
    );
    assert!(msg.contains("not valid for the host name"), "{msg}");
    // rustls names what was expected and what the certificate holds.
    assert!(msg.contains("db.branch.invalid"), "{msg}");
    assert!(msg.contains("localhost"), "{msg}");
    assert!(!err.kind.is_retryable(), "{err:?}");
    reliability(
        "TLS: verify-full to a host name the certificate does not hold",
        1,
        0,
        0,
        "refused at the handshake, not retried; error names the expected and the presented names",
    );
}

#[test]
fn require_needs_no_ca_and_encrypts() {
    server_tls();
    let db = tls_db("bs_tls_require");
    // The wrong host name does not matter: require checks no certificate.
    let by_key = server(
        "tls_require",
        &tls_url(&db.url, "db.branch.invalid"),
        "sslmode = \"require\"\n",
    );
    let by_url = server(
        "tls_require_url",
        &format!("{}&sslmode=require", tls_url(&db.url, "localhost")),
        "",
    );
    for s in [by_key, by_url] {
        let ep = open(&s).unwrap();
        assert!(session_tls(&*ep).0, "{}: not encrypted", s.name);
        let shown = ep.probe().unwrap().tls.unwrap_or_default();
        assert!(shown.starts_with("require (TLSv1."), "{}: {shown}", s.name);
    }
}

#[test]
fn disable_and_no_sslmode_stay_plaintext() {
    server_tls();
    let db = tls_db("bs_tls_disable");
    for extra in ["", "sslmode = \"disable\"\n"] {
        let ep = open(&server("tls_plain", &db.url, extra)).unwrap();
        assert!(!session_tls(&*ep).0, "{extra:?}: encrypted");
        assert_eq!(ep.probe().unwrap().tls, None, "{extra:?}");
    }
    // The key wins over the url.
    let url = format!("{}?sslmode=require", db.url);
    let ep = open(&server("tls_plain", &url, "sslmode = \"disable\"\n")).unwrap();
    assert!(!session_tls(&*ep).0);
}

/// Distinct (pid, ssl) of the binary's sessions on `dbs`, sampled until
/// `stop` is set.
fn watch_sessions(dbs: Vec<String>, stop: Arc<AtomicBool>) -> HashSet<(i32, bool)> {
    let mut admin = postgres::Client::connect(&common::pg::server_url(), postgres::NoTls).unwrap();
    let mut seen = HashSet::new();
    while !stop.load(Ordering::SeqCst) {
        let rows = admin
            .query(
                "SELECT a.pid, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
                 WHERE a.application_name = 'branchsync' AND a.datname = ANY($1)",
                &[&dbs],
            )
            .unwrap();
        seen.extend(rows.iter().map(|r| (r.get(0), r.get(1))));
        std::thread::sleep(Duration::from_millis(5));
    }
    seen
}

#[test]
fn check_and_sync_all_run_over_verify_full() {
    let tls = server_tls();
    let fx = Fixture::new(2, 400);
    fx.write_config();
    let ca = tls.ca.to_str().unwrap().to_owned();
    let mut servers: Vec<&TestDb> = fx.branches.iter().map(|(_, db)| db).collect();
    servers.push(&fx.central);
    // Branches by name, the target by address: both SANs are checked.
    for (i, db) in servers.iter().enumerate() {
        let host = if i + 1 == servers.len() {
            "127.0.0.1"
        } else {
            "localhost"
        };
        let old = format!("url = \"{}\"\n", db.url);
        let new = format!(
            "url = \"{}\"\nsslmode = \"verify-full\"\nsslrootcert = \"{ca}\"\n",
            tls_url(&db.url, host)
        );
        fx.rewrite_config(|text| {
            assert!(text.contains(&old), "{old} not in the config");
            text.replace(&old, &new)
        });
    }

    let out = fx.run(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.matches("TLS verify-full (TLSv1.").count(),
        servers.len(),
        "every server reports verify-full:\n{stdout}"
    );

    let dbs: Vec<String> = servers.iter().map(|db| db.name.clone()).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || watch_sessions(dbs, stop))
    };
    let out = fx.run_within(&["sync-all"], Duration::from_secs(120));
    stop.store(true, Ordering::SeqCst);
    let seen = watcher.join().unwrap();
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let (_, status) = fx.latest_batch();
    assert_eq!(status, "completed");
    fx.assert_consolidated();
    assert!(
        seen.iter().any(|(_, ssl)| *ssl),
        "no session of the run was seen: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, ssl)| *ssl),
        "a session of the run was not encrypted: {seen:?}"
    );
}
