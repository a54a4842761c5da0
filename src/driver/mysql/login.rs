//! Where a MySQL session's settings come from: the `mysql://` URL, the
//! password (the variable named by `password_env`, else one written in the
//! URL, else the `[client] password` of `~/.my.cnf`, as the `mysql` client
//! reads it; see [`password`]), `sslmode`, and the engine's timeouts. Nothing here is printed
//! with its password.

use crate::config::{redact_url, EngineConfig, EnvPassword, ServerConfig, SslMode};
use crate::driver::{DriverError, ErrorKind, Result};
use mysql::{Opts, OptsBuilder, SslOpts};
use std::path::{Path, PathBuf};

/// Statements every new connection runs: UTC for TIMESTAMP columns, utf8mb4
/// whatever the server's default, and a strict SQL mode so a value that does
/// not fit is an error instead of a silent truncation. Backslash escapes
/// stay on: the target's literals are written for them.
pub const SESSION_INIT: &[&str] = &[
    "SET NAMES utf8mb4",
    "SET SESSION time_zone = '+00:00'",
    "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
];

/// The client's option file, as the `mysql` client reads it for the user:
/// `$MYSQL_HOME/.my.cnf` is not read by the client for passwords, so this is
/// `~/.my.cnf`.
pub fn option_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".my.cnf"))
}

/// The `password` of the `[client]` group in an option file (quotes
/// removed), when there is one. A missing file is `Ok(None)`.
pub fn option_file_password(path: &Path) -> std::io::Result<Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut in_client = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(group) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_client = group.trim().eq_ignore_ascii_case("client");
            continue;
        }
        if !in_client {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim().eq_ignore_ascii_case("password") {
                let v = value.trim();
                let unquoted = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v);
                found = Some(unquoted.to_owned());
            }
        }
    }
    Ok(found)
}

/// The password to connect with, or `None` (no password: the server
/// decides): the variable named by `password_env` when it is set, else one
/// written in the URL, else the `[client] password` of `my_cnf`. A
/// `password_env` naming an unset variable is an error only when neither
/// of the others has one, as for PostgreSQL and its `.pgpass`.
pub fn password(
    server: &ServerConfig,
    url: &Opts,
    my_cnf: Option<&Path>,
) -> Result<Option<String>> {
    let name = &server.name;
    let auth = |m: String| DriverError::new(ErrorKind::Auth, format!("{name}: {m}"));
    let from_env = server.env_password().map_err(|e| auth(e.to_string()))?;
    if let EnvPassword::Set(pw) = from_env {
        return Ok(Some(pw));
    }
    if let Some(pw) = url.get_pass() {
        return Ok(Some(pw.to_owned()));
    }
    let searched = match my_cnf.map(|f| (f, option_file_password(f))) {
        Some((_, Ok(Some(pw)))) => return Ok(Some(pw)),
        Some((f, Ok(None))) => format!("{} has no [client] password", f.display()),
        Some((f, Err(e))) => {
            return Err(auth(format!(
                "cannot read {}: {e}; fix its permissions or set password_env",
                f.display()
            )))
        }
        None => "there is no ~/.my.cnf (HOME is not set)".to_owned(),
    };
    match from_env {
        EnvPassword::Missing { var, state } => {
            let fix = ", or add password = … under [client] in ~/.my.cnf (chmod 0600)";
            let e = server.missing_password(&var, state, &searched, fix);
            Err(auth(format!("no password to connect with: {e}")))
        }
        _ => Ok(None),
    }
}

/// The `sslmode` in force for a server, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsChoice {
    pub mode: SslMode,
    /// Not set in the config: the default for the host applies.
    pub defaulted: bool,
    /// The host is loopback (`localhost`, `127.0.0.0/8`, `::1`) or a socket.
    pub local: bool,
}

impl TlsChoice {
    /// The config's `sslmode`, else `disable` for a loopback host or a
    /// socket and `verify-full` for any other (secure by default on the
    /// WAN, as for PostgreSQL). The host is read literally, never resolved,
    /// so a spoofed DNS answer cannot turn TLS off.
    pub fn for_server(server: &ServerConfig, url: &Opts) -> TlsChoice {
        let host = url.get_ip_or_hostname();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let local = url.get_socket().is_some()
            || host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let mode = match server.sslmode {
            Some(mode) => mode,
            None if local => SslMode::Disable,
            None => SslMode::VerifyFull,
        };
        TlsChoice {
            mode,
            defaulted: server.sslmode.is_none(),
            local,
        }
    }

    /// The config's spelling of the mode.
    pub fn label(&self) -> &'static str {
        match self.mode {
            SslMode::Disable => "disable",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// What to change when the WAN default cannot connect over TLS.
    pub fn default_fix(&self) -> &'static str {
        if self.defaulted && self.mode == SslMode::VerifyFull {
            ". sslmode is not set, and a host that is not loopback defaults to verify-full: \
             set sslrootcert to the CA that signed the server's certificate, or sslmode = \"require\" \
             (encrypted, certificate not checked), or sslmode = \"disable\" explicitly if the network is trusted"
        } else {
            ""
        }
    }

    /// For `check`: plaintext chosen explicitly for a host that is not
    /// loopback.
    pub fn plaintext_warning(&self) -> Option<String> {
        (self.mode == SslMode::Disable && !self.local).then(|| {
            "sslmode = \"disable\" over a non-loopback host: rows (and the password) cross the network in clear; set sslmode = \"verify-full\", or \"require\" at least".to_owned()
        })
    }
}

/// Connection options for `server`: URL, password, TLS and timeouts, and
/// the TLS mode they use.
pub fn options(server: &ServerConfig, engine: &EngineConfig) -> Result<(Opts, TlsChoice)> {
    let url = parse_url(&server.name, &server.url)?;
    let tls = TlsChoice::for_server(server, &url);
    let pass = password(server, &url, option_file().as_deref())?;
    let statement = engine.statement_timeout.0;
    let builder = OptsBuilder::from_opts(url)
        .pass(pass)
        .init(SESSION_INIT.to_vec())
        .tcp_connect_timeout(Some(engine.connect_timeout.0))
        // A socket silent for longer than any statement may run is dead.
        .read_timeout(Some(statement + std::time::Duration::from_secs(60)))
        .write_timeout(Some(statement + std::time::Duration::from_secs(60)))
        .tcp_keepalive_time_ms(Some(60_000))
        .tcp_nodelay(true)
        .prefer_socket(false)
        .ssl_opts(ssl_opts(server, tls.mode));
    Ok((builder.into(), tls))
}

/// What a MySQL `url` looks like.
pub const URL_EXAMPLE: &str = "\"mysql://user@host:3306/database\"";

/// `mysql://user[:password]@host[:port]/database`, parsed; the error names
/// the server, never the password.
pub fn parse_url(name: &str, url: &str) -> Result<Opts> {
    Opts::from_url(url).map_err(|e| {
        DriverError::other(format!(
            "{name}: the url {} is not a MySQL connection URL ({e}); expected mysql://user@host:3306/database",
            redact_url(url)
        ))
    })
}

/// Why `url` is not a MySQL connection URL (checked when the config is
/// loaded; the message holds the URL redacted).
pub fn check_url(url: &str) -> std::result::Result<(), String> {
    match Opts::from_url(url) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{:?} is not a MySQL connection URL ({e}); expected {URL_EXAMPLE}",
            redact_url(url)
        )),
    }
}

/// The password for `server`, from its config and `~/.my.cnf`.
pub fn connect_password(server: &ServerConfig) -> Result<Option<String>> {
    let url = parse_url(&server.name, &server.url)?;
    password(server, &url, option_file().as_deref())
}

/// `disable` → plain TCP; `require` → TLS without checking the
/// certificate; `verify-full` → TLS, certificate chain (the system's roots,
/// or `sslrootcert`) and host name checked.
fn ssl_opts(server: &ServerConfig, mode: SslMode) -> Option<SslOpts> {
    match mode {
        SslMode::Disable => None,
        SslMode::Require => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        SslMode::VerifyFull => Some(
            SslOpts::default()
                .with_root_cert_path(server.sslrootcert.clone().map(std::borrow::Cow::Owned)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str, extra: &str) -> ServerConfig {
        let text =
            format!("[[connection]]\nname = \"b\"\ndriver = \"mysql\"\nurl = \"{url}\"\n{extra}");
        #[derive(serde::Deserialize)]
        struct C {
            connection: Vec<ServerConfig>,
        }
        let c: C = toml::from_str(&text).unwrap();
        c.connection.into_iter().next().unwrap()
    }

    fn choice(url: &str, extra: &str) -> TlsChoice {
        let s = server(url, extra);
        TlsChoice::for_server(&s, &parse_url("b", url).unwrap())
    }

    #[test]
    fn unset_sslmode_is_disable_on_loopback_and_verify_full_elsewhere() {
        for url in [
            "mysql://u@localhost:3306/shop",
            "mysql://u@127.0.0.1:3306/shop",
            "mysql://u@127.0.0.2/shop",
            "mysql://u@[::1]:3306/shop",
            "mysql://u@db.example/shop?socket=/run/mysqld/mysqld.sock",
        ] {
            let c = choice(url, "");
            assert_eq!(c.mode, SslMode::Disable, "{url}");
            assert!(c.plaintext_warning().is_none(), "{url}");
        }
        for url in [
            "mysql://u@10.1.0.30:3306/shop",
            "mysql://u@db.example/shop",
            "mysql://u@[fd00::2]:3306/shop",
        ] {
            let c = choice(url, "");
            assert_eq!(c.mode, SslMode::VerifyFull, "{url}");
            assert!(c.default_fix().contains("defaults to verify-full"), "{url}");
        }
        let explicit = choice("mysql://u@10.1.0.30/shop", "sslmode = \"disable\"\n");
        assert_eq!(explicit.mode, SslMode::Disable);
        assert!(explicit.plaintext_warning().is_some());
        let explicit = choice("mysql://u@10.1.0.30/shop", "sslmode = \"verify-full\"\n");
        assert_eq!(explicit.default_fix(), "");
    }

    #[test]
    fn option_file_reads_the_client_group_only() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(".my.cnf");
        std::fs::write(
            &f,
            "[mysqld]\npassword = server\n[client]\nuser = me\npassword = \"se cret\"\n[mysqldump]\npassword=dump\n",
        )
        .unwrap();
        assert_eq!(
            option_file_password(&f).unwrap().as_deref(),
            Some("se cret")
        );
        assert_eq!(
            option_file_password(&dir.path().join("none")).unwrap(),
            None
        );
    }

    #[test]
    fn an_unset_password_env_falls_back_to_the_option_file() {
        let var = "BRANCHSYNC_UNIT_MY_PW_NEVER_SET_5C1E";
        let mut server: ServerConfig = toml::from_str(&format!(
            "name = \"br\"\ndriver = \"mysql\"\nurl = \"mysql://u@h/db\"\npassword_env = {var:?}\n"
        ))
        .unwrap();
        server.name = "br".into();
        let url = parse_url("br", &server.url).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cnf = dir.path().join(".my.cnf");
        std::fs::write(&cnf, "[client]\npassword = from-file\n").unwrap();
        assert_eq!(
            password(&server, &url, Some(&cnf)).unwrap().as_deref(),
            Some("from-file")
        );
        let none = dir.path().join("none.cnf");
        let e = password(&server, &url, Some(&none)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Auth);
        for part in [var, "is not set", "none.cnf", "[client]"] {
            assert!(e.message.contains(part), "{part:?} missing: {}", e.message);
        }
        server.password_env = None;
        assert_eq!(password(&server, &url, Some(&none)).unwrap(), None);
    }

    #[test]
    fn url_errors_hide_the_password() {
        let e = parse_url("b1", "mysql://u:hunter2@h:notaport/db").unwrap_err();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(e.message.contains("b1"), "{}", e.message);
    }
}
