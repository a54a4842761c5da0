//! Passwords are never in the config file: they come from the environment
//! variable named by `password_env`, or from `~/.pgpass`. They are looked up
//! late (when a connection is opened) and never printed: URLs are redacted
//! in `Debug` and in every message.

use super::pgpass::{lookup_pgpass_in, pgpass_path};
use super::{ConfigError, ServerConfig};
use std::env::VarError;
use std::path::Path;
use std::str::FromStr;

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

impl ServerConfig {
    /// How errors name this server: `[target]` or `[[connection]] "name"`.
    pub fn entry_label(&self) -> String {
        if self.name == "target" {
            "[target]".into()
        } else {
            format!("[[connection]] {:?}", self.name)
        }
    }

    /// The password to connect with: the variable named by `password_env`
    /// when it is set; else one written in the URL; else a `~/.pgpass`
    /// (`$PGPASSFILE`) match for a `postgres` server. `Ok(None)` when there is
    /// none and none was asked for (trust or certificate authentication).
    pub fn resolve_password(&self) -> Result<Option<String>, ConfigError> {
        self.resolve_password_with(pgpass_path().as_deref())
    }

    /// [`ServerConfig::resolve_password`] with the password file given
    /// (`None`: no password file).
    pub fn resolve_password_with(
        &self,
        pgpass: Option<&Path>,
    ) -> Result<Option<String>, ConfigError> {
        let secret = |key: &str, message: String| ConfigError::Secret {
            entry: format!("{} key {key}", self.entry_label()),
            message,
        };
        let env_state = match &self.password_env {
            None => None,
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => return Ok(Some(v)),
                Ok(_) => Some((var, "is set but empty")),
                Err(VarError::NotPresent) => Some((var, "is not set")),
                Err(VarError::NotUnicode(_)) => {
                    return Err(secret(
                        "password_env",
                        format!("the environment variable {var} is not valid UTF-8; set it to the password as plain text"),
                    ))
                }
            },
        };
        let key = if self.driver == "postgres" {
            let pg = postgres::Config::from_str(&self.url).ok();
            if let Some(pw) = pg.as_ref().and_then(|pg| pg.get_password()) {
                return Ok(Some(String::from_utf8_lossy(pw).into_owned()));
            }
            PgPassKey::from_url(&self.url)
        } else {
            None
        };
        let mut searched =
            String::from("it is not a postgres server, so there is no .pgpass to fall back to");
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
                        Err(message) => return Err(secret("url", message)),
                    }
                }
                None => searched = "there is no ~/.pgpass (HOME is not set)".into(),
            }
        }
        let Some((var, state)) = env_state else {
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
        Err(secret(
            "password_env",
            format!(
                "the environment variable {var} {state}, and {searched}. Set {var} where branchsync runs (export {var}=… in the shell, the cron line, or a systemd EnvironmentFile=){pgpass_fix}"
            ),
        ))
    }
}

/// A URL or connection string with every password replaced by `***`:
/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`,
/// `host=h password=secret` → `host=h password=***`.
pub fn redact_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let query = rest.find('?').unwrap_or(rest.len());
            let at = rest[..query].rfind('@').or_else(|| rest.rfind('@'));
            let rest = match at {
                Some(at) => match rest[..at].split_once(':') {
                    Some((user, _)) => format!("{user}:***@{}", &rest[at + 1..]),
                    None => rest.to_owned(),
                },
                None => rest.to_owned(),
            };
            format!("{scheme}://{}", redact_keyword(&rest, true))
        }
        None => redact_keyword(url, false),
    }
}

/// Replace the value of every `password=` (key=value strings, or URL query
/// parameters when `in_query`).
fn redact_keyword(s: &str, in_query: bool) -> String {
    let lower = s.to_ascii_lowercase();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = lower[search..].find("password") {
        let start = search + found;
        search = start + "password".len();
        let boundary = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '?' || c == '&');
        let after = &s[search..];
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=').filter(|_| boundary) else {
            continue;
        };
        let value_start = s.len() - value.trim_start().len();
        let rest = &s[value_start..];
        let len = if let Some(quoted) = rest.strip_prefix('\'') {
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        chars.next();
                    }
                    '\'' => {
                        end = i + 1;
                        break;
                    }
                    _ => {}
                }
            }
            1 + end
        } else {
            rest.find(|c: char| c.is_whitespace() || (in_query && c == '&'))
                .unwrap_or(rest.len())
        };
        out.push_str(&s[copied..value_start]);
        out.push_str("***");
        copied = value_start + len;
        search = copied;
    }
    out.push_str(&s[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_form() {
        let cases = [
            ("postgres://u:s3cr3t@h/db", "postgres://u:***@h/db"),
            ("postgres://u:p@ss@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:pa?ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?user=u&password=s3cr3t&sslmode=require",
                "postgres://h/db?user=u&password=***&sslmode=require",
            ),
            (
                "host=h password=s3cr3t user=u",
                "host=h password=*** user=u",
            ),
            (
                "host=h password = 'a \\' s3cr3t' user=u",
                "host=h password = *** user=u",
            ),
            ("PASSWORD=s3cr3t", "PASSWORD=***"),
            ("/var/lib/branch/lmp.db", "/var/lib/branch/lmp.db"),
            ("host=h mypassword=x", "host=h mypassword=x"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }

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
}
