//! Checks that serde cannot express: names, references between entries, and
//! mode/cursor/from consistency. Each error names the entry, the key and the fix.

use super::{Config, ConfigError, Mode};

pub(super) fn validate(config: &Config) -> Result<(), ConfigError> {
    let invalid = |entry: String, message: String| ConfigError::Invalid {
        path: config.path.clone(),
        entry,
        message,
    };
    let mut seen = std::collections::HashSet::new();
    for (i, c) in config.connections.iter().enumerate() {
        let entry = format!("[[connection]] #{} {:?}", i + 1, c.name);
        if c.name.is_empty() || !c.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(invalid(entry, "key name: expected [a-z0-9_]+ (e.g. \"pgsql_lmp\")".into()));
        }
        if !seen.insert(c.name.clone()) {
            return Err(invalid(entry, format!("key name: duplicate connection {:?}; every connection needs its own name", c.name)));
        }
    }
    let mut models = std::collections::HashSet::new();
    for (i, t) in config.tables.iter().enumerate() {
        let entry = format!("[[table]] #{} {:?}", i + 1, t.model);
        if !models.insert(t.model.to_ascii_lowercase()) {
            return Err(invalid(entry, "key model: duplicate model name".into()));
        }
        if t.mode == Mode::Incremental && t.cursor.is_none() {
            return Err(invalid(entry, "key cursor: mode \"incremental\" needs cursor = \"<column>\" (e.g. \"updated\")".into()));
        }
        if t.mode != Mode::Full && t.key.is_empty() {
            return Err(invalid(entry, format!("key key: mode {:?} needs key = [\"<column>\", …]", t.mode.as_str())));
        }
        if let Some(from) = &t.from {
            if config.connection(from).is_none() {
                return Err(invalid(entry, format!("key from: no [[connection]] named {from:?}")));
            }
        }
    }
    Ok(())
}
