//! `serve`: a read-only web dashboard over the journal (synchronous HTTP with
//! tiny_http, a few worker threads). Every request opens the journal afresh
//! and only reads it (WAL readers never block the sync that writes), so the
//! dashboard follows a running sync and survives the file being written,
//! pruned or replaced. It shows the journal only — never the config, URLs or
//! secrets. Bound to loopback (the default) it answers only requests
//! addressed to a loopback name, so a web page cannot reach it through DNS
//! rebinding; bound to any other address it needs a token (`auth`). With
//! `--fleet` it also shows the central's journal mirror (`fleet`).

mod auth;
mod fleet;
mod http;
mod pages;

pub use auth::{Auth, TokenError};
pub use fleet::FleetView;
pub use pages::{route, Reply};

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Requests served at the same time.
const WORKERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {reason}. Choose another address with --listen (e.g. 127.0.0.1:8081), or stop what uses this port")]
    Bind { addr: String, reason: String },
    #[error("{0:?} is not an address to listen on; expected IP:PORT like 127.0.0.1:8080")]
    BadAddress(String),
    #[error("--listen {0} would show the journal to the network without a login. Give the dashboard a token: `export DASHBOARD_TOKEN=$(openssl rand -hex 32)` and add `--token-env DASHBOARD_TOKEN`; or listen on loopback only (--listen 127.0.0.1:8080)")]
    OpenToNetwork(String),
}

/// What the server reads and who may read it.
#[derive(Debug)]
pub struct Dashboard {
    pub journal: PathBuf,
    /// Batches the history charts cover.
    pub history: usize,
    /// The central's journal mirror (`serve --fleet`).
    pub fleet: Option<FleetView>,
    /// The token every request must show (`--token-env`).
    pub auth: Option<Auth>,
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
    /// An address other than loopback is refused without a token.
    pub fn bind(listen: &str, dashboard: Dashboard) -> Result<Server, ServeError> {
        let addr: SocketAddr = listen
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| ServeError::BadAddress(listen.to_owned()))?;
        if !addr.ip().is_loopback() && dashboard.auth.is_none() {
            return Err(ServeError::OpenToNetwork(listen.to_owned()));
        }
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
                        Ok(request) => http::answer(request, &dashboard, &gate, loopback),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn dashboard() -> Dashboard {
        Dashboard {
            journal: "j.db".into(),
            history: 30,
            fleet: None,
            auth: None,
        }
    }

    #[test]
    fn a_bad_address_says_what_is_expected() {
        let err = Server::bind("localhost", dashboard()).err().unwrap();
        assert!(err.to_string().contains("IP:PORT"));
    }

    #[test]
    fn beyond_loopback_only_with_a_token_and_the_error_says_so() {
        let err = Server::bind("0.0.0.0:0", dashboard()).err().unwrap();
        let text = err.to_string();
        assert!(text.contains("--token-env DASHBOARD_TOKEN"), "{text}");
        assert!(text.contains("--listen 127.0.0.1:8080"), "{text}");
    }
}
