//! From a file to a checked [`Config`]: read, parse (positions kept for
//! errors), validate, then anchor relative paths at the config file's folder,
//! because cron runs from `/`.

use super::error::parse_error;
use super::{validate, Config, ConfigError, DriverRules, ServerConfig};
use std::path::{Path, PathBuf};

impl Config {
    /// Read, parse and validate `path`; relative paths inside resolve against
    /// the file's folder. `drivers` checks what is driver-specific (the
    /// driver registry: `driver::registry::Registry`).
    pub fn load(path: &Path, drivers: &dyn DriverRules) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path, drivers)
    }

    /// For commands that only read the journal (`sync-status`, `export`,
    /// `stats`, `prune`, `serve`): only `[journal]` must be present and valid;
    /// the other sections are left to the commands that use them (a broken
    /// `[[table]]` must not hide the journal from the operator).
    pub fn load_journal_only(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let table: toml::Table = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
        let mut only = toml::Table::new();
        for key in ["journal", "log"] {
            if let Some(v) = table.get(key) {
                only.insert(key.to_owned(), v.clone());
            }
        }
        let mut config: Config = match only.try_into() {
            Ok(c) => c,
            // Report it with its position, as the full parse does.
            Err(e) => {
                let e = toml::from_str::<Config>(text).err().unwrap_or(e);
                return Err(parse_error(text, path, &e));
            }
        };
        config.path = path.to_path_buf();
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        config.journal.path = resolve(&base, &config.journal.path);
        if let Some(f) = &config.log.file {
            config.log.file = Some(resolve(&base, f));
        }
        Ok(config)
    }

    /// Parse and validate config text (`path` names it in errors and anchors
    /// relative paths).
    pub fn parse(
        text: &str,
        path: &Path,
        drivers: &dyn DriverRules,
    ) -> Result<Config, ConfigError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut config: Config = toml::from_str(text).map_err(|e| parse_error(text, path, &e))?;
        config.path = path.to_path_buf();
        validate::validate(&config, text, drivers)?;
        super::notify::check(&config.notify, path, text)?;
        if let Some(t) = &mut config.target {
            t.name = "target".into();
        }
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        config.journal.path = resolve(&base, &config.journal.path);
        if let Some(f) = &config.log.file {
            config.log.file = Some(resolve(&base, f));
        }
        if let Some(f) = &config.metrics.textfile {
            config.metrics.textfile = Some(resolve(&base, f));
        }
        if let Some(t) = &mut config.target {
            resolve_server(&base, t, drivers);
        }
        for c in &mut config.connections {
            resolve_server(&base, c, drivers);
        }
        Ok(config)
    }
}

fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// The driver anchors a url that holds a relative path; `sslrootcert` is a
/// path of the config.
fn resolve_server(base: &Path, s: &mut ServerConfig, drivers: &dyn DriverRules) {
    s.url = drivers.resolve_url(&s.driver, base, &s.url);
    if let Some(cert) = &s.sslrootcert {
        s.sslrootcert = Some(resolve(base, cert));
    }
}
