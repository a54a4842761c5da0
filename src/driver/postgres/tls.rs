//! TLS to a PostgreSQL server (`sslmode` in config.example.toml), with rustls and its
//! `ring` crypto provider, so that branch links over the open internet are
//! encrypted and, with `verify-full`, authenticated:
//!
//! - `disable` — plaintext. Also what applies when `sslmode` is set neither
//!   as a config key nor in the url *and* every host is loopback
//!   (`localhost`, `127.0.0.0/8`, `::1`) or a Unix socket.
//! - `require` — TLS or no connection; the server's certificate is not
//!   checked (like libpq's `require`): safe from eavesdropping, not from an
//!   impostor.
//! - `verify-full` — the default for any other host (secure by default on
//!   the WAN: business data and, with md5/password auth, passwords would
//!   cross it in clear). Without a usable certificate the error says the
//!   fix: `sslmode = "require"`, `sslrootcert`, or an explicit `disable`.
//!   The rule reads the url literally and never resolves a name, so a
//!   spoofed DNS answer cannot turn TLS off. TLS with the certificate chain checked against
//!   `sslrootcert` (a PEM file of CA certificates) or, without it, the
//!   system's root certificates (the platform store as read by
//!   `rustls-native-certs`: `/etc/ssl/certs`, or `SSL_CERT_FILE` /
//!   `SSL_CERT_DIR` when set), and the url's host name checked against the
//!   certificate's names.
//!
//! There is no silent fallback to plaintext: a server that refuses TLS fails
//! the connection in both TLS modes, and libpq's `allow`/`prefer` are refused.
//! `sslmode=` and `sslrootcert=` may also be written in the url; the config
//! keys win when both are set. Cancel requests go out through the same
//! connector as the session they cancel.

mod failure;
mod trust;
mod url_params;

use super::link_bytes::{Manager, Plain};
use crate::config::{ServerConfig, SslMode};
use crate::driver::{DriverError, Result};
use postgres::config::SslMode as PgSslMode;
use postgres::{CancelToken, Client};
use std::path::PathBuf;
use tokio_postgres_rustls::MakeRustlsConnect;

pub use url_params::{split, UrlTls};

/// The TLS side of one server: the `sslmode` in force and what connects.
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    /// The mode came from the WAN default, not from the config or url.
    defaulted: bool,
    /// Every host is loopback or a Unix socket.
    local: bool,
    /// Where verify-full's trusted CAs come from, for messages.
    roots: String,
    rustls: Option<MakeRustlsConnect>,
}

/// The config's spelling of a mode.
pub fn label(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Require => "require",
        SslMode::VerifyFull => "verify-full",
    }
}

impl Tls {
    /// The TLS settings of `server`: its `sslmode`/`sslrootcert` keys, else
    /// those written in its url (`in_url`), else the default: `disable` when
    /// `local` (every host loopback or a socket, see [`is_local`]),
    /// `verify-full` otherwise.
    pub fn for_server(server: &ServerConfig, in_url: &UrlTls, local: bool) -> Result<Tls> {
        let name = &server.name;
        let (mode, from) = match (server.sslmode, in_url.sslmode.as_deref()) {
            (Some(mode), _) => (mode, "the sslmode key"),
            (None, Some(text)) => (mode_in_url(name, text)?, "the url"),
            (None, None) if local => (SslMode::Disable, "the default"),
            (None, None) => (SslMode::VerifyFull, "the default"),
        };
        let defaulted = server.sslmode.is_none() && in_url.sslmode.is_none();
        let rootcert = match (&server.sslrootcert, &in_url.sslrootcert) {
            (Some(path), _) => Some(path.clone()),
            (None, Some(path)) => Some(PathBuf::from(path)),
            (None, None) => None,
        };
        if rootcert.is_some() && mode != SslMode::VerifyFull {
            return Err(DriverError::other(format!(
                "{name}: sslrootcert is only used with sslmode verify-full, but sslmode is {} (from {from}); \
                 set sslmode = \"verify-full\", or remove sslrootcert",
                label(mode)
            )));
        }
        let (rustls, roots) = match mode {
            SslMode::Disable => (None, String::new()),
            SslMode::Require => (Some(trust::any_certificate(name)?), String::new()),
            SslMode::VerifyFull => {
                let (config, roots) = trust::verified(name, rootcert.as_deref())?;
                (Some(config), roots)
            }
        };
        Ok(Tls {
            mode,
            defaulted,
            local,
            roots,
            rustls: rustls.map(MakeRustlsConnect::new),
        })
    }

    /// For `check`: plaintext chosen explicitly for a host that is not
    /// loopback.
    pub fn plaintext_warning(&self) -> Option<String> {
        (self.mode == SslMode::Disable && !self.local).then(|| {
            "sslmode = \"disable\" over a non-loopback host: rows (and, with md5 or password auth, the password) cross the network in clear; set sslmode = \"verify-full\", or \"require\" at least".to_owned()
        })
    }

    /// What the client library must do before the startup message: TLS is
    /// `Require`d (never `Prefer`, which would fall back to plaintext).
    pub fn pg_ssl_mode(&self) -> PgSslMode {
        match self.mode {
            SslMode::Disable => PgSslMode::Disable,
            SslMode::Require | SslMode::VerifyFull => PgSslMode::Require,
        }
    }

    /// How a pool connects to `config` with this connector (its sockets
    /// counted, see [`super::link_bytes`]).
    pub fn manager(&self, config: postgres::Config) -> Manager {
        Manager::new(config, self.rustls.clone())
    }

    /// Asks the server to cancel the statement running under `token`, over
    /// the same kind of connection as the session's. Best effort: the caller
    /// also stops on its own flag.
    pub fn cancel(&self, token: &CancelToken) {
        // A plaintext session may have connected with direct negotiation
        // (to be counted): its cancel request goes the same way.
        let _ = match &self.rustls {
            None => token.cancel_query(Plain::default()),
            Some(tls) => token.cancel_query(tls.clone()),
        };
    }

    /// The TLS state of a live session for `check`: `verify-full (TLSv1.3,
    /// TLS_AES_256_GCM_SHA384)` as the server sees it, `None` when plaintext.
    pub fn state(&self, client: &mut Client) -> Option<String> {
        let sql = "SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
        match client.query_opt(sql, &[]) {
            Ok(Some(row)) => {
                if !row.try_get::<_, bool>(0).unwrap_or(false) {
                    return None;
                }
                let text = |i| row.try_get::<_, Option<String>>(i).ok().flatten();
                let details: Vec<String> = [text(1), text(2)].into_iter().flatten().collect();
                Some(format!("{} ({})", label(self.mode), details.join(", ")))
            }
            // The session's own setting, when the server cannot say.
            _ => (self.mode != SslMode::Disable).then(|| label(self.mode).to_owned()),
        }
    }
}

/// Whether every host of `config` is loopback (`localhost`, `127.0.0.0/8`,
/// `::1`) or a Unix socket, read literally (no name is resolved). No host at
/// all means the local socket.
pub fn is_local(config: &postgres::Config) -> bool {
    use postgres::config::Host;
    let loopback_name = |h: &str| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h.eq_ignore_ascii_case("localhost")
            || h.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    };
    let hosts_local = config.get_hosts().iter().all(|h| match h {
        Host::Tcp(name) => loopback_name(name),
        Host::Unix(_) => true,
    });
    hosts_local && config.get_hostaddrs().iter().all(|a| a.is_loopback())
}

/// A url's `sslmode=` value: only the three modes of the config key.
fn mode_in_url(name: &str, text: &str) -> Result<SslMode> {
    match text {
        "disable" => Ok(SslMode::Disable),
        "require" => Ok(SslMode::Require),
        "verify-full" => Ok(SslMode::VerifyFull),
        "allow" | "prefer" => Err(DriverError::other(format!(
            "{name}: sslmode={text} in the url may fall back to plaintext, which branchsync never does; \
             use sslmode=require or sslmode=verify-full (or sslmode=disable on a trusted network)"
        ))),
        "verify-ca" => Err(DriverError::other(format!(
            "{name}: sslmode=verify-ca in the url is not supported; use sslmode=verify-full, \
             which also checks the host name, or sslmode=require"
        ))),
        _ => Err(DriverError::other(format!(
            "{name}: sslmode={text:?} in the url is not a TLS mode; expected disable, require or verify-full"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(mode: Option<SslMode>, root: Option<&str>, url: &str) -> ServerConfig {
        let mut s: ServerConfig =
            toml::from_str(&format!("driver = \"postgres\"\nurl = {url:?}\n")).unwrap();
        s.name = "pgsql_lmp".into();
        s.sslmode = mode;
        s.sslrootcert = root.map(PathBuf::from);
        s
    }

    fn tls_of(s: &ServerConfig) -> Result<Tls> {
        let (url, in_url) = split(&s.url).unwrap();
        let config: postgres::Config = url.parse().unwrap();
        Tls::for_server(s, &in_url, is_local(&config))
    }

    #[test]
    fn unset_is_disable_on_loopback_and_sockets_and_verify_full_elsewhere() {
        let cases = [
            ("postgres://root@127.0.0.1:5432/test", SslMode::Disable),
            ("postgres://root@localhost/test", SslMode::Disable),
            ("postgres://root@[::1]:5432/test", SslMode::Disable),
            ("host=/var/run/postgresql dbname=test", SslMode::Disable),
            (
                "postgres://u@%2Fvar%2Frun%2Fpostgresql/db",
                SslMode::Disable,
            ),
            (
                "postgres://u@branch-sby.example.co.id/erp",
                SslMode::VerifyFull,
            ),
            ("postgres://u@10.1.0.5:5432/erp", SslMode::VerifyFull),
            ("postgres://u@vm/erp", SslMode::VerifyFull),
            ("host=localhost,10.1.0.5 dbname=erp", SslMode::VerifyFull),
            (
                "host=localhost hostaddr=10.1.0.5 dbname=erp",
                SslMode::VerifyFull,
            ),
        ];
        for (url, want) in cases {
            let tls = tls_of(&server(None, None, url)).unwrap();
            assert_eq!(tls.mode, want, "{url}");
            assert!(tls.defaulted, "{url}");
        }
        // An explicit disable over the WAN is allowed, and check warns.
        let plain = tls_of(&server(
            Some(SslMode::Disable),
            None,
            "postgres://u@10.1.0.5/erp",
        ))
        .unwrap();
        assert!(plain.plaintext_warning().unwrap().contains("in clear"));
        let local = tls_of(&server(None, None, "postgres://u@127.0.0.1/erp")).unwrap();
        assert_eq!(local.plaintext_warning(), None);
    }

    #[test]
    fn the_key_wins_over_the_url_and_unset_follows_the_host() {
        let cases = [
            (None, "postgres://localhost/db", SslMode::Disable),
            (None, "postgres://h/db", SslMode::VerifyFull),
            (None, "postgres://h/db?sslmode=require", SslMode::Require),
            (
                Some(SslMode::Disable),
                "postgres://h/db?sslmode=require",
                SslMode::Disable,
            ),
            (
                Some(SslMode::Require),
                "postgres://h/db?sslmode=disable",
                SslMode::Require,
            ),
            (
                Some(SslMode::Require),
                "host=h sslmode=prefer",
                SslMode::Require,
            ),
        ];
        for (key, url, want) in cases {
            let tls = tls_of(&server(key, None, url)).unwrap();
            assert_eq!(tls.mode, want, "{key:?} {url}");
            assert_eq!(tls.rustls.is_some(), want != SslMode::Disable);
        }
    }

    #[test]
    fn fallback_modes_in_the_url_are_refused() {
        for (url, words) in [
            ("postgres://h/db?sslmode=prefer", "fall back to plaintext"),
            ("host=h sslmode=allow", "fall back to plaintext"),
            ("postgres://h/db?sslmode=verify-ca", "verify-full"),
            (
                "postgres://h/db?sslmode=on",
                "expected disable, require or verify-full",
            ),
        ] {
            let err = tls_of(&server(None, None, url)).err().unwrap();
            assert!(err.message.starts_with("pgsql_lmp: "), "{err}");
            assert!(err.message.contains(words), "{url}: {err}");
        }
    }

    #[test]
    fn a_root_certificate_needs_verify_full() {
        let url = "postgres://h/db?sslmode=require&sslrootcert=/tmp/ca.pem";
        let err = tls_of(&server(None, None, url)).err().unwrap();
        assert!(err.message.contains("sslrootcert"), "{err}");
        assert!(err.message.contains("from the url"), "{err}");
    }

    #[test]
    fn unusable_root_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        for (path, words) in [
            (&missing, "cannot be read"),
            (&junk, "holds no certificate"),
        ] {
            let s = server(
                Some(SslMode::VerifyFull),
                Some(path.to_str().unwrap()),
                "postgres://h/db",
            );
            let err = tls_of(&s).err().unwrap();
            assert!(err.message.contains(&path.display().to_string()), "{err}");
            assert!(err.message.contains(words), "{err}");
        }
    }

    #[test]
    fn verify_full_without_a_file_uses_the_system_roots() {
        let s = server(Some(SslMode::VerifyFull), None, "postgres://h/db");
        let tls = tls_of(&s).unwrap();
        assert_eq!(tls.roots, "the system's root certificates");
        assert_eq!(tls.pg_ssl_mode(), PgSslMode::Require);
    }
}
