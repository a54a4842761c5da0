//! A throwaway MySQL/MariaDB database per test, on the server named by
//! `BRANCHSYNC_TEST_MYSQL` (default `mysql://root@127.0.0.1:3306/test`),
//! dropped when the value is dropped. Sessions run with `PIPES_AS_CONCAT`
//! and `ANSI_QUOTES`, so the story's portable SQL (`a || b`, `"col"`) means
//! what it means elsewhere.
#![allow(dead_code)]

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server URL the tests use.
pub fn server_url() -> String {
    std::env::var("BRANCHSYNC_TEST_MYSQL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn connect(db: Option<&str>) -> Conn {
    let opts = Opts::from_url(&server_url()).expect("BRANCHSYNC_TEST_MYSQL is a mysql:// URL");
    let opts = OptsBuilder::from_opts(opts).db_name(db).init(vec![
        "SET NAMES utf8mb4",
        "SET SESSION time_zone = '+00:00'",
        "SET SESSION sql_mode = 'STRICT_ALL_TABLES,PIPES_AS_CONCAT,ANSI_QUOTES'",
    ]);
    Conn::new(opts).unwrap_or_else(|e| {
        panic!("cannot connect to the MySQL test server (run scripts/test.sh, or set BRANCHSYNC_TEST_MYSQL): {e}")
    })
}

/// A database created for one test.
pub struct MyDb {
    pub name: String,
    pub url: String,
}

impl MyDb {
    /// Creates `<prefix>_<pid>_<n>_<time>` (lower case, at most 64 bytes).
    pub fn create(prefix: &str) -> MyDb {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let clean: String = prefix
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .take(32)
            .collect();
        let name = format!(
            "{clean}_{}_{}_{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        connect(None)
            .query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let base = server_url();
        let root = base.rsplit_once('/').map_or(base.as_str(), |(r, _)| r);
        let url = format!("{root}/{name}");
        MyDb { name, url }
    }

    /// A connection to the server, in no database.
    pub fn admin() -> Conn {
        connect(None)
    }

    /// A new connection to this database.
    pub fn conn(&self) -> Conn {
        connect(Some(&self.name))
    }

    /// Runs `sql` (any number of statements) or panics.
    pub fn exec(&self, sql: &str) {
        self.conn()
            .query_drop(sql)
            .unwrap_or_else(|e| panic!("{}: {sql}: {e}", self.name));
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        let _ = connect(None).query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
    }
}
