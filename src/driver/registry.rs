//! The driver registry: `driver = "…"` in the config → an [`Endpoint`].
//! Adding a driver is one module and one line here.

use super::{DriverError, Endpoint, ErrorKind, Result};
use crate::config::{EngineConfig, ServerConfig};

type Opener = fn(&ServerConfig, &EngineConfig, u32) -> Result<Box<dyn Endpoint>>;

/// (name, opener) of every driver.
pub const DRIVERS: &[(&str, Opener)] = &[
    ("postgres", super::postgres::open),
    ("sqlite", super::sqlite::open),
    ("mysql", super::mysql::open),
];

/// Open the endpoint for `server`, with at most `max_sessions` connections.
pub fn open_endpoint(
    server: &ServerConfig,
    engine: &EngineConfig,
    max_sessions: u32,
) -> Result<Box<dyn Endpoint>> {
    match DRIVERS.iter().find(|(name, _)| *name == server.driver) {
        Some((_, open)) => open(server, engine, max_sessions),
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

pub fn driver_names() -> Vec<&'static str> {
    DRIVERS.iter().map(|(n, _)| *n).collect()
}
