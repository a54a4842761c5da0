//! The local PostgreSQL server's TLS for the tests, set up once per test
//! process: a CA and a server certificate for `localhost` and `127.0.0.1`
//! made with rcgen, kept in a stable folder the server reads
//! ([`DIR`], so that a later reload or restart of the server still finds
//! them), and the server pointed at them with `ALTER SYSTEM` and
//! `pg_reload_conf()`. Idempotent: a valid set already there is reused;
//! a file lock serializes test processes. Clients without TLS keep working
//! (`ssl = on` only adds the option).
#![allow(dead_code)]

use crate::common::certs::{make_ca, server_cert};
use crate::common::pg::server_url;
use branchsync::config::{EngineConfig, ServerConfig, SslMode};
use branchsync::driver::open_endpoint;
use postgres::{Client, NoTls};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Where the server's certificate, key and CA live (readable by the
/// `postgres` user; the key 0600 and owned by it, as the server demands).
pub const DIR: &str = "/var/lib/postgresql/branchsync-test-tls";

/// What the tests need to know about the server's TLS.
pub struct ServerTls {
    /// The CA that signed the server's certificate (for `localhost` and
    /// `127.0.0.1`).
    pub ca: PathBuf,
    /// A CA that signed nothing the server presents.
    pub wrong_ca: PathBuf,
    _tmp: tempfile::TempDir,
}

/// Sets the server up on first use; every TLS test starts here.
pub fn server_tls() -> &'static ServerTls {
    static TLS: OnceLock<ServerTls> = OnceLock::new();
    TLS.get_or_init(setup)
}

fn setup() -> ServerTls {
    let dir = Path::new(DIR);
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("creating {DIR}: {e}"));
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    let lock = fs::File::create(dir.join(".lock")).unwrap();
    // Held until the end of this function: one process at a time.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    let (ca, crt, key) = (
        dir.join("ca.pem"),
        dir.join("server.crt"),
        dir.join("server.key"),
    );
    let fresh = match reusable(&ca, &crt, &key) {
        Ok(()) => false,
        Err(why) => {
            eprintln!("TLS test certificates in {DIR}: {why}; making new ones");
            generate(&ca, &crt, &key);
            true
        }
    };
    configure_server(&crt, &key, fresh);
    wait_for_tls(&ca);
    let tmp = tempfile::tempdir().unwrap();
    let wrong_ca = tmp.path().join("wrong-ca.pem");
    let (wrong, _) = make_ca("branchsync test CA (not the server's)");
    fs::write(&wrong_ca, wrong.pem()).unwrap();
    drop(lock);
    ServerTls {
        ca,
        wrong_ca,
        _tmp: tmp,
    }
}

/// Why the files in [`DIR`] cannot be used as they are, if they cannot.
fn reusable(ca: &Path, crt: &Path, key: &Path) -> Result<(), String> {
    let meta = fs::metadata(key).map_err(|e| format!("{}: {e}", key.display()))?;
    if meta.mode() & 0o077 != 0 || meta.uid() != postgres_ids().0 {
        return Err(format!(
            "{} is not 0600 and owned by postgres",
            key.display()
        ));
    }
    let ca = CertificateDer::from_pem_file(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
    let leaf = CertificateDer::from_pem_file(crt).map_err(|e| format!("{}: {e}", crt.display()))?;
    let mut roots = RootCertStore::empty();
    roots.add(ca).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    for host in ["localhost", "127.0.0.1"] {
        let name = ServerName::try_from(host).unwrap();
        verifier
            .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
            .map_err(|e| format!("the certificate does not verify for {host}: {e}"))?;
    }
    Ok(())
}

/// A new CA and a server certificate it signed, for `localhost` and
/// `127.0.0.1`.
fn generate(ca: &Path, crt: &Path, key: &Path) {
    let (ca_cert, issuer) = make_ca("branchsync test CA");
    let (cert, server_key) = server_cert(&issuer, &["localhost", "127.0.0.1"]);
    let (uid, gid) = postgres_ids();
    write_atomic(key, &server_key, 0o600, Some((uid, gid)));
    write_atomic(crt, &cert, 0o644, None);
    write_atomic(ca, &ca_cert.pem(), 0o644, None);
}

/// Writes `path` through a temporary file and a rename, so that the server
/// never reads half a file.
fn write_atomic(path: &Path, text: &str, mode: u32, owner: Option<(u32, u32)>) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, text).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).unwrap();
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(&tmp, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to postgres: {e}", tmp.display()));
    }
    fs::rename(&tmp, path).unwrap();
}

/// (uid, gid) of the `postgres` user the server runs as.
fn postgres_ids() -> (u32, u32) {
    let pw = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    assert!(
        !pw.is_null(),
        "no `postgres` user: these tests need the local PostgreSQL server"
    );
    unsafe { ((*pw).pw_uid, (*pw).pw_gid) }
}

fn show(c: &mut Client, name: &str) -> String {
    c.query_one(&format!("SHOW {name}"), &[]).unwrap().get(0)
}

/// Points the server at the files (when it does not already, or when they
/// are new) and reloads its configuration.
fn configure_server(crt: &Path, key: &Path, fresh: bool) {
    let mut admin = Client::connect(&server_url(), NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to the test server: {e}"));
    let (crt, key) = (crt.to_str().unwrap(), key.to_str().unwrap());
    let current = (
        show(&mut admin, "ssl"),
        show(&mut admin, "ssl_cert_file"),
        show(&mut admin, "ssl_key_file"),
    );
    if !fresh && current == ("on".into(), crt.into(), key.into()) {
        return;
    }
    // One statement per call: ALTER SYSTEM refuses a transaction block.
    for sql in [
        "ALTER SYSTEM SET ssl = on".to_owned(),
        format!("ALTER SYSTEM SET ssl_cert_file = '{crt}'"),
        format!("ALTER SYSTEM SET ssl_key_file = '{key}'"),
        "SELECT pg_reload_conf()".to_owned(),
    ] {
        admin
            .batch_execute(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A verify-full server entry for the local server as `localhost`.
fn probe_config(ca: &Path) -> ServerConfig {
    let url = crate::tls_url(&server_url(), "localhost");
    let mut s: ServerConfig = toml::from_str(&format!(
        "driver = \"postgres\"\nurl = {url:?}\nsslrootcert = {:?}\n",
        ca.to_str().unwrap()
    ))
    .unwrap();
    s.name = "tls_setup".into();
    s.sslmode = Some(SslMode::VerifyFull);
    s
}

/// Waits until the server presents the new certificate (the reload is
/// asynchronous).
fn wait_for_tls(ca: &Path) {
    let server = probe_config(ca);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = open_endpoint(&server, &EngineConfig::default(), 1).and_then(|ep| ep.probe());
        match attempt {
            Ok(info) if info.tls.is_some() => return,
            Ok(info) => panic!("verify-full connected without TLS: {info:?}"),
            Err(e) if Instant::now() > deadline => panic!(
                "the server does not present the test certificate from {DIR} after a reload: {e}; \
                 see the server's log (key file permissions, ssl_cert_file)"
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
