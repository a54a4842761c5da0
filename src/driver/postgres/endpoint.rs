//! One configured PostgreSQL server: its connection settings, a lazily
//! filled r2d2 pool (a dead branch never blocks start-up), and the
//! [`Session`] a source or target works in (a pooled connection plus what
//! cancelling it needs). TLS (`sslmode`) is decided in [`super::tls`].

use super::errors::{io_error, pg_error};
use super::link_bytes::{LinkCounters, Manager};
use super::tls::{self, Tls};
use crate::config::{redact_url, EngineConfig, ServerConfig};
use crate::driver::{CancelHandle, DriverError, ErrorKind, LinkBytes, Result};
use postgres::{CancelToken, Client};
use r2d2::{ManageConnection, Pool, PooledConnection};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    let statement_ms = engine.statement_timeout.0.as_millis().min(i32::MAX as u128);
    let mut options = config.get_options().unwrap_or_default().to_owned();
    if !options.is_empty() {
        options.push(' ');
    }
    options.push_str(&format!(
        "-c statement_timeout={statement_ms} -c DateStyle=ISO,YMD -c IntervalStyle=postgres -c TimeZone=UTC"
    ));
    config
        .options(&options)
        .application_name("branchsync")
        .connect_timeout(engine.connect_timeout.0)
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(60))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(6);
    Ok((config, tls))
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
            Ok((client, link)) => Ok(PgConn {
                client,
                poisoned: false,
                link,
            }),
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

/// One pooled connection in use by a source or a target.
pub struct Session {
    conn: PooledConnection<PgManager>,
    pub server: Arc<str>,
    cancelled: Arc<AtomicBool>,
    token: CancelToken,
    /// Cancel requests go out the way the session came in.
    tls: Tls,
    /// COPY data bytes this session sent to the server.
    copied: Arc<AtomicU64>,
}

impl Session {
    fn new(conn: PooledConnection<PgManager>, server: Arc<str>, tls: Tls) -> Session {
        let token = conn.client.cancel_token();
        Session {
            conn,
            server,
            cancelled: Arc::new(AtomicBool::new(false)),
            token,
            tls,
            copied: Arc::default(),
        }
    }

    /// The `COPY … FROM STDIN` data bytes this session has sent (without
    /// the wire protocol's framing).
    pub fn copy_bytes_sent(&self) -> u64 {
        self.copied.load(Ordering::Relaxed)
    }

    /// What this session's connection has carried over its link since it
    /// connected (it may have served other sessions before), counted on its
    /// socket; `None` when its connection is not counted.
    pub fn link_bytes(&self) -> Option<LinkBytes> {
        self.conn.link.as_ref().map(|c| c.get())
    }

    pub fn client(&mut self) -> &mut Client {
        &mut self.conn.client
    }

    /// Has [`Session::cancel_handle`] been called?
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Sets the cancelled flag, then asks the server to cancel the running
    /// statement. Copy loops also look at the flag between buffers.
    pub fn cancel_handle(&self) -> CancelHandle {
        let flag = self.cancelled.clone();
        let token = self.token.clone();
        let tls = self.tls.clone();
        Arc::new(move || {
            flag.store(true, Ordering::SeqCst);
            tls.cancel(&token);
        })
    }

    /// What errors need while the client is borrowed by a running statement.
    pub fn ctx(&self) -> ErrCtx {
        ErrCtx {
            server: self.server.clone(),
            cancelled: self.cancelled.clone(),
            token: self.token.clone(),
            tls: self.tls.clone(),
            copied: self.copied.clone(),
        }
    }

    /// Keep this connection out of the pool.
    pub fn poison(&mut self) {
        self.conn.poisoned = true;
    }

    /// The driver error for `e`, met while `doing`.
    pub fn err(&self, e: &postgres::Error, doing: &str) -> DriverError {
        pg_error(e, &self.server, doing, self.is_cancelled())
    }

    /// The error to return when the flag is already set.
    pub fn check_cancelled(&self, doing: &str) -> Result<()> {
        self.ctx().check_cancelled(doing)
    }

    /// Runs `sql` (no parameters, no rows), mapping errors.
    pub fn exec(&mut self, sql: &str, doing: &str) -> Result<()> {
        let r = self.conn.client.batch_execute(sql);
        r.map_err(|e| self.err(&e, doing))
    }

    /// Ends a failed transaction; a connection that cannot even roll back
    /// is not reused.
    pub fn rollback(&mut self) {
        if self.conn.client.batch_execute("ROLLBACK").is_err() {
            self.poison();
        }
    }
}

/// The server name, the cancelled flag and the cancel token of a session,
/// usable while a COPY or a row stream holds its client.
#[derive(Clone)]
pub struct ErrCtx {
    pub server: Arc<str>,
    cancelled: Arc<AtomicBool>,
    token: CancelToken,
    tls: Tls,
    copied: Arc<AtomicU64>,
}

impl ErrCtx {
    /// `n` bytes of COPY data went to the server.
    pub fn copied(&self, n: usize) {
        self.copied.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The cancelled error, when the flag is set.
    pub fn check_cancelled(&self, doing: &str) -> Result<()> {
        if self.is_cancelled() {
            Err(super::errors::cancelled(&self.server, doing))
        } else {
            Ok(())
        }
    }

    pub fn pg(&self, e: &postgres::Error, doing: &str) -> DriverError {
        pg_error(e, &self.server, doing, self.is_cancelled())
    }

    pub fn io(&self, e: std::io::Error, doing: &str) -> DriverError {
        io_error(e, &self.server, doing, self.is_cancelled())
    }

    /// Stops the running statement for our own reasons (the other side of a
    /// copy failed) without calling it a user cancel. Poison the session's
    /// connection afterwards: the request may arrive late.
    pub fn abort_statement(&self) {
        self.tls.cancel(&self.token);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.is_cancelled() {
            self.conn.poisoned = true;
        }
    }
}
