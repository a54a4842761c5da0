//! One configured PostgreSQL server: its connection settings, a lazily
//! filled r2d2 pool (a dead branch never blocks start-up), and the
//! [`Session`] a source or target works in (a pooled connection plus what
//! cancelling it needs; its own module, `session`). TLS (`sslmode`) is
//! decided in [`super::tls`].

mod session;

use super::errors::pg_error;
use super::link_bytes::{LinkCounters, Manager};
use super::tls::{self, Tls};
use crate::config::{redact_url, EngineConfig, ServerConfig};
use crate::driver::{DriverError, ErrorKind, Result};
use postgres::Client;
use r2d2::{ManageConnection, Pool};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use session::{ErrCtx, Session};

/// How often a session waiting for a connection looks at connect errors.
const POLL: Duration = Duration::from_millis(50);

/// Connection settings for `server`, password included (never printed),
/// and its TLS side.
pub fn client_config(
    server: &ServerConfig,
    engine: &EngineConfig,
) -> Result<(postgres::Config, Tls)> {
    let name = &server.name;
    let not_a_url = |why: String| {
        DriverError::other(format!(
            "{name}: the url {} is not a PostgreSQL connection URL ({why}); expected postgres://user@host:5432/database",
            redact_url(&server.url)
        ))
    };
    // sslmode/sslrootcert are taken out first: the client library knows
    // neither verify-full nor sslrootcert.
    let Some((url, in_url)) = tls::split(&server.url) else {
        return Err(match postgres::Config::from_str(&server.url) {
            Err(e) => not_a_url(e.to_string()),
            Ok(_) => not_a_url("a parameter cannot be read: check its quotes and %-escapes".into()),
        });
    };
    let mut config = postgres::Config::from_str(&url).map_err(|e| not_a_url(e.to_string()))?;
    let tls = Tls::for_server(server, &in_url, tls::is_local(&config))?;
    config.ssl_mode(tls.pg_ssl_mode());
    if let Some(pw) = super::login::connect_password(server)? {
        config.password(pw);
    }
    config
        .application_name("branchsync")
        .connect_timeout(engine.connect_timeout.0)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(60))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(6);
    Ok((config, tls))
}

/// The session every connection works in, set by `SET` right after it
/// connects rather than in the startup packet's `options`: a pooler such
/// as pgbouncer refuses that parameter (`unsupported startup parameter:
/// options`). ISO dates and intervals and UTC are what the text codecs and
/// the type model read and write; the statement timeout bounds every
/// statement at the server.
pub fn session_settings(engine: &EngineConfig) -> String {
    let statement_ms = engine.statement_timeout.0.as_millis().min(i32::MAX as u128);
    format!(
        "SET statement_timeout = {statement_ms}; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'"
    )
}

/// A pooled client. `poisoned` keeps a connection that was cancelled (or
/// whose state is unknown) from going back to the pool: a late cancel
/// request must not hit the next user's statement.
pub struct PgConn {
    pub client: Client,
    poisoned: bool,
    /// What its socket carried; `None` when not counted (see
    /// [`super::link_bytes`]: a Unix socket, or plaintext to a `hostaddr`
    /// without a host name).
    link: Option<Arc<LinkCounters>>,
}

/// Connect failures seen by the pool, so that a waiting session can fail
/// with the real reason instead of a bare timeout.
#[derive(Default)]
struct ConnectLog {
    last: Mutex<Option<(Instant, DriverError)>>,
    /// A failure that another attempt cannot fix (wrong password, no such
    /// database): later attempts fail at once instead of hammering the server.
    fatal: Mutex<Option<DriverError>>,
}

impl ConnectLog {
    fn record(&self, e: &DriverError) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), e.clone()));
    }

    fn since(&self, start: Instant) -> Option<DriverError> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref()
            .filter(|(at, _)| *at >= start)
            .map(|(_, e)| e.clone())
    }
}

pub struct PgManager {
    inner: Manager,
    /// Run on every new connection ([`session_settings`]).
    settings: String,
    tls: Tls,
    name: Arc<str>,
    /// `connecting to user@host:port/database` (no password).
    connecting: String,
    log: Arc<ConnectLog>,
}

/// `user@host:port/database` of a config, for messages.
fn where_to(config: &postgres::Config) -> String {
    use postgres::config::Host;
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, port)| match h {
            Host::Tcp(h) => format!("{h}:{port}"),
            Host::Unix(p) => format!("{}:{port}", p.display()),
        })
        .collect();
    format!(
        "{}@{}/{}",
        config.get_user().unwrap_or(""),
        if hosts.is_empty() {
            "localhost:5432".to_owned()
        } else {
            hosts.join(",")
        },
        config.get_dbname().unwrap_or("")
    )
}

impl ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = DriverError;

    fn connect(&self) -> Result<PgConn> {
        if let Some(e) = self
            .log
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            self.log.record(&e);
            return Err(e);
        }
        match self.inner.connect() {
            Ok((mut client, link)) => match client.batch_execute(&self.settings) {
                Ok(()) => Ok(PgConn {
                    client,
                    poisoned: false,
                    link,
                }),
                Err(e) => {
                    let err = pg_error(&e, &self.name, &self.connecting, false);
                    self.log.record(&err);
                    Err(err)
                }
            },
            Err(e) => {
                let err = self
                    .tls
                    .failure(&e, &self.name, &self.connecting)
                    .unwrap_or_else(|| pg_error(&e, &self.name, &self.connecting, false));
                if !err.kind.is_retryable() {
                    *self.log.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(err.clone());
                }
                self.log.record(&err);
                Err(err)
            }
        }
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<()> {
        conn.client
            .simple_query("")
            .map(|_| ())
            .map_err(|e| pg_error(&e, &self.name, "checking a pooled connection", false))
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.poisoned || conn.client.is_closed()
    }
}

/// The pool of one server.
pub struct PgPool {
    pub name: Arc<str>,
    pub tls: Tls,
    pool: Pool<PgManager>,
    log: Arc<ConnectLog>,
    connect_timeout: Duration,
}

impl PgPool {
    /// A pool of at most `max_size` connections; nothing connects yet.
    pub fn new(server: &ServerConfig, engine: &EngineConfig, max_size: u32) -> Result<PgPool> {
        let (config, tls) = client_config(server, engine)?;
        let name: Arc<str> = Arc::from(server.name.as_str());
        let log = Arc::new(ConnectLog::default());
        let connect_timeout = engine.connect_timeout.0.max(Duration::from_millis(100));
        let manager = PgManager {
            connecting: format!("connecting to {}", where_to(&config)),
            settings: session_settings(engine),
            inner: tls.manager(config),
            tls: tls.clone(),
            name: name.clone(),
            log: log.clone(),
        };
        let pool = Pool::builder()
            .max_size(max_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(connect_timeout)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok(PgPool {
            name,
            tls,
            pool,
            log,
            connect_timeout,
        })
    }

    /// A session on a pooled connection. Fails with the connect error as
    /// soon as an attempt fails, or after `connect_timeout`; waits as long as
    /// it takes while the pool is merely busy.
    pub fn session(&self) -> Result<Session> {
        let start = Instant::now();
        let deadline = start + self.connect_timeout;
        loop {
            match self.pool.get_timeout(POLL) {
                Ok(conn) => return Ok(Session::new(conn, self.name.clone(), self.tls.clone())),
                Err(e) => {
                    if let Some(err) = self.log.since(start) {
                        return Err(err);
                    }
                    let state = self.pool.state();
                    let busy = state.connections >= self.pool.max_size();
                    if !busy && Instant::now() >= deadline {
                        return Err(DriverError::new(
                            ErrorKind::Timeout,
                            format!(
                                "{}: no connection within {:?} ({e}); check that the server is up and reachable, or raise engine.connect_timeout",
                                self.name, self.connect_timeout
                            ),
                        ));
                    }
                }
            }
        }
    }
}
