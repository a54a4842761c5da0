//! The `mysql` driver: MySQL 8 and MariaDB 10.11+ as a branch source or as
//! the central target, through the synchronous `mysql` crate (rustls, so no
//! system OpenSSL) and its own connection pool.
//!
//! `url = "mysql://user@host:3306/database"`. The password comes from the
//! variable named by `password_env`, else the URL, else `[client] password`
//! in `~/.my.cnf` (as the `mysql` client reads it). `sslmode`: `disable`,
//! `require`, `verify-full` (with `sslrootcert` or the system's roots);
//! unset, it is `disable` for a loopback host or a socket and `verify-full`
//! for any other, as for PostgreSQL. `[engine] connect_timeout` bounds connecting; `statement_timeout`
//! becomes the session's `max_statement_time` (MariaDB) or
//! `max_execution_time` (MySQL). A cancel sends `KILL QUERY` from a side
//! connection, and the killed connection leaves the pool.
//!
//! Every connection uses utf8mb4 (latin1 and other tables are converted by
//! the server), UTC as its time zone, and a strict `sql_mode`. A source
//! reads each table inside `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ
//! ONLY`, streaming rows (the client never holds more than one). A table
//! name qualified in the config (`shop.orders`) names the database; the
//! target's `schema` key names the target database (default: the URL's).
//!
//! # Types, MySQL → driver values (reading)
//!
//! | MySQL type                                  | kind        | note                                  |
//! |---------------------------------------------|-------------|---------------------------------------|
//! | `TINYINT(1)` (`BOOLEAN`)                    | Bool        | 0 or 1; other values: rejected row    |
//! | `TINYINT`…`BIGINT`, unsigned up to `INT`, `YEAR` | Int    |                                       |
//! | `BIGINT UNSIGNED`                           | Numeric     | up to 18446744073709551615, exact     |
//! | `DECIMAL(p,s)` (up to `DECIMAL(65,30)`)     | Numeric     | exact text                            |
//! | `FLOAT`, `DOUBLE`                           | Float       |                                       |
//! | `CHAR`, `VARCHAR`, `*TEXT`, `ENUM`, `SET`, `TIME` | Text  | `SET` as `a,b`; `TIME` as `HH:MM:SS`  |
//! | `JSON` (MariaDB: `LONGTEXT` + `json_valid`) | Json        |                                       |
//! | `BINARY`, `VARBINARY`, `*BLOB`, `BIT`, spatial | Bytes    | raw bytes                             |
//! | `DATE`                                      | Date        |                                       |
//! | `DATETIME(n)`                               | Timestamp   | microseconds kept                     |
//! | `TIMESTAMP(n)`                              | TimestampTz | read in UTC                           |
//!
//! **Zero dates.** `0000-00-00` (and dates with a zero month or day) exist
//! only in MySQL. A row holding one goes to the table's reject file with the
//! reason naming the column, and is not written; the run counts it as
//! rejected. Fix the row at the branch, or set the value NULL there. A
//! `TINYINT(1)` holding neither 0 nor 1 (`2`, `-1`) is rejected the same
//! way: as a boolean it would change.
//!
//! # Types, driver values → MySQL (writing)
//!
//! A new target column read from MySQL keeps its type. From another dialect
//! the kind decides: Bool → `TINYINT(1)`, Int → `BIGINT`, Float → `DOUBLE`,
//! Numeric → `DECIMAL(p,s)` when the source declares them, else
//! `DECIMAL(65,30)` (more than 30 decimal places are rounded by MySQL),
//! Text → `VARCHAR(n)` when the source (or the type a domain is built on)
//! declares n, else `LONGTEXT`
//! (`VARCHAR(255)` in a key), Bytes → `LONGBLOB` (`VARBINARY(255)` in a
//! key), Date → `DATE`, Timestamp and TimestampTz → `DATETIME(6)` (UTC; a
//! `TIMESTAMP` would stop in 2038), Json → `JSON`. Tables are created as
//! InnoDB in utf8mb4 with a binary, no-pad collation, so keys compare as at
//! the source. NaN and infinite floats cannot be stored (the write fails,
//! naming the column).

mod load;
mod login;
mod repeats;
mod schema;
mod session;
mod source;
mod target;
mod types;
mod values;

use super::registry::{any_schema, url_as_is, Driver};
use super::{Capabilities, Endpoint, Result, ServerInfo, Source, Target};
use crate::config::{EngineConfig, ServerConfig};
use mysql::prelude::Queryable;
use session::Server;

/// Reads run in `START TRANSACTION WITH CONSISTENT SNAPSHOT`; no raw
/// format and no server-side range checksums (so `mirror` streams).
pub const CAPABILITIES: Capabilities = Capabilities {
    raw_formats: &[],
    range_checksums: None,
    snapshot_reads: true,
};

/// The `mysql` driver, as the registry holds it.
pub const DRIVER: Driver = Driver {
    name: "mysql",
    aliases: &["mariadb"],
    url_example: login::URL_EXAMPLE,
    check_url: login::check_url,
    resolve_url: url_as_is,
    check_schema: any_schema,
    password: login::connect_password,
    capabilities: CAPABILITIES,
    open,
    cause: session::cause,
};

/// Open the endpoint for `server`. Nothing connects until a session is
/// asked for.
pub fn open(
    server: &ServerConfig,
    engine: &EngineConfig,
    max_sessions: u32,
) -> Result<Box<dyn Endpoint>> {
    let (opts, tls) = login::options(server, engine)?;
    let max = server.pool_size.unwrap_or(max_sessions);
    let srv = Server::new(
        &server.name,
        opts,
        tls,
        max,
        engine.connect_timeout.0,
        engine.statement_timeout.0,
    )?;
    Ok(Box::new(MysqlEndpoint { server: srv }))
}

struct MysqlEndpoint {
    server: Server,
}

impl Endpoint for MysqlEndpoint {
    /// The database of the URL (a URL without one has no default: the
    /// server then names the missing database in its error).
    fn default_schema(&self) -> &str {
        self.server.opts.get_db_name().unwrap_or("")
    }

    fn driver(&self) -> &'static str {
        "mysql"
    }

    fn source(&self) -> Result<Box<dyn Source>> {
        Ok(Box::new(source::MysqlSource::new(self.server.session()?)))
    }

    fn target(&self) -> Result<Box<dyn Target>> {
        Ok(Box::new(target::MysqlTarget::new(self.server.session()?)))
    }

    fn probe(&self) -> Result<ServerInfo> {
        let mut s = self.server.session()?;
        let doing = "asking for the server version";
        let version: Option<String> = s
            .conn()
            .query_first("SELECT VERSION()")
            .map_err(|e| s.err(&e, doing))?;
        let cipher: Option<(String, String)> = s
            .conn()
            .query_first("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            .map_err(|e| s.err(&e, doing))?;
        let version = version.unwrap_or_default();
        let flavour = if version.contains("MariaDB") {
            "MariaDB"
        } else {
            "MySQL"
        };
        let tls = &self.server.tls;
        Ok(ServerInfo {
            version: format!("{flavour} {version}"),
            tls: cipher
                .map(|(_, c)| c)
                .filter(|c| !c.is_empty())
                .map(|c| format!("{} ({c})", tls.label())),
            warning: tls.plaintext_warning(),
        })
    }
}
