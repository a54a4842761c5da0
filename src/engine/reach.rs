//! One connection probe per branch per batch: before any table of a branch
//! is tried, one session is opened to it (retried on connection failures and
//! timeouts with the engine's backoff). A branch that cannot be reached or
//! logged into (missing secret, refused login, unreachable) fails all its
//! tables with the probe's cause, without each table retrying the connection
//! on its own: with four tables and three retries, a dead branch would
//! otherwise cost twelve connection timeouts a night instead of three. The
//! other branches do not wait for it: their tables start as soon as their
//! own probe answers.

use super::cancel::Cancel;
use super::plan::Job;
use super::worker::backoff;
use crate::config::Config;
use crate::driver::{open_endpoint, DriverError, Endpoint, ErrorKind};
use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::time::Duration;

/// What the probe of one branch found.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// A session opened after `retries` retries: its tables are tried
    /// (their `retry_count` starts there).
    Reached { retries: u32 },
    /// No session after `retries` retries (0 when the failure is not
    /// retried: a missing secret, a refused login): its tables fail with
    /// `error` and are not tried.
    Unreached { error: DriverError, retries: u32 },
    /// The run was cancelled while probing: its tables stay pending.
    Cancelled,
}

/// How a probe retries (the engine's per-table settings, applied per branch).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub retries: u32,
    pub backoff: Duration,
    pub backoff_max: Duration,
}

/// Probe `endpoint` (connection `conn`) and send the verdict. The session
/// opened goes back to the endpoint's pool for the first table to use.
pub fn probe(
    conn: &str,
    endpoint: &dyn Endpoint,
    retry: Retry,
    cancel: &Cancel,
    log_prefix: &str,
    verdicts: &Sender<(String, Verdict)>,
) {
    let verdict = verdict_of(conn, endpoint, retry, cancel, log_prefix);
    let _ = verdicts.send((conn.to_owned(), verdict));
}

fn verdict_of(
    conn: &str,
    endpoint: &dyn Endpoint,
    retry: Retry,
    cancel: &Cancel,
    p: &str,
) -> Verdict {
    let mut attempt = 0;
    loop {
        if cancel.is_cancelled() {
            return Verdict::Cancelled;
        }
        let e = match endpoint.source() {
            Ok(_session) => return Verdict::Reached { retries: attempt },
            Err(e) => e,
        };
        if e.kind == ErrorKind::Cancelled || cancel.is_cancelled() {
            return Verdict::Cancelled;
        }
        if !e.kind.is_retryable() || attempt >= retry.retries {
            return Verdict::Unreached {
                error: named(e, conn),
                retries: attempt,
            };
        }
        attempt += 1;
        let what = if e.kind == ErrorKind::Timeout {
            "Connection timeout"
        } else {
            "Connection failed,"
        };
        log::warn!(
            "{p}: {what} retry {attempt}/{} for connection {conn}: {e}",
            retry.retries
        );
        if !cancel.sleep(backoff(retry.backoff, attempt, retry.backoff_max)) {
            return Verdict::Cancelled;
        }
    }
}

/// The endpoint of every connection `jobs` read from (pools sized by
/// `pool_size`, else `threads`). One that cannot be opened (its secret is
/// missing, its URL wrong), or that left the config, is answered at once
/// on `verdicts`: its tables fail untried.
pub fn open_sources(
    config: &Config,
    jobs: &[Job],
    threads: usize,
    verdicts: &Sender<(String, Verdict)>,
) -> HashMap<String, Box<dyn Endpoint>> {
    let mut sources = HashMap::new();
    let mut seen: Vec<&str> = Vec::new();
    for job in jobs {
        let name = job.connection.as_str();
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let opened = match config.connection(name) {
            Some(c) => {
                let size = c.pool_size.unwrap_or(threads as u32).max(1);
                open_endpoint(c, &config.engine, size)
            }
            None => Err(DriverError::other(format!(
                "connection {name} is not in the config {}",
                config.path.display()
            ))),
        };
        match opened {
            Ok(endpoint) => {
                sources.insert(name.to_owned(), endpoint);
            }
            Err(e) => {
                let _ = verdicts.send((name.to_owned(), unopened(e, name)));
            }
        }
    }
    sources
}

/// An endpoint that could not even be opened (its secret is missing, its
/// URL wrong): the same verdict as a refused login, never retried.
fn unopened(error: DriverError, conn: &str) -> Verdict {
    Verdict::Unreached {
        error: named(error, conn),
        retries: 0,
    }
}

/// Drivers usually name their server in the message; the name is added
/// only when missing.
fn named(e: DriverError, conn: &str) -> DriverError {
    if e.message.contains(conn) {
        e
    } else {
        e.context(conn)
    }
}

/// The log line of a branch whose tables fail untried, and the words of
/// the failure that open it.
pub fn failure_words(error: &DriverError, retries: u32) -> String {
    match error.kind {
        ErrorKind::Auth => "login refused or no password to log in with".to_owned(),
        ErrorKind::Connection | ErrorKind::Timeout if retries > 0 => {
            format!("unreachable after {retries} retries")
        }
        ErrorKind::Connection | ErrorKind::Timeout => "unreachable".to_owned(),
        _ => "cannot be connected to".to_owned(),
    }
}
