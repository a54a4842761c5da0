//! A private MariaDB started for one test, in a temporary folder on a
//! port of its own, for what the shared server cannot be changed to do
//! (its settings are global): `local_infile = 0`, TLS with the test's own
//! certificates. Stopped when dropped.
#![allow(dead_code)]

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateServer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl PrivateServer {
    /// Initializes a data folder and starts `mariadbd` on it with `extra`
    /// options, once `prepare` (given the server's folder) has run.
    pub fn start(extra: &[String], prepare: impl FnOnce(&std::path::Path)) -> PrivateServer {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let data = dir.path().join("data");
        let installed = std::process::Command::new("mariadb-install-db")
            .args([
                "--no-defaults",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("mariadb-install-db (the MariaDB server package)");
        assert!(installed.success());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--socket={}", dir.path().join("s.sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("p.pid").display()))
            .args([
                "--bind-address=127.0.0.1",
                "--skip-grant-tables",
                "--user=root",
                "--innodb-buffer-pool-size=16M",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mariadbd");
        let server = PrivateServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.conn().is_none() {
            assert!(
                Instant::now() < deadline,
                "the private MariaDB did not start"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// `mysql://root@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        self.url_at("127.0.0.1", db)
    }

    /// The server's URL through `host` (`localhost` reaches it too).
    pub fn url_at(&self, host: &str, db: &str) -> String {
        format!("mysql://root@{host}:{}/{db}", self.port)
    }

    /// A plain connection, once the server answers.
    pub fn conn(&self) -> Option<mysql::Conn> {
        let opts = mysql::OptsBuilder::from_opts(mysql::Opts::from_url(&self.url("")).unwrap())
            .prefer_socket(false);
        mysql::Conn::new(opts).ok()
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
