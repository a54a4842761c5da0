//! `serve`: a read-only web dashboard over the journal (synchronous HTTP with
//! tiny_http, a few worker threads). Every request opens the journal afresh
//! and only reads it (WAL readers never block the sync that writes), so the
//! dashboard follows a running sync and survives the file being written,
//! pruned or replaced. It shows the journal only — never the config, URLs or
//! secrets — and, bound to loopback (the default), answers only requests
//! addressed to a loopback name, so a web page cannot reach it through DNS
//! rebinding.

mod pages;

pub use pages::{route, Reply};

use crate::journal::Journal;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Requests served at the same time.
const WORKERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason}. Choose another address with --listen (e.g. 127.0.0.1:8081), or stop what uses this port")]
    Bind { addr: String, reason: String },
    #[error("{0:?} is not an address to listen on; expected IP:PORT like 127.0.0.1:8080")]
    BadAddress(String),
}

/// What the server reads and how much history its charts show.
#[derive(Debug, Clone)]
pub struct Dashboard {
    pub journal: PathBuf,
    /// Batches the history charts cover.
    pub history: usize,
}

/// A bound, not yet running dashboard server.
pub struct Server {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    dashboard: Arc<Dashboard>,
    /// One journal connection at a time in this process: closing any file
    /// handle of the journal drops every POSIX lock the process holds on it
    /// (SQLite's own included), and opening a journal reads its header
    /// through a plain file handle. Requests are short; they take turns.
    journal_gate: Arc<Mutex<()>>,
}

impl Server {
    /// Bind `listen` (`IP:PORT` or `localhost:PORT`; port 0 picks a free one).
    pub fn bind(listen: &str, dashboard: Dashboard) -> Result<Server, ServeError> {
        let addr: SocketAddr = listen
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| ServeError::BadAddress(listen.to_owned()))?;
        let http = tiny_http::Server::http(addr).map_err(|e| ServeError::Bind {
            addr: listen.to_owned(),
            reason: e.to_string(),
        })?;
        let addr = http.server_addr().to_ip().unwrap_or(addr);
        Ok(Server {
            http: Arc::new(http),
            addr,
            dashboard: Arc::new(dashboard),
            journal_gate: Arc::new(Mutex::new(())),
        })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until the process ends.
    pub fn run(self) {
        let loopback = self.addr.ip().is_loopback();
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let http = Arc::clone(&self.http);
                let dashboard = Arc::clone(&self.dashboard);
                let gate = Arc::clone(&self.journal_gate);
                std::thread::spawn(move || loop {
                    match http.recv() {
                        Ok(request) => answer(request, &dashboard, &gate, loopback),
                        Err(e) => log::warn!("serve: cannot accept a request: {e}"),
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

/// Is `host` (a Host header) a name of this machine's loopback interface?
fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn answer(request: tiny_http::Request, dashboard: &Dashboard, gate: &Mutex<()>, loopback: bool) {
    let method = request.method().clone();
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let host = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map(|h| h.value.as_str().to_owned())
        .unwrap_or_default();
    let api = path.starts_with("/api/");
    let reply = if loopback && !loopback_host(&host) {
        Reply::error(
            421,
            api,
            "this dashboard answers only to localhost; open it as http://127.0.0.1:PORT/",
        )
    } else if !matches!(method, tiny_http::Method::Get | tiny_http::Method::Head) {
        Reply::error(405, api, "the dashboard is read-only: only GET and HEAD")
    } else {
        let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
        match open(&dashboard.journal) {
            Ok(journal) => route(&journal, path, query, dashboard.history),
            Err(e) => {
                log::warn!("serve: {e}");
                Reply::error(
                    503,
                    api,
                    &format!("the journal cannot be read right now: {e}"),
                )
            }
        }
    };
    log::debug!("serve: {method} {path} -> {}", reply.status);
    // tiny_http leaves the body out of the answer to HEAD, Content-Length kept.
    let mut response = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
    for (name, value) in [
        ("Content-Type", reply.content_type),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    ] {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    if reply.status == 405 {
        if let Ok(h) = tiny_http::Header::from_bytes(&b"Allow"[..], &b"GET, HEAD"[..]) {
            response.add_header(h);
        }
    }
    if let Err(e) = request.respond(response) {
        log::debug!("serve: the client of {path} went away: {e}");
    }
}

/// The journal for one request: never created, dead `running` batches shown
/// (and recorded) as `interrupted`, as `sync-status` does.
fn open(path: &Path) -> Result<Journal, crate::journal::JournalError> {
    let mut journal = Journal::open_read(path)?;
    journal.reconcile_liveness(false)?;
    Ok(journal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_only() {
        for ok in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "127.1.2.3",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "",
            "10.0.0.1:8080",
            "localhost.evil.example",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn a_bad_address_says_what_is_expected() {
        let err = Server::bind(
            "localhost",
            Dashboard {
                journal: "j.db".into(),
                history: 30,
            },
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("IP:PORT"));
    }
}
