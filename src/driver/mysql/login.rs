//! Where a MySQL session's settings come from: the `mysql://` URL, the
//! password (the variable named by `password_env`, else one written in the
//! URL, else the `[client] password` of `~/.my.cnf`, as the `mysql` client
//! reads it), `sslmode`, and the engine's timeouts. Nothing here is printed
//! with its password.

use crate::config::{redact_url, EngineConfig, ServerConfig, SslMode};
use crate::driver::{DriverError, ErrorKind, Result};
use mysql::{Opts, OptsBuilder, SslOpts};
use std::env::VarError;
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

/// The password to connect with, or `None` (no password: the server decides).
pub fn password(
    server: &ServerConfig,
    url: &Opts,
    my_cnf: Option<&Path>,
) -> Result<Option<String>> {
    let name = &server.name;
    let auth = |m: String| DriverError::new(ErrorKind::Auth, format!("{name}: {m}"));
    if let Some(var) = &server.password_env {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => return Ok(Some(v)),
            Ok(_) | Err(VarError::NotPresent) => {
                return Err(auth(format!(
                    "password_env names {var}, which is not set or empty; set {var} where branchsync runs (export {var}=… in the shell, the cron line, or a systemd EnvironmentFile=), or remove password_env to use ~/.my.cnf"
                )))
            }
            Err(VarError::NotUnicode(_)) => {
                return Err(auth(format!(
                    "the environment variable {var} is not valid UTF-8; set it to the password as plain text"
                )))
            }
        }
    }
    if let Some(pw) = url.get_pass() {
        return Ok(Some(pw.to_owned()));
    }
    match my_cnf.map(option_file_password) {
        Some(Ok(pw)) => Ok(pw),
        Some(Err(e)) => Err(auth(format!(
            "cannot read {}: {e}; fix its permissions or set password_env",
            my_cnf.unwrap_or(Path::new("")).display()
        ))),
        None => Ok(None),
    }
}

/// Connection options for `server`: URL, password, TLS and timeouts.
pub fn options(server: &ServerConfig, engine: &EngineConfig) -> Result<Opts> {
    let url = parse_url(&server.name, &server.url)?;
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
        .ssl_opts(ssl_opts(server));
    Ok(builder.into())
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

/// `sslmode`: unset or `disable` → plain TCP; `require` → TLS without
/// checking the certificate; `verify-full` → TLS, certificate chain (the
/// system's roots, or `sslrootcert`) and host name checked.
fn ssl_opts(server: &ServerConfig) -> Option<SslOpts> {
    match server.sslmode? {
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
    fn url_errors_hide_the_password() {
        let e = parse_url("b1", "mysql://u:hunter2@h:notaport/db").unwrap_err();
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(e.message.contains("b1"), "{}", e.message);
    }
}
