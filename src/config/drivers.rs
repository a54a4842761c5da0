//! What reading a config must know of the drivers, asked through a trait:
//! config is the ground floor and knows no database. The driver registry
//! (`driver::registry::Registry`) answers for every driver it holds.

use std::path::Path;

/// The driver facts a config check and path anchoring need.
pub trait DriverRules {
    /// Every name `driver = "…"` accepts, in the order to list them.
    fn names(&self) -> Vec<&'static str>;
    /// What a `url` of `driver` looks like, for errors
    /// (`"postgres://user@host:5432/database"`).
    fn url_example(&self, driver: &str) -> Option<&'static str>;
    /// Why `url` is not a usable URL for `driver`: the whole message, with
    /// no part of a password in it. `Ok` when it is.
    fn check_url(&self, driver: &str, url: &str) -> Result<(), String>;
    /// Why `schema`, a connection's namespace for unqualified source
    /// tables (a PostgreSQL schema, a MySQL database), is not one `driver`
    /// has: the whole message. `Ok` when it may be.
    fn check_schema(&self, driver: &str, schema: &str) -> Result<(), String>;
    /// `url` with any relative file path in it anchored at `base` (the
    /// config file's folder, because cron runs from `/`).
    fn resolve_url(&self, driver: &str, base: &Path, url: &str) -> String;
}
