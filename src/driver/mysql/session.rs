//! A MySQL session: a pooled connection with the engine's statement timeout
//! set, a cancelled flag, and what cancelling needs (the connection id and
//! the options to open a side connection that sends `KILL QUERY`). Errors of
//! the client crate become [`DriverError`]s classified for retrying.

use crate::driver::{CancelHandle, DriverError, ErrorKind, Result};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, Pool, PooledConn};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// One configured server: the pool (filled lazily: a dead branch never
/// blocks start-up) and what every session needs.
pub struct Server {
    pub name: Arc<str>,
    pub opts: Opts,
    /// The `sslmode` in force, and whether it is the WAN default.
    pub tls: super::login::TlsChoice,
    pool: Pool,
    connect_timeout: Duration,
    statement_timeout: Duration,
    /// MariaDB and MySQL name the statement timeout differently.
    mariadb: OnceLock<bool>,
    /// Whether the server takes `LOAD DATA LOCAL INFILE` (see `load`).
    local_infile: Arc<OnceLock<bool>>,
}

impl Server {
    pub fn new(
        name: &str,
        opts: Opts,
        tls: super::login::TlsChoice,
        max: u32,
        connect: Duration,
        statement: Duration,
    ) -> Result<Server> {
        let max = max.max(1) as usize;
        let constraints = mysql::PoolConstraints::new(0, max)
            .ok_or_else(|| DriverError::other(format!("{name}: pool size {max} is not valid")))?;
        let pool_opts = mysql::PoolOpts::default().with_constraints(constraints);
        let with_pool: Opts = mysql::OptsBuilder::from_opts(opts.clone())
            .pool_opts(pool_opts)
            .into();
        let pool = Pool::new(with_pool).map_err(|e| error(name, &e, "opening the pool", false))?;
        Ok(Server {
            name: name.into(),
            opts,
            tls,
            pool,
            connect_timeout: connect.max(Duration::from_millis(100)),
            statement_timeout: statement,
            mariadb: OnceLock::new(),
            local_infile: Arc::new(OnceLock::new()),
        })
    }

    /// A failure to connect; one of TLS under the WAN default says the fix.
    fn connect_error(&self, e: &mysql::Error) -> DriverError {
        let mut err = error(&self.name, e, "connecting", false);
        let tls_failed = match e {
            mysql::Error::TlsError(_)
            | mysql::Error::DriverError(mysql::DriverError::TlsNotSupported) => true,
            mysql::Error::IoError(io) => io.kind() == std::io::ErrorKind::InvalidData,
            _ => false,
        };
        if tls_failed {
            err.message.push_str(self.tls.default_fix());
        }
        err
    }

    /// A session on a pooled connection, its statement timeout set.
    pub fn session(&self) -> Result<Session> {
        let mut conn = self
            .pool
            .try_get_conn(self.connect_timeout)
            .map_err(|e| self.connect_error(&e))?;
        let mariadb = match self.mariadb.get() {
            Some(m) => *m,
            None => {
                let version: Option<String> = conn
                    .query_first("SELECT VERSION()")
                    .map_err(|e| self.connect_error(&e))?;
                let m = version.is_some_and(|v| v.contains("MariaDB"));
                *self.mariadb.get_or_init(|| m)
            }
        };
        let secs = self.statement_timeout.as_secs_f64();
        let set_timeout = if mariadb {
            format!("SET SESSION max_statement_time = {secs:.3}")
        } else {
            // MySQL's limit applies to SELECT only; the socket timeouts
            // cover writes.
            format!(
                "SET SESSION max_execution_time = {}",
                self.statement_timeout.as_millis().min(u32::MAX as u128)
            )
        };
        conn.query_drop(set_timeout)
            .map_err(|e| self.connect_error(&e))?;
        let id = conn.connection_id();
        Ok(Session {
            conn: Some(conn),
            name: self.name.clone(),
            opts: self.opts.clone(),
            id,
            cancelled: Arc::new(AtomicBool::new(false)),
            local_infile: self.local_infile.clone(),
            // Binary and without trailing-space padding, so 'a' and 'a '
            // are two keys, as at every other database.
            collation: if mariadb {
                "utf8mb4_nopad_bin"
            } else {
                "utf8mb4_0900_bin"
            },
        })
    }
}

/// One connection for one table copy.
pub struct Session {
    conn: Option<PooledConn>,
    pub name: Arc<str>,
    opts: Opts,
    id: u32,
    cancelled: Arc<AtomicBool>,
    /// The server's answer to `LOAD DATA LOCAL`, once known (shared by its
    /// sessions).
    pub local_infile: Arc<OnceLock<bool>>,
    /// The collation of text columns of tables this driver creates.
    pub collation: &'static str,
}

impl Session {
    pub fn conn(&mut self) -> &mut PooledConn {
        self.conn
            .as_mut()
            .expect("the connection is present until drop")
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The cancelled flag, readable while a result borrows the connection.
    pub fn cancel_flag(&self) -> CancelFlag {
        CancelFlag(self.cancelled.clone())
    }

    pub fn check_cancelled(&self, doing: &str) -> Result<()> {
        if self.is_cancelled() {
            Err(cancelled(&self.name, doing))
        } else {
            Ok(())
        }
    }

    /// The driver error for `e`, met while `doing`.
    pub fn err(&self, e: &mysql::Error, doing: &str) -> DriverError {
        error(&self.name, e, doing, self.is_cancelled())
    }

    /// Runs `sql` (no rows), mapping errors.
    pub fn exec(&mut self, sql: &str, doing: &str) -> Result<()> {
        let r = self.conn().query_drop(sql);
        r.map_err(|e| self.err(&e, doing))
    }

    /// Ends a failed transaction; a connection that cannot roll back is
    /// dropped instead of going back to the pool.
    pub fn rollback(&mut self) {
        if self.conn().query_drop("ROLLBACK").is_err() {
            if let Some(c) = self.conn.take() {
                drop(c.unwrap());
            }
        }
    }

    /// Sets the flag, then kills the running statement from a side
    /// connection (`KILL QUERY <id>`); loops also look at the flag.
    pub fn cancel_handle(&self) -> CancelHandle {
        let flag = self.cancelled.clone();
        let opts = self.opts.clone();
        let id = self.id;
        Arc::new(move || {
            flag.store(true, Ordering::SeqCst);
            if let Ok(mut side) = Conn::new(opts.clone()) {
                let _ = side.query_drop(format!("KILL QUERY {id}"));
            }
        })
    }
}

impl Drop for Session {
    /// A cancelled connection leaves the pool: a late `KILL QUERY` must not
    /// hit the next user's statement.
    fn drop(&mut self) {
        if self.is_cancelled() {
            if let Some(c) = self.conn.take() {
                drop(c.unwrap());
            }
        }
    }
}

/// A session's cancelled flag.
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub fn cancelled(name: &str, doing: &str) -> DriverError {
    DriverError::new(ErrorKind::Cancelled, format!("{name}: {doing}: cancelled"))
}

/// Classify a client error: connection trouble and timeouts are retried;
/// wrong passwords, missing tables and bad data are not.
/// The fix for a statement larger than the server's `max_allowed_packet`
/// (a row holding a value of many megabytes, written by `INSERT`).
const TOO_LARGE: &str = "; a row of this table does not fit in one statement of the server's max_allowed_packet: raise it at the server (SET GLOBAL max_allowed_packet = 1073741824, the largest), or copy the table with mode = \"full\", whose bulk load sends rows in pieces";

/// The fix for a value the server would not store as sent, on every write
/// path (the bulk load says it after the server's warnings).
pub const DATA_FIX: &str = "; fix the rows at the branch, or the target column's type";

pub fn error(name: &str, e: &mysql::Error, doing: &str, cancelled_flag: bool) -> DriverError {
    use mysql::Error as E;
    if cancelled_flag {
        return cancelled(name, doing);
    }
    if let E::MySqlError(m) = e {
        if LOGIN_REFUSED.contains(&m.code) {
            return login_refused(name, doing, m);
        }
    }
    let (kind, fix) = match e {
        E::IoError(io)
            if io.kind() == std::io::ErrorKind::TimedOut
                || io.kind() == std::io::ErrorKind::WouldBlock =>
        {
            (
                ErrorKind::Timeout,
                "; the server went silent: check the link, or raise engine.statement_timeout",
            )
        }
        E::IoError(_) => (
            ErrorKind::Connection,
            "; check that the server is up and reachable",
        ),
        E::DriverError(mysql::DriverError::ConnectTimeout | mysql::DriverError::Timeout) => (
            ErrorKind::Timeout,
            "; check that the server is up and reachable, or raise engine.connect_timeout",
        ),
        E::DriverError(mysql::DriverError::CouldNotConnect(_)) => (
            ErrorKind::Connection,
            "; check that the server is up and reachable",
        ),
        E::DriverError(mysql::DriverError::TlsNotSupported) => (
            ErrorKind::Other,
            "; the server does not offer TLS: enable it there, or set sslmode = \"disable\"",
        ),
        E::TlsError(_) => (
            ErrorKind::Other,
            "; check the server's certificate, sslrootcert, or sslmode",
        ),
        E::CodecError(c) if c.to_string().contains("max_allowed_packet") => {
            (ErrorKind::Other, TOO_LARGE)
        }
        E::MySqlError(m) => match m.code {
            1153 => (ErrorKind::Other, TOO_LARGE),
            1044 | 1049 => (
                ErrorKind::Other,
                "; check the database in the url and the user's grants",
            ),
            1146 => (ErrorKind::MissingTable, ""),
            // A value the column cannot hold: truncated, out of range, not
            // a number or date, too long, NULL, not JSON (MySQL's 3140,
            // MariaDB's json_valid check 4025).
            1048 | 1264 | 1265 | 1292 | 1366 | 1406 | 3140 | 4025 => (ErrorKind::Other, DATA_FIX),
            1062 => (
                ErrorKind::Other,
                "; the source sent one key twice: declare the columns that are unique at the source as the [[table]]'s key, or remove the duplicates at the branch",
            ),
            // Query interrupted (KILL QUERY) without our flag: a timeout.
            1317 | 1969 | 3024 => (
                ErrorKind::Timeout,
                "; the statement ran longer than engine.statement_timeout",
            ),
            1205 => (ErrorKind::Timeout, "; another session held a lock too long"),
            1213 | 2006 | 2013 | 1927 => (ErrorKind::Connection, ""),
            _ => (ErrorKind::Other, ""),
        },
        _ => (ErrorKind::Other, ""),
    };
    DriverError::new(kind, format!("{name}: {doing}: {e}{fix}"))
}

/// The server's codes for a refused login: access denied (wrong password,
/// unknown user or host) and a plugin that refuses the user.
const LOGIN_REFUSED: [u16; 2] = [1045, 1698];

/// A refused login in words, not the client's `MySqlError { … }`: the
/// server's reason, the connection, and where the password comes from.
/// Not retried: another attempt would be refused the same way.
fn login_refused(name: &str, doing: &str, m: &mysql::MySqlError) -> DriverError {
    DriverError::new(
        ErrorKind::Auth,
        format!(
            "{name}: {doing}: the server refused the login: {} (error {}); check the user in the url and its password (the variable named by password_env, a password in the url, or [client] password in ~/.my.cnf), then try it with `{}`",
            m.message,
            m.code,
            crate::hint::cmd(&format!("check --connection {name}"))
        ),
    )
}

/// The cause in a message this driver wrote: the client's error inside
/// `MySqlError { ERROR 1049 (42000): Unknown database 'x' }` (without the
/// code), `IoError { … }`, `DriverError { … }` or `TlsError { … }`.
pub fn cause(message: &str) -> Option<&str> {
    let (at, open) = [
        "MySqlError { ",
        "IoError { ",
        "DriverError { ",
        "TlsError { ",
    ]
    .iter()
    .find_map(|o| message.find(o).map(|i| (i, o.len())))?;
    let inner = &message[at + open..];
    let inner = &inner[..inner.rfind(" }").unwrap_or(inner.len())];
    // `ERROR 1049 (42000): ` is the server's numbering, not its words.
    let words = inner
        .strip_prefix("ERROR ")
        .and_then(|r| r.split_once("): ").map(|(_, w)| w))
        .unwrap_or(inner);
    Some(words)
}
