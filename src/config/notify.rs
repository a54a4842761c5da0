//! `[[notify]]` entries: who hears about a batch when it ends — a generic JSON
//! webhook, a Slack or Discord incoming webhook, or email over SMTP — and on
//! which outcomes. A chat webhook's URL carries its token and an SMTP password
//! is a secret: both can live in the environment (`url_env`, `password_env`),
//! and neither is ever printed (`Debug` shows the host only).
//!
//! An entry is kept as written (serde rejects unknown keys and wrong types);
//! the rules between its keys are checked by [`check`] once the whole file has
//! parsed, so that each error names `[[notify]] #n`, the key and its line.

mod rules;

use super::{line_col, ConfigError, DurationStr};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::time::Duration;

/// A batch outcome that can be announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyEvent {
    Completed,
    Failed,
    Interrupted,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Completed => "completed",
            NotifyEvent::Failed => "failed",
            NotifyEvent::Interrupted => "interrupted",
        }
    }
}

/// What carries the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyKind {
    /// Generic JSON POST of the whole notice.
    Webhook,
    /// Slack incoming webhook (`{"text": …}`).
    Slack,
    /// Discord webhook (`{"content": …, "embeds": […]}`).
    Discord,
    /// Email over SMTP.
    Email,
}

impl NotifyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Webhook => "webhook",
            NotifyKind::Slack => "slack",
            NotifyKind::Discord => "discord",
            NotifyKind::Email => "email",
        }
    }
}

/// How an email is protected on its way to the SMTP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; refused if the server cannot
    /// (no silent plaintext). Default port 587.
    Starttls,
    /// TLS from the first byte (SMTPS). Default port 465.
    Tls,
    /// Plaintext, for a relay on this host or a trusted network. Port 25.
    None,
}

/// One `[[notify]]` entry, as written. Read it through the methods, which
/// apply the defaults; [`check`] has made sure the keys fit the kind.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    pub kind: NotifyKind,
    /// A label for logs and the journal.
    pub name: Option<String>,
    pub on: Option<Vec<NotifyEvent>>,
    pub timeout: Option<DurationStr>,
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
}

/// Where a webhook URL comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum UrlSource {
    /// Written in the file (`url`).
    Inline(String),
    /// Read from this environment variable when sending (`url_env`).
    Env(String),
}

/// An email entry, defaults applied.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub smtp_host: String,
    pub smtp_port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// Environment variable holding the SMTP password.
    pub password_env: Option<String>,
    pub from: String,
    pub to: Vec<String>,
}

/// Where a notification goes, defaults applied.
#[derive(Debug, Clone)]
pub enum NotifyChannel {
    Webhook(UrlSource),
    Slack(UrlSource),
    Discord(UrlSource),
    Email(EmailConfig),
}

impl NotifyChannel {
    pub fn kind(&self) -> &'static str {
        match self {
            NotifyChannel::Webhook(_) => "webhook",
            NotifyChannel::Slack(_) => "slack",
            NotifyChannel::Discord(_) => "discord",
            NotifyChannel::Email(_) => "email",
        }
    }
}

/// Bound of one attempt when `timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl NotifyConfig {
    /// How logs, errors and the journal name the entry at `index` (0-based):
    /// `[[notify]] #2 "ops-slack"` or `[[notify]] #2 (slack)`.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("[[notify]] #{} {name:?}", index + 1),
            None => format!("[[notify]] #{} ({})", index + 1, self.kind.as_str()),
        }
    }

    /// The outcomes announced; default failed and interrupted.
    pub fn events(&self) -> Vec<NotifyEvent> {
        self.on
            .clone()
            .unwrap_or_else(|| vec![NotifyEvent::Failed, NotifyEvent::Interrupted])
    }

    /// Is `event` one this entry announces?
    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.events().contains(&event)
    }

    /// Bound of one attempt (connect, send, answer).
    pub fn timeout(&self) -> Duration {
        self.timeout.map_or(DEFAULT_TIMEOUT, |d| d.0)
    }

    /// The channel with its defaults (ports by TLS mode, STARTTLS).
    pub fn channel(&self) -> NotifyChannel {
        let url = || match (&self.url, &self.url_env) {
            (Some(url), _) => UrlSource::Inline(url.clone()),
            (None, var) => UrlSource::Env(var.clone().unwrap_or_default()),
        };
        match self.kind {
            NotifyKind::Webhook => NotifyChannel::Webhook(url()),
            NotifyKind::Slack => NotifyChannel::Slack(url()),
            NotifyKind::Discord => NotifyChannel::Discord(url()),
            NotifyKind::Email => {
                let tls = self.tls.unwrap_or(SmtpTls::Starttls);
                NotifyChannel::Email(EmailConfig {
                    smtp_host: self.smtp_host.clone().unwrap_or_default(),
                    smtp_port: self.smtp_port.unwrap_or(match tls {
                        SmtpTls::Starttls => 587,
                        SmtpTls::Tls => 465,
                        SmtpTls::None => 25,
                    }),
                    tls,
                    username: self.username.clone(),
                    password_env: self.password_env.clone(),
                    from: self.from.clone().unwrap_or_default(),
                    to: self.to.clone(),
                })
            }
        }
    }

    /// What may be shown of the destination: a host or a variable's name.
    pub fn destination(&self) -> String {
        match self.channel() {
            NotifyChannel::Email(e) => format!("{}:{}", e.smtp_host, e.smtp_port),
            NotifyChannel::Webhook(u) | NotifyChannel::Slack(u) | NotifyChannel::Discord(u) => {
                u.describe()
            }
        }
    }
}

impl fmt::Debug for NotifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NotifyConfig")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("on", &self.events())
            .field("timeout", &self.timeout())
            .field("destination", &self.destination())
            .field("url_env", &self.url_env)
            .field("username", &self.username)
            .field("password_env", &self.password_env)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

impl UrlSource {
    /// The URL to post to, or why there is none (naming the variable, never
    /// the URL).
    pub fn resolve(&self) -> Result<String, String> {
        match self {
            UrlSource::Inline(url) => Ok(url.clone()),
            UrlSource::Env(var) => match std::env::var(var) {
                Ok(url) if !url.trim().is_empty() => {
                    check_url(url.trim()).map_err(|why| format!("the URL in ${var} {why}"))?;
                    Ok(url.trim().to_owned())
                }
                _ => Err(format!(
                    "the environment variable {var} (url_env) is not set; export the webhook URL there, in the environment of branchsync (e.g. the systemd unit's EnvironmentFile)"
                )),
            },
        }
    }

    /// What may be shown of the URL: its host, or the variable's name.
    pub fn describe(&self) -> String {
        match self {
            UrlSource::Inline(url) => url_host(url),
            UrlSource::Env(var) => format!("${var}"),
        }
    }
}

impl fmt::Debug for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlSource::Inline(url) => write!(f, "Inline({:?})", url_host(url)),
            UrlSource::Env(var) => write!(f, "Env({var:?})"),
        }
    }
}

/// The host (and port) of a URL, without scheme, credentials, path or query —
/// the part of a webhook URL that is not a secret.
pub fn url_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host.to_owned()
}

fn check_url(url: &str) -> Result<(), String> {
    let ok_scheme = url.starts_with("https://") || url.starts_with("http://");
    if !ok_scheme || url_host(url).is_empty() {
        return Err("is not an http(s) URL; expected \"https://host/path\"".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters".into());
    }
    Ok(())
}

/// The entries' positions in the text: `[[notify]]` tables and their keys.
#[derive(Default, Deserialize)]
struct Spans {
    #[serde(default)]
    notify: Vec<toml::Spanned<BTreeMap<String, toml::Spanned<toml::Value>>>>,
}

/// Check every `[[notify]]` entry of `config` (read from `text`): the keys
/// must fit the kind, and each error names the entry, the key, its
/// line:column and the fix.
pub(super) fn check(notify: &[NotifyConfig], path: &Path, text: &str) -> Result<(), ConfigError> {
    let spans: Spans = toml::from_str(text).unwrap_or_default();
    for (i, entry) in notify.iter().enumerate() {
        if let Err((key, message)) = rules::check_entry(entry) {
            let mut label = entry.label(i);
            if let Some(key) = key {
                label.push_str(&format!(" key {key}"));
            }
            let at = spans.notify.get(i).map(|table| {
                key.and_then(|k| table.get_ref().get(k))
                    .map_or(table.span().start, |v| v.span().start)
            });
            return Err(match at {
                Some(at) => {
                    let (line, column) = line_col(text, at);
                    ConfigError::InvalidAt {
                        path: path.to_path_buf(),
                        line,
                        column,
                        entry: label,
                        message,
                    }
                }
                None => ConfigError::Invalid {
                    path: path.to_path_buf(),
                    entry: label,
                    message,
                },
            });
        }
    }
    Ok(())
}
