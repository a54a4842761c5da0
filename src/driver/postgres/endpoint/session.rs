//! The [`Session`] a source or target works in: one pooled connection plus
//! what cancelling it needs, and the [`ErrCtx`] that maps errors and checks
//! the cancelled flag while a running statement holds the client.

use super::PgManager;
use crate::driver::postgres::errors::{cancelled, io_error, pg_error};
use crate::driver::postgres::tls::Tls;
use crate::driver::{CancelHandle, DriverError, LinkBytes, Result};
use postgres::{CancelToken, Client};
use r2d2::PooledConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

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
    pub(super) fn new(conn: PooledConnection<PgManager>, server: Arc<str>, tls: Tls) -> Session {
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
            Err(cancelled(&self.server, doing))
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
