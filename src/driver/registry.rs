//! The driver registry: `driver = "…"` in the config → an [`Endpoint`].
//! Adding a driver is one module (which describes itself in a [`Driver`])
//! and one line here.

use super::{
    negotiate, Capabilities, ChecksumDialect, DriverError, Endpoint, ErrorKind, Pairing, RawFormat,
    Result,
};
use crate::config::{DriverRules, EngineConfig, Mode, ServerConfig};
use std::path::Path;

/// Everything the rest of the program may know of one driver.
pub struct Driver {
    /// The `driver = "…"` name.
    pub name: &'static str,
    /// Other names `driver = "…"` accepts for it (`mariadb` for `mysql`).
    pub aliases: &'static [&'static str],
    /// What its `url` looks like, quoted for config errors.
    pub url_example: &'static str,
    /// Why a `url` is not one of its URLs (the whole message, no password
    /// in it); checked when the config is loaded.
    pub check_url: fn(&str) -> std::result::Result<(), String>,
    /// The `url` with any relative file path anchored at the config's folder.
    pub resolve_url: fn(&Path, &str) -> String,
    /// Why a connection's `schema` (where its unqualified source tables
    /// live, in the driver's terms) cannot be one of its namespaces (the
    /// whole message); checked when the config is loaded.
    pub check_schema: fn(&str) -> std::result::Result<(), String>,
    /// The password to connect with: `password_env`, the URL, the client's
    /// own password file, in the driver's order. `Ok(None)`: none.
    pub password: fn(&ServerConfig) -> Result<Option<String>>,
    /// What it can do beyond the required trait methods: the one statement
    /// of them (its endpoints answer it, and [`route`] reads it).
    pub capabilities: Capabilities,
    /// Its endpoint for a server, with at most this many sessions.
    pub open: fn(&ServerConfig, &EngineConfig, u32) -> Result<Box<dyn Endpoint>>,
    /// The cause in an error message it wrote (as the journal stores it):
    /// the server's or the system's own words, without the context before
    /// them and the advice after; `None` when the message is not one of its
    /// own or has no such part.
    pub cause: fn(&str) -> Option<&str>,
}

/// Every driver.
pub const DRIVERS: &[Driver] = &[
    super::postgres::DRIVER,
    super::sqlite::DRIVER,
    super::mysql::DRIVER,
];

/// The cause in a stored error message, as the driver that wrote it
/// finds it (see [`Driver::cause`]).
pub fn cause_of(message: &str) -> Option<&str> {
    DRIVERS
        .iter()
        .find_map(|d| (d.cause)(message))
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// The driver named `name` (or one of its aliases).
pub fn find(name: &str) -> Option<&'static Driver> {
    DRIVERS
        .iter()
        .find(|d| d.name == name || d.aliases.contains(&name))
}

/// Open the endpoint for `server`, with at most `max_sessions` connections.
pub fn open_endpoint(
    server: &ServerConfig,
    engine: &EngineConfig,
    max_sessions: u32,
) -> Result<Box<dyn Endpoint>> {
    match find(&server.driver) {
        Some(d) => (d.open)(server, engine, max_sessions),
        None => Err(DriverError::new(
            ErrorKind::Other,
            format!(
                "{}: no driver named {:?}; known drivers: {}",
                server.name,
                server.driver,
                driver_names().join(", ")
            ),
        )),
    }
}

/// Every name `driver = "…"` accepts: each driver's, then its aliases.
pub fn driver_names() -> Vec<&'static str> {
    DRIVERS
        .iter()
        .flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()))
        .collect()
}

/// How a table's rows travel from a source of one driver to a target of
/// another, as their registry entries negotiate it (the engine negotiates
/// the same with the opened endpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `mirror` by range checksums on both servers: only the key ranges
    /// whose checksums differ cross the links.
    RangeChecksums(ChecksumDialect),
    /// The source's raw stream passes untouched when the target's column
    /// types are exactly the source's (else the rows are decoded).
    Passthrough(RawFormat),
    /// Decoded rows.
    Rows,
}

/// The route of a table in `mode` from a `source` driver to a `target`
/// driver (`None`: a driver name the registry does not know).
pub fn route(source: &str, target: &str, mode: Mode) -> Option<Route> {
    let pairing = negotiate(&find(source)?.capabilities, &find(target)?.capabilities);
    Some(Route::of(&pairing, mode))
}

impl Route {
    /// The route a table in `mode` takes given what its two ends agreed on.
    pub fn of(pairing: &Pairing, mode: Mode) -> Route {
        match (mode, pairing.checksums, pairing.passthrough) {
            (Mode::Mirror, Some(dialect), _) => Route::RangeChecksums(dialect),
            (_, _, Some(format)) => Route::Passthrough(format),
            _ => Route::Rows,
        }
    }

    /// In words, for a table in `mode`.
    pub fn describe(&self, mode: Mode) -> String {
        match self {
            Route::RangeChecksums(d) => {
                format!(
                    "range checksums ({}): only differing key ranges are copied",
                    d.0
                )
            }
            Route::Passthrough(f) => {
                format!(
                    "passthrough ({}) when the column types match, else rows",
                    f.0
                )
            }
            Route::Rows if mode == Mode::Mirror => {
                "rows: the whole table in key order, keys not received are deleted".to_owned()
            }
            Route::Rows => "rows".to_owned(),
        }
    }
}

/// The registry as the config sees it: [`crate::config::Config::load`]
/// takes `&Registry` to check and anchor what is driver-specific.
pub struct Registry;

impl DriverRules for Registry {
    fn names(&self) -> Vec<&'static str> {
        driver_names()
    }

    fn url_example(&self, driver: &str) -> Option<&'static str> {
        find(driver).map(|d| d.url_example)
    }

    fn check_url(&self, driver: &str, url: &str) -> std::result::Result<(), String> {
        find(driver).map_or(Ok(()), |d| (d.check_url)(url))
    }

    fn check_schema(&self, driver: &str, schema: &str) -> std::result::Result<(), String> {
        find(driver).map_or(Ok(()), |d| (d.check_schema)(schema))
    }

    fn resolve_url(&self, driver: &str, base: &Path, url: &str) -> String {
        find(driver).map_or_else(|| url.to_owned(), |d| (d.resolve_url)(base, url))
    }
}

/// A driver whose `url` holds no file path: the url as it is.
pub fn url_as_is(_base: &Path, url: &str) -> String {
    url.to_owned()
}

/// A driver whose every namespace name may be asked for: the server says
/// whether it exists when the table is looked up.
pub fn any_schema(_schema: &str) -> std::result::Result<(), String> {
    Ok(())
}
