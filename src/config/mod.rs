//! The TOML config, typed. Unknown keys are errors (typos must not pass
//! silently); relative paths resolve against the config file's folder (cron
//! runs from `/`); secrets are resolved late and never printed.

mod drivers;
mod duration;
mod error;
mod load;
mod notify;
mod secrets;
mod sources;
mod spans;
mod validate;

pub use drivers::DriverRules;
pub use duration::{format_duration, parse_duration, DurationStr};
pub(crate) use error::line_col;
pub use error::ConfigError;
pub use notify::{
    url_host, EmailConfig, NotifyChannel, NotifyConfig, NotifyEvent, NotifyKind, SmtpTls, UrlSource,
};
pub use secrets::{redact_url, EnvPassword};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The file this came from (set by `load`).
    #[serde(skip)]
    pub path: PathBuf,
    pub journal: JournalConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    pub target: Option<ServerConfig>,
    #[serde(default, rename = "connection")]
    pub connections: Vec<ServerConfig>,
    #[serde(default, rename = "table")]
    pub tables: Vec<TableConfig>,
    /// Who hears about a batch when it ends (`[[notify]]`).
    #[serde(default, rename = "notify")]
    pub notify: Vec<NotifyConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    pub path: PathBuf,
    /// This machine's name in the fleet (the mirror's `runner` column);
    /// default: the host name.
    pub runner: Option<String>,
    /// Mirror the journal into the central database (PostgreSQL targets).
    #[serde(default = "yes")]
    pub mirror: bool,
    /// Schema of the mirror tables in the central database.
    pub mirror_schema: Option<String>,
}

fn yes() -> bool {
    true
}

impl JournalConfig {
    /// `[journal] mirror_schema`, default `branchsync`.
    pub fn mirror_schema(&self) -> &str {
        self.mirror_schema.as_deref().unwrap_or("branchsync")
    }
}

/// `[metrics]`: Prometheus figures for monitoring.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// A textfile-collector file rewritten (atomically) after every batch.
    pub textfile: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    pub threads: usize,
    pub retries: u32,
    pub retry_backoff: DurationStr,
    pub connect_timeout: DurationStr,
    pub statement_timeout: DurationStr,
    /// `mirror`: parts a differing key range is cut into.
    pub mirror_factor: u32,
    /// `mirror`: ranges of at most this many rows have their rows compared.
    pub mirror_leaf_rows: u64,
    /// The longest wait between two retries, whatever the doubling says.
    pub retry_backoff_max: DurationStr,
    /// A `full` copy of more rows than this commits in key-range chunks of
    /// this many rows and resumes after the last committed chunk.
    pub chunk_rows: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threads: 8,
            retries: 3,
            retry_backoff: DurationStr::from_secs(2),
            connect_timeout: DurationStr::from_secs(10),
            statement_timeout: DurationStr::from_secs(30 * 60),
            mirror_factor: 16,
            mirror_leaf_rows: 4,
            retry_backoff_max: DurationStr::from_secs(60),
            chunk_rows: DEFAULT_CHUNK_ROWS,
        }
    }
}

/// Default `[engine] chunk_rows` (see the README, "Chunks and resume").
pub const DEFAULT_CHUNK_ROWS: u64 = 500_000;

/// How branchsync creates consolidated tables (`[target] partitions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Partitions {
    /// One partition per connection, where the target can partition.
    #[default]
    PerBranch,
    /// One plain table.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    Require,
    VerifyFull,
}

/// A server: the target or one branch connection.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Connection name (`[a-z0-9_]+`); "target" for the target.
    #[serde(default)]
    pub name: String,
    pub driver: String,
    pub url: String,
    pub password_env: Option<String>,
    pub sslmode: Option<SslMode>,
    pub sslrootcert: Option<PathBuf>,
    pub pool_size: Option<u32>,
    /// At the target: schema (MySQL: database) of the consolidated tables.
    /// At a connection: where its unqualified `source` tables live, in its
    /// driver's terms (a PostgreSQL schema, a MySQL/MariaDB database; a
    /// SQLite file has only `main`).
    pub schema: Option<String>,
    /// Target only: column holding the connection name.
    pub branch_column: Option<String>,
    /// Target only: how new consolidated tables are laid out.
    pub partitions: Option<Partitions>,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("name", &self.name)
            .field("driver", &self.driver)
            .field("url", &redact_url(&self.url))
            .field("password_env", &self.password_env)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("pool_size", &self.pool_size)
            .field("schema", &self.schema)
            .field("branch_column", &self.branch_column)
            .field("partitions", &self.partitions)
            .finish()
    }
}

impl ServerConfig {
    pub fn branch_column(&self) -> &str {
        self.branch_column.as_deref().unwrap_or("branch")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Full,
    Upsert,
    Incremental,
    /// The slice equals the source exactly (inserts, updates, deletes),
    /// writing only differing rows.
    Mirror,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Upsert => "upsert",
            Mode::Incremental => "incremental",
            Mode::Mirror => "mirror",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableConfig {
    /// Model name (`MProduct`), accepted by `--tables` and `sync-table`.
    pub model: String,
    /// Source table, optionally schema-qualified (`adempiere.m_product`).
    pub source: String,
    /// Per connection, a source named differently there (`[table.sources]
    /// mysql_shop = "shop.products"`); the others read `source`.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// Target table; default: the source's table name.
    pub target: Option<String>,
    #[serde(default)]
    pub key: Vec<String>,
    #[serde(default = "default_mode")]
    pub mode: Mode,
    pub cursor: Option<String>,
    /// Set: a single-source table, synced from this connection only (step 1).
    pub from: Option<String>,
    /// Single-source tables carry the branch column only when this is true.
    #[serde(default)]
    pub with_branch: bool,
}

/// A source table as one connection reads it (see
/// [`TableConfig::source_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceName<'a> {
    /// `None`: the driver's default schema or database.
    pub schema: Option<&'a str>,
    pub table: &'a str,
}

impl<'a> SourceName<'a> {
    /// `schema.table` or `table` as written, `schema` when unqualified.
    fn read(written: &'a str, schema: Option<&'a str>) -> SourceName<'a> {
        match written.rsplit_once('.') {
            Some((schema, table)) => SourceName {
                schema: Some(schema),
                table,
            },
            None => SourceName {
                schema,
                table: written,
            },
        }
    }
}

impl fmt::Display for SourceName<'_> {
    /// `schema.table`, or `table` where the driver's default applies.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.schema {
            Some(s) => write!(f, "{s}.{}", self.table),
            None => f.write_str(self.table),
        }
    }
}

fn default_mode() -> Mode {
    Mode::Upsert
}

impl TableConfig {
    /// The table name of `source`, without its schema: the default target
    /// name. Where the table is read at a connection is [`Self::source_at`].
    pub fn source_table(&self) -> &str {
        self.source.rsplit('.').next().unwrap_or(&self.source)
    }

    /// Where this table is read at `conn`: its `sources` entry, else
    /// `source`; a name without a schema is looked up in the connection's
    /// `schema` (else the driver's default: `public`, the URL's database).
    pub fn source_at<'a>(&'a self, conn: &'a ServerConfig) -> SourceName<'a> {
        let written = self.sources.get(&conn.name).unwrap_or(&self.source);
        SourceName::read(written, conn.schema.as_deref())
    }

    /// The target table name.
    pub fn target_table(&self) -> &str {
        self.target
            .as_deref()
            .unwrap_or_else(|| self.source_table())
    }

    /// Does this table carry the branch column at the target?
    pub fn branch_tagged(&self) -> bool {
        self.from.is_none() || self.with_branch
    }
}

impl Config {
    /// The folder that holds the journal (rejects and logs go beside it).
    pub fn storage_dir(&self) -> PathBuf {
        self.journal
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn connection(&self, name: &str) -> Option<&ServerConfig> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// Where `table` is read at the connection named `conn` (`source` as
    /// written when no such connection is configured).
    pub fn source_of<'a>(&'a self, table: &'a TableConfig, conn: &str) -> SourceName<'a> {
        match self.connection(conn) {
            Some(c) => table.source_at(c),
            None => SourceName::read(&table.source, None),
        }
    }

    /// The table whose model or table name is `name` (case-insensitive for models).
    pub fn table(&self, name: &str) -> Option<&TableConfig> {
        self.tables.iter().find(|t| {
            t.model.eq_ignore_ascii_case(name)
                || t.target_table() == name
                || t.source_table() == name
                || t.source == name
        })
    }

    /// The target, or an error naming the missing section.
    pub fn require_target(&self) -> Result<&ServerConfig, ConfigError> {
        self.target.as_ref().ok_or_else(|| ConfigError::Invalid {
            path: self.path.clone(),
            entry: "[target]".into(),
            message: "missing section: this command needs the central database. Add [target] with driver and url (see config.example.toml)".into(),
        })
    }
}
