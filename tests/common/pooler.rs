//! A real pgbouncer in front of the test server, started by a test and
//! stopped when dropped: the Debian package's binary, run as the
//! `postgres` user (it refuses to run as root), in session or transaction
//! pooling, trusting every user as the test server does.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The pgbouncer binary, when this machine has one.
pub fn pgbouncer() -> Option<PathBuf> {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

pub struct Pgbouncer {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Pgbouncer {
    /// A pgbouncer in `mode` (`session`, `transaction`) in front of the
    /// server of `server_url` (`postgres://user@host:port/db`).
    pub fn start(binary: &std::path::Path, mode: &str, server_url: &str) -> Pgbouncer {
        let (host, port) = host_port(server_url);
        let dir = tempfile::tempdir().unwrap();
        let listen = free_port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={host} port={port}\n\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {listen}\n\
                 auth_type = trust\nauth_file = {d}/users.txt\npool_mode = {mode}\nunix_socket_dir =\n\
                 logfile = {d}/pgbouncer.log\npidfile = {d}/pgbouncer.pid\nmax_client_conn = 200\ndefault_pool_size = 20\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("users.txt"), "\"root\" \"\"\n").unwrap();
        let chown = Command::new("chown")
            .args(["-R", "postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
        let status = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(binary)
            .arg("-d")
            .arg(dir.path().join("pgbouncer.ini"))
            .status()
            .expect("runuser starts pgbouncer");
        assert!(status.success(), "pgbouncer did not start");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err() {
            assert!(Instant::now() < deadline, "pgbouncer does not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Pgbouncer { dir, port: listen }
    }

    /// `url` of the test server, through the pooler.
    pub fn url_for(&self, url: &str) -> String {
        let (host, port) = host_port(url);
        url.replacen(
            &format!("{host}:{port}"),
            &format!("127.0.0.1:{}", self.port),
            1,
        )
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for Pgbouncer {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")) {
            if let Ok(pid) = pid.trim().parse::<i32>() {
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
        }
    }
}

fn host_port(url: &str) -> (String, u16) {
    let after = url.split("://").nth(1).unwrap();
    let authority = after.split('/').next().unwrap();
    let hostport = authority.rsplit('@').next().unwrap();
    match hostport.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap()),
        None => (hostport.to_owned(), 5432),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
