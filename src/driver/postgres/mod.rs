//! The `postgres` driver.

use super::{Endpoint, Result};
use crate::config::{EngineConfig, ServerConfig};

pub fn open(_server: &ServerConfig, _engine: &EngineConfig, _max: u32) -> Result<Box<dyn Endpoint>> {
    Err(super::DriverError::other("postgres driver not available yet"))
}
