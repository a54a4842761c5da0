//! A throwaway PostgreSQL database per test, on the server named by
//! `BRANCHSYNC_TEST_PG` (default `postgres://root@127.0.0.1:5432/test`),
//! dropped (even with sessions still connected) when the value is dropped.
#![allow(dead_code)]

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU32, Ordering};

/// The server URL the tests use.
pub fn server_url() -> String {
    std::env::var("BRANCHSYNC_TEST_PG")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// `url` with its database replaced by `db` (query string kept).
pub use branchsync::bench::url_with_db;

pub fn admin() -> Client {
    let url = server_url();
    Client::connect(&url, NoTls).unwrap_or_else(|e| {
        panic!("cannot connect to the test server (set BRANCHSYNC_TEST_PG): {e}")
    })
}

/// A database created for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates `<prefix>_<pid>_<n>_<time>` (lower case, at most 63 bytes).
    pub fn create(prefix: &str) -> TestDb {
        TestDb::create_with(prefix, "")
    }

    /// [`TestDb::create`] with `CREATE DATABASE` options (`TEMPLATE
    /// template0 LC_COLLATE 'C'`, say).
    pub fn create_with(prefix: &str, options: &str) -> TestDb {
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
        admin()
            .batch_execute(&format!("CREATE DATABASE \"{name}\" {options}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = url_with_db(&server_url(), &name);
        TestDb { name, url }
    }

    /// A new connection to this database.
    pub fn client(&self) -> Client {
        Client::connect(&self.url, NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.name))
    }

    /// Runs `sql` (any number of statements) or panics.
    pub fn exec(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap_or_else(|e| {
            let why = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |d| d.to_string());
            panic!("{}: {sql}: {why}", self.name)
        });
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&server_url(), NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}
