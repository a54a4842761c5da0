//! A MySQL connection without `sslmode` to a host that is not loopback
//! defaults to verify-full, as PostgreSQL's does: reached through a local
//! address that is not loopback (a forwarder in front of the test server),
//! `check` fails with the fix in its message; `sslmode = "disable"` written
//! out connects in clear and `check` warns about it.

mod common;

use assert_cmd::Command;
use std::net::{IpAddr, TcpListener, TcpStream, UdpSocket};

/// An address of this machine that is not loopback (the one a packet to
/// the outside would leave from); `None` on a machine without one.
fn non_loopback_address() -> Option<IpAddr> {
    ["192.0.2.1:9", "10.255.255.1:9", "8.8.8.8:53"]
        .iter()
        .find_map(|far| {
            let s = UdpSocket::bind("0.0.0.0:0").ok()?;
            s.connect(far).ok()?;
            let ip = s.local_addr().ok()?.ip();
            (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
        })
}

/// Forwards connections on `ip:<port>` to `upstream`; returns the port.
fn forwarder(ip: IpAddr, upstream: String) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut c, mut s) = (client, server);
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s, &mut c);
                let _ = c.shutdown(std::net::Shutdown::Write);
            });
        }
    });
    port
}

fn check(dir: &std::path::Path, url: &str, extra: &str) -> (i32, String) {
    let config = dir.join("branchsync.toml");
    std::fs::write(
        &config,
        format!(
            "[journal]\npath = \"journal.db\"\n\n[target]\ndriver = \"sqlite\"\nurl = \"central.db\"\n\n\
             [[connection]]\nname = \"my_wan\"\ndriver = \"mysql\"\nurl = \"{url}\"\n{extra}\n\
             [[table]]\nmodel = \"T\"\nsource = \"t\"\nkey = [\"id\"]\n"
        ),
    )
    .unwrap();
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .arg("check")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_mysql_host_that_is_not_loopback_defaults_to_verify_full() {
    let Some(ip) = non_loopback_address() else {
        eprintln!("this machine has no address but loopback: nothing to test");
        return;
    };
    let server = common::mysql::server_url();
    let rest = server.split_once('@').unwrap().1;
    let (hostport, db) = rest.split_once('/').unwrap();
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:3306")
    };
    let user = server
        .strip_prefix("mysql://")
        .unwrap()
        .split_once('@')
        .unwrap()
        .0;
    let port = forwarder(ip, hostport);
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let url = format!("mysql://{user}@{host}:{port}/{db}");
    let dir = tempfile::tempdir().unwrap();

    // No sslmode: TLS with the certificate checked, and the fix when that
    // cannot work (the test server has no TLS, or a certificate no system
    // root signed).
    let (code, out) = check(dir.path(), &url, "");
    eprintln!("{out}");
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("my_wan"), "{out}");
    assert!(
        out.contains("defaults to verify-full") && out.contains("sslmode = \"require\""),
        "{out}"
    );

    // Plaintext written out: it connects, and check warns (the table it
    // names does not exist there, which check reports too).
    let (_, out) = check(dir.path(), &url, "sslmode = \"disable\"\n");
    let server_lines = out.split_once("connection my_wan").unwrap().1;
    assert!(server_lines.contains("✓ reachable: "), "{out}");
    assert!(server_lines.contains("cross the network in clear"), "{out}");
}
