//! `sslmode` against a MariaDB that speaks TLS: a private server started
//! with a certificate for `localhost` signed by the test's own CA.
//! `require` encrypts without checking the certificate; `verify-full`
//! connects with the right CA and the name the certificate holds, and
//! refuses a wrong CA or another name (here `127.0.0.1`); `disable` stays
//! in clear. Whether a session is encrypted is the server's own
//! `Ssl_cipher`, as `check` reports it.

use crate::common::certs::{make_ca, server_cert};
use crate::common::mariadb::PrivateServer;
use crate::{open, server};
use branchsync::config::EngineConfig;
use branchsync::driver::ServerInfo;

fn probe(url: &str, extra: &str) -> branchsync::driver::Result<ServerInfo> {
    open(&server("br", url, extra), &EngineConfig::default())?.probe()
}

#[test]
fn sslmode_against_a_server_with_tls() {
    let (ca, issuer) = make_ca("branchsync MariaDB test CA");
    let (wrong_ca, _) = make_ca("branchsync test CA (not the server's)");
    let (cert, key) = server_cert(&issuer, &["localhost"]);
    let certs = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = certs.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let ca_path = file("ca.pem", &ca.pem());
    let wrong_path = file("wrong-ca.pem", &wrong_ca.pem());
    let tls = [
        format!("--ssl-ca={}", file("ca.pem", &ca.pem())),
        format!("--ssl-cert={}", file("server.pem", &cert)),
        format!("--ssl-key={}", file("server-key.pem", &key)),
    ];
    let srv = PrivateServer::start(&tls, |_| {});
    let by_ip = srv.url("mysql");
    let by_name = srv.url_at("localhost", "mysql");

    let clear = probe(&by_ip, "sslmode = \"disable\"").unwrap();
    assert_eq!(clear.tls, None, "disable: {clear:?}");

    let required = probe(&by_ip, "sslmode = \"require\"").unwrap();
    assert!(required.tls.is_some(), "require: {required:?}");

    let verified = probe(
        &by_name,
        &format!("sslmode = \"verify-full\"\nsslrootcert = {ca_path:?}"),
    )
    .unwrap();
    assert!(verified.tls.is_some(), "verify-full: {verified:?}");

    let other_ca = probe(
        &by_name,
        &format!("sslmode = \"verify-full\"\nsslrootcert = {wrong_path:?}"),
    )
    .unwrap_err();
    assert!(
        other_ca.message.contains("UnknownIssuer"),
        "a wrong CA: {other_ca}"
    );

    let other_name = probe(
        &by_ip,
        &format!("sslmode = \"verify-full\"\nsslrootcert = {ca_path:?}"),
    )
    .unwrap_err();
    assert!(
        other_name.message.contains("not valid for name"),
        "a name the certificate does not hold: {other_name}"
    );
}
