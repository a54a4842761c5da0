//! Passwords are never in the config file: they come from the environment
//! variable named by `password_env`, or from where the driver's own client
//! keeps them (`~/.pgpass`, `~/.my.cnf`: the driver reads those). They are
//! looked up late (when a connection is opened) and never printed: URLs are
//! redacted in `Debug` and in every message.

use super::{ConfigError, ServerConfig};
use std::env::VarError;

/// What `password_env` gave.
#[derive(Clone, PartialEq, Eq)]
pub enum EnvPassword {
    /// No `password_env` key.
    NotAsked,
    /// The variable's value (never printed).
    Set(String),
    /// The variable named is unset or empty: `state` says which.
    Missing { var: String, state: &'static str },
}

impl std::fmt::Debug for EnvPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvPassword::NotAsked => f.write_str("NotAsked"),
            EnvPassword::Set(_) => f.write_str("Set(***)"),
            EnvPassword::Missing { var, state } => write!(f, "Missing({var} {state})"),
        }
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

    /// A secret of this server's `key` cannot be had, because `message`.
    pub fn secret_error(&self, key: &str, message: String) -> ConfigError {
        ConfigError::Secret {
            entry: format!("{} key {key}", self.entry_label()),
            message,
        }
    }

    /// The password of the variable named by `password_env`. A value that
    /// is not UTF-8 is an error; an unset or empty one is for the driver to
    /// weigh against its other places ([`ServerConfig::missing_password`]).
    pub fn env_password(&self) -> Result<EnvPassword, ConfigError> {
        let Some(var) = &self.password_env else {
            return Ok(EnvPassword::NotAsked);
        };
        let missing = |state| EnvPassword::Missing {
            var: var.clone(),
            state,
        };
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(EnvPassword::Set(v)),
            Ok(_) => Ok(missing("is set but empty")),
            Err(VarError::NotPresent) => Ok(missing("is not set")),
            Err(VarError::NotUnicode(_)) => Err(self.secret_error(
                "password_env",
                format!("the environment variable {var} is not valid UTF-8; set it to the password as plain text"),
            )),
        }
    }

    /// `password_env` named a variable that is `state`, and the driver's
    /// own places had no password either: `searched` says what was looked
    /// at, `other_fix` (", or …") the driver's other way to give one.
    pub fn missing_password(
        &self,
        var: &str,
        state: &str,
        searched: &str,
        other_fix: &str,
    ) -> ConfigError {
        self.secret_error(
            "password_env",
            format!(
                "the environment variable {var} {state}, and {searched}. Set {var} where branchsync runs (export {var}=… in the shell, the cron line, or a systemd EnvironmentFile=){other_fix}"
            ),
        )
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
}
