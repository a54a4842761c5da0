//! What the config says of a PostgreSQL server, read as libpq would: the URL
//! (checked when the config is loaded), and the password: the variable named
//! by `password_env` when it is set; else one written in the URL; else a
//! `~/.pgpass` (`$PGPASSFILE`) match. Nothing here prints a password.

use super::pgpass::{lookup_pgpass_in, pgpass_path};
use crate::config::{redact_url, ConfigError, EnvPassword, ServerConfig};
use crate::driver::{DriverError, ErrorKind};
use std::path::Path;
use std::str::FromStr;

/// What a PostgreSQL `url` looks like.
pub const URL_EXAMPLE: &str = "\"postgres://user@host:5432/database\"";

/// Why `url` is not a PostgreSQL connection URL (or key=value string), in
/// words that name no part of it but its redacted form.
pub fn check_url(url: &str) -> Result<(), String> {
    match postgres::Config::from_str(url) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{:?} is not a PostgreSQL connection URL ({}); expected {URL_EXAMPLE}",
            redact_url(url),
            pg_reason(&e)
        )),
    }
}

/// Why the postgres crate refused a URL, without any part of the URL (its
/// messages name options, except "unexpected character … got `x`").
fn pg_reason(e: &postgres::Error) -> String {
    let mut reason = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        let s = source.to_string();
        let s = s.split(" but got").next().unwrap_or(&s);
        reason = format!("{reason}: {s}");
    }
    reason
}

/// What `.pgpass` is matched against, read from a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgPassKey {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
}

impl PgPassKey {
    /// The libpq defaults apply: a Unix socket or no host is `localhost`,
    /// the port 5432, the user `$USER`, the database the user's name.
    pub fn from_url(url: &str) -> Option<PgPassKey> {
        let pg = postgres::Config::from_str(url).ok()?;
        let host = match pg.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "localhost".to_owned(),
        };
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let user = pg
            .get_user()
            .map(str::to_owned)
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("LOGNAME").ok())
            .unwrap_or_default();
        let database = pg
            .get_dbname()
            .map(str::to_owned)
            .unwrap_or_else(|| user.clone());
        Some(PgPassKey {
            host,
            port,
            database,
            user,
        })
    }

    /// `host:port:database:user`, as a `.pgpass` line starts.
    pub fn pattern(&self) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace(':', "\\:");
        format!(
            "{}:{}:{}:{}",
            esc(&self.host),
            self.port,
            esc(&self.database),
            esc(&self.user)
        )
    }
}

/// The password to connect to `server` with (see the module). `Ok(None)`
/// when there is none and none was asked for (trust or certificate
/// authentication).
pub fn password(server: &ServerConfig) -> Result<Option<String>, ConfigError> {
    password_with(server, pgpass_path().as_deref())
}

/// [`password`] as a connect error.
pub fn connect_password(server: &ServerConfig) -> crate::driver::Result<Option<String>> {
    password(server).map_err(|e| {
        DriverError::new(
            ErrorKind::Auth,
            format!("{}: no password to connect with: {e}", server.name),
        )
    })
}

/// [`password`] with the password file given (`None`: no password file).
pub fn password_with(
    server: &ServerConfig,
    pgpass: Option<&Path>,
) -> Result<Option<String>, ConfigError> {
    let from_env = server.env_password()?;
    if let EnvPassword::Set(pw) = from_env {
        return Ok(Some(pw));
    }
    if let Some(pw) = postgres::Config::from_str(&server.url)
        .ok()
        .and_then(|pg| pg.get_password().map(<[u8]>::to_vec))
    {
        return Ok(Some(String::from_utf8_lossy(&pw).into_owned()));
    }
    let key = PgPassKey::from_url(&server.url);
    let mut searched = String::from("the url is not one .pgpass can be matched against");
    if let Some(key) = &key {
        match pgpass {
            Some(path) => {
                match lookup_pgpass_in(path, &key.host, key.port, &key.database, &key.user) {
                    Ok(Some(pw)) => return Ok(Some(pw)),
                    Ok(None) if path.exists() => {
                        searched =
                            format!("no line of {} matches {}", path.display(), key.pattern())
                    }
                    Ok(None) => searched = format!("{} does not exist", path.display()),
                    Err(message) => return Err(server.secret_error("url", message)),
                }
            }
            None => searched = "there is no ~/.pgpass (HOME is not set)".into(),
        }
    }
    let EnvPassword::Missing { var, state } = from_env else {
        return Ok(None);
    };
    let pgpass_fix = key
        .map(|k| {
            format!(
                ", or add the line \"{}:<password>\" to ~/.pgpass (chmod 0600)",
                k.pattern()
            )
        })
        .unwrap_or_default();
    Err(server.missing_password(&var, state, &searched, &pgpass_fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgpass_key_defaults_like_libpq() {
        let k = PgPassKey::from_url("postgres://reader@10.1.0.5/idempiere").unwrap();
        assert_eq!(k.pattern(), "10.1.0.5:5432:idempiere:reader");
        let k = PgPassKey::from_url("host=/run/postgresql port=5433 user=u").unwrap();
        assert_eq!(
            (k.host.as_str(), k.port, k.database.as_str()),
            ("localhost", 5433, "u")
        );
    }

    #[test]
    fn url_errors_hide_the_password() {
        let e = check_url("postgres://u:s3cr3t@h:notaport/db").unwrap_err();
        assert!(e.contains("postgres://u:***@h:notaport/db"), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");
        assert_eq!(check_url("postgres://u@h/db"), Ok(()));
    }
}
