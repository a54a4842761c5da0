//! Checks that serde cannot express: names, references between entries,
//! mode/key/cursor/from consistency, numbers that must be positive. Each
//! error names the entry and key, points at its line:column, and says the fix.

use super::error::closest;
use super::spans::{Section, Spans};
use super::{line_col, Config, ConfigError, DriverRules, Mode, ServerConfig, SslMode, TableConfig};
use std::collections::HashSet;

pub(super) fn validate(
    config: &Config,
    text: &str,
    drivers: &dyn DriverRules,
) -> Result<(), ConfigError> {
    let check = Checker {
        config,
        text,
        spans: Spans::read(text),
        drivers,
    };
    check.journal()?;
    check.engine()?;
    if let Some(target) = &config.target {
        if !target.name.is_empty() {
            return Err(check.fail(
                Section::Target,
                Some("name"),
                "the target has no name (it is always \"target\"); remove this key".into(),
            ));
        }
        check.server(Section::Target, target)?;
    }
    check.connections()?;
    check.tables()
}

pub(super) struct Checker<'a> {
    pub(super) config: &'a Config,
    text: &'a str,
    spans: Spans,
    pub(super) drivers: &'a dyn DriverRules,
}

pub(super) type Check = Result<(), ConfigError>;

impl Checker<'_> {
    /// The error for `key` of `section`, at the key's position when known.
    pub(super) fn fail(&self, section: Section, key: Option<&str>, message: String) -> ConfigError {
        let mut entry = match section {
            Section::Journal => "[journal]".to_owned(),
            Section::Log => "[log]".to_owned(),
            Section::Engine => "[engine]".to_owned(),
            Section::Target => "[target]".to_owned(),
            Section::Connection(i) => match self.config.connections[i].name.as_str() {
                "" => format!("[[connection]] #{}", i + 1),
                name => format!("[[connection]] #{} {name:?}", i + 1),
            },
            Section::Table(i) => format!("[[table]] #{} {:?}", i + 1, self.config.tables[i].model),
        };
        if let Some(key) = key {
            entry.push_str(&format!(" key {key}"));
        }
        let path = self.config.path.clone();
        match self.spans.offset(section, key) {
            Some(at) => {
                let (line, column) = line_col(self.text, at);
                ConfigError::InvalidAt {
                    path,
                    line,
                    column,
                    entry,
                    message,
                }
            }
            None => ConfigError::Invalid {
                path,
                entry,
                message,
            },
        }
    }

    /// A column or table name: non-empty, no surrounding spaces, no control
    /// characters. Quotes are fine: every identifier is quoted when used.
    pub(super) fn ident(&self, section: Section, key: &str, value: &str, what: &str) -> Check {
        let bad = value.trim().is_empty()
            || value.trim() != value
            || value.chars().any(|c| c.is_control());
        if bad {
            return Err(self.fail(
                section,
                Some(key),
                format!("{value:?} is not a usable {what} name; expected a name like \"m_product_id\" (no surrounding spaces or control characters)"),
            ));
        }
        Ok(())
    }

    fn journal(&self) -> Check {
        if self.config.journal.path.as_os_str().is_empty() {
            return Err(self.fail(
                Section::Journal,
                Some("path"),
                "is empty; expected a file path like \"storage/sync-journal.db\"".into(),
            ));
        }
        if let Some(file) = &self.config.log.file {
            if file.as_os_str().is_empty() {
                return Err(self.fail(
                    Section::Log,
                    Some("file"),
                    "is empty; expected a file path like \"storage/logs/sync.log\", or remove the key to log to stderr only".into(),
                ));
            }
        }
        Ok(())
    }

    fn engine(&self) -> Check {
        if self.config.engine.threads == 0 {
            return Err(self.fail(
                Section::Engine,
                Some("threads"),
                "must be at least 1 (the number of tables copied at once; default 8)".into(),
            ));
        }
        if self.config.engine.mirror_factor < 2 {
            return Err(self.fail(
                Section::Engine,
                Some("mirror_factor"),
                "must be at least 2 (the parts a differing key range is cut into; default 16)"
                    .into(),
            ));
        }
        if self.config.engine.mirror_leaf_rows == 0 {
            return Err(self.fail(
                Section::Engine,
                Some("mirror_leaf_rows"),
                "must be at least 1 (rows of a key range compared row by row; default 4)".into(),
            ));
        }
        if self.config.engine.chunk_rows == 0 {
            return Err(self.fail(
                Section::Engine,
                Some("chunk_rows"),
                format!(
                    "must be at least 1 (rows per committed chunk of a large copy; default {})",
                    super::DEFAULT_CHUNK_ROWS
                ),
            ));
        }
        if self.config.engine.retry_backoff_max.0 < self.config.engine.retry_backoff.0 {
            return Err(self.fail(
                Section::Engine,
                Some("retry_backoff_max"),
                "is shorter than retry_backoff; set it to at least retry_backoff (default \"60s\")"
                    .into(),
            ));
        }
        Ok(())
    }

    fn server(&self, section: Section, s: &ServerConfig) -> Check {
        let drivers = self.drivers.names();
        if !drivers.contains(&s.driver.as_str()) {
            let hint = closest(&s.driver, &drivers)
                .map(|d| format!(" Did you mean {d:?}?"))
                .unwrap_or_default();
            return Err(self.fail(
                section,
                Some("driver"),
                format!(
                    "unknown driver {:?}; expected one of: {}.{hint}",
                    s.driver,
                    drivers.join(", ")
                ),
            ));
        }
        if s.url.trim().is_empty() {
            let example = self.drivers.url_example(&s.driver).unwrap_or("a URL");
            return Err(self.fail(
                section,
                Some("url"),
                format!("is empty; expected {example}"),
            ));
        }
        if let Err(message) = self.drivers.check_url(&s.driver, &s.url) {
            return Err(self.fail(section, Some("url"), message));
        }
        if s.pool_size == Some(0) {
            return Err(self.fail(
                section,
                Some("pool_size"),
                "must be at least 1 (connections kept open to this server)".into(),
            ));
        }
        if s.sslrootcert.is_some() && s.sslmode != Some(SslMode::VerifyFull) {
            return Err(self.fail(
                section,
                Some("sslrootcert"),
                "is only used with sslmode = \"verify-full\"; set that, or remove sslrootcert"
                    .into(),
            ));
        }
        if let Some(cert) = &s.sslrootcert {
            if cert.as_os_str().is_empty() {
                return Err(self.fail(
                    section,
                    Some("sslrootcert"),
                    "is empty; expected the path of a CA file like \"certs/branch-ca.pem\", or remove it to use the system roots".into(),
                ));
            }
        }
        if let Some(var) = &s.password_env {
            if var.is_empty() || var.contains(['=', '\0']) || var.chars().any(char::is_whitespace) {
                return Err(self.fail(
                    section,
                    Some("password_env"),
                    format!("{var:?} is not an environment variable name; expected a name like \"PGSQL_LMP_PASSWORD\""),
                ));
            }
        }
        if section == Section::Target {
            if let Some(schema) = &s.schema {
                self.ident(section, "schema", schema, "schema")?;
            }
            if let Some(col) = &s.branch_column {
                self.ident(section, "branch_column", col, "column")?;
            }
        } else {
            if let Some(schema) = &s.schema {
                self.ident(section, "schema", schema, "schema")?;
                if let Err(message) = self.drivers.check_schema(&s.driver, schema) {
                    return Err(self.fail(section, Some("schema"), message));
                }
            }
            for (key, set) in [
                ("branch_column", s.branch_column.is_some()),
                ("partitions", s.partitions.is_some()),
            ] {
                if set {
                    return Err(self.fail(
                        section,
                        Some(key),
                        format!("only [target] has {key}; remove it here"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn connections(&self) -> Check {
        let mut seen = HashSet::new();
        for (i, c) in self.config.connections.iter().enumerate() {
            let section = Section::Connection(i);
            let valid = !c.name.is_empty()
                && c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(self.fail(
                    section,
                    Some("name"),
                    format!("{:?} is not a connection name; expected lower-case letters, digits and _ ([a-z0-9_]+, e.g. \"pgsql_lmp\")", c.name),
                ));
            }
            if c.name == "target" {
                return Err(self.fail(
                    section,
                    Some("name"),
                    "\"target\" names the central database; choose another name".into(),
                ));
            }
            if !seen.insert(c.name.as_str()) {
                return Err(self.fail(
                    section,
                    Some("name"),
                    format!(
                        "duplicate connection {:?}; every [[connection]] needs its own name",
                        c.name
                    ),
                ));
            }
            self.server(section, c)?;
        }
        Ok(())
    }

    fn tables(&self) -> Check {
        let mut models = HashSet::new();
        let mut targets = HashSet::new();
        for (i, t) in self.config.tables.iter().enumerate() {
            let section = Section::Table(i);
            self.table(section, t)?;
            if !models.insert(t.model.to_ascii_lowercase()) {
                return Err(self.fail(
                    section,
                    Some("model"),
                    format!("duplicate model {:?} (model names are compared ignoring case); every [[table]] needs its own model", t.model),
                ));
            }
            if !targets.insert(t.target_table()) {
                let key = if t.target.is_some() {
                    "target"
                } else {
                    "source"
                };
                return Err(self.fail(
                    section,
                    Some(key),
                    format!("another [[table]] already writes the target table {:?}; set target = \"<another table>\" or remove one entry", t.target_table()),
                ));
            }
        }
        Ok(())
    }

    fn table(&self, section: Section, t: &TableConfig) -> Check {
        let model_ok = !t.model.is_empty()
            && t.model
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !model_ok {
            return Err(self.fail(
                section,
                Some("model"),
                format!(
                    "{:?} is not a model name; expected letters, digits and _ (e.g. \"MProduct\")",
                    t.model
                ),
            ));
        }
        let parts: Vec<&str> = t.source.split('.').collect();
        if parts.len() > 2 {
            return Err(self.fail(
                section,
                Some("source"),
                format!(
                    "{:?} has more than one dot; expected \"table\" or \"schema.table\"",
                    t.source
                ),
            ));
        }
        for part in parts {
            self.ident(section, "source", part, "source table")?;
        }
        self.sources(section, t)?;
        if let Some(target) = &t.target {
            self.ident(section, "target", target, "target table")?;
        }
        let mut keys = HashSet::new();
        for k in &t.key {
            self.ident(section, "key", k, "key column")?;
            if !keys.insert(k) {
                return Err(self.fail(
                    section,
                    Some("key"),
                    format!("column {k:?} is listed twice"),
                ));
            }
        }
        if t.mode != Mode::Full && t.key.is_empty() {
            return Err(self.fail(
                section,
                Some("key"),
                format!(
                    "mode {:?} needs the key columns: add key = [\"{}_id\"] (or use mode = \"full\")",
                    t.mode.as_str(),
                    t.source_table()
                ),
            ));
        }
        if let Some(cursor) = &t.cursor {
            self.ident(section, "cursor", cursor, "cursor column")?;
        }
        if t.mode == Mode::Incremental && t.cursor.is_none() {
            return Err(self.fail(
                section,
                Some("mode"),
                "mode \"incremental\" needs a cursor column: add cursor = \"updated\" (a column that grows with every change), or use mode = \"upsert\"".into(),
            ));
        }
        if let Some(from) = &t.from {
            if self.config.connection(from).is_none() {
                let (unknown, _) = self.unknown_connection(from);
                return Err(self.fail(
                    section,
                    Some("from"),
                    format!("{unknown}; fix the name or add that connection"),
                ));
            }
        }
        Ok(())
    }
}
