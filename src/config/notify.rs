//! `[[notify]]` entries: who hears about a batch when it ends — a generic JSON
//! webhook, a Slack or Discord incoming webhook, or email over SMTP — and on
//! which outcomes. A chat webhook's URL carries its token and an SMTP password
//! is a secret: both can live in the environment (`url_env`, `password_env`),
//! and neither is ever printed (`Debug` shows the host only).
//!
//! The rules between keys are checked while parsing (`try_from`), so that an
//! error points at the entry's line in the file like every other config error.

use super::DurationStr;
use serde::Deserialize;
use std::fmt;
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

/// Where a webhook URL comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum UrlSource {
    /// Written in the file (`url`).
    Inline(String),
    /// Read from this environment variable when sending (`url_env`).
    Env(String),
}

/// An email channel.
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

/// Where a notification goes.
#[derive(Debug, Clone)]
pub enum NotifyChannel {
    /// Generic JSON POST of the whole notice.
    Webhook(UrlSource),
    /// Slack incoming webhook (`{"text": …}`).
    Slack(UrlSource),
    /// Discord webhook (`{"content": …, "embeds": […]}`).
    Discord(UrlSource),
    Email(EmailConfig),
}

impl NotifyChannel {
    /// `webhook`, `slack`, `discord` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            NotifyChannel::Webhook(_) => "webhook",
            NotifyChannel::Slack(_) => "slack",
            NotifyChannel::Discord(_) => "discord",
            NotifyChannel::Email(_) => "email",
        }
    }
}

/// One `[[notify]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawNotify")]
pub struct NotifyConfig {
    /// A label for logs and the journal (optional).
    pub name: Option<String>,
    /// The outcomes announced. Default: failed and interrupted.
    pub on: Vec<NotifyEvent>,
    /// Bound of one attempt (connect + send + answer). Default 10s.
    pub timeout: Duration,
    pub channel: NotifyChannel,
}

impl NotifyConfig {
    /// How logs, errors and the journal name the entry at `index` (0-based):
    /// `[[notify]] #2 "ops-slack"` or `[[notify]] #2 (slack)`.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("[[notify]] #{} {name:?}", index + 1),
            None => format!("[[notify]] #{} ({})", index + 1, self.channel.kind()),
        }
    }

    /// Is `event` one this entry announces?
    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.on.contains(&event)
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
                    "the environment variable {var} (url_env) is not set; export it with the webhook URL in the environment of branchsync (e.g. the systemd unit's EnvironmentFile)"
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

fn check_env_name(key: &str, var: &str) -> Result<(), String> {
    if var.is_empty() || var.contains(['=', '\0']) || var.chars().any(char::is_whitespace) {
        return Err(format!(
            "key {key}: {var:?} is not an environment variable name; expected a name like \"SLACK_WEBHOOK_URL\""
        ));
    }
    Ok(())
}

fn check_mailbox(key: &str, value: &str) -> Result<(), String> {
    value
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|_| {
            format!(
                "key {key}: {value:?} is not an email address; expected \"ops@example.com\" or \"Sync <sync@example.com>\""
            )
        })
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Webhook,
    Slack,
    Discord,
    Email,
}

/// The entry as written; [`NotifyConfig`] is what it means once checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    kind: Kind,
    name: Option<String>,
    on: Option<Vec<NotifyEvent>>,
    timeout: Option<DurationStr>,
    url: Option<String>,
    url_env: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    tls: Option<SmtpTls>,
    username: Option<String>,
    password_env: Option<String>,
    from: Option<String>,
    to: Option<Vec<String>>,
}

const MAX_TIMEOUT: Duration = Duration::from_secs(300);

impl TryFrom<RawNotify> for NotifyConfig {
    type Error = String;

    fn try_from(raw: RawNotify) -> Result<Self, String> {
        if let Some(name) = &raw.name {
            if name.trim().is_empty() || name.chars().any(char::is_control) {
                return Err(format!(
                    "key name: {name:?} is not a usable label; expected a short name like \"ops-slack\""
                ));
            }
        }
        let on = raw
            .on
            .clone()
            .unwrap_or_else(|| vec![NotifyEvent::Failed, NotifyEvent::Interrupted]);
        if on.is_empty() {
            return Err("key on: is empty, so nothing would ever be sent; list outcomes from \"failed\", \"interrupted\", \"completed\", or remove the entry".into());
        }
        let timeout = raw.timeout.map_or(Duration::from_secs(10), |d| d.0);
        if timeout.is_zero() || timeout > MAX_TIMEOUT {
            return Err(
                "key timeout: must be more than 0s and at most 5m (the bound of one attempt; default \"10s\")".into(),
            );
        }
        let channel = match raw.kind {
            Kind::Email => NotifyChannel::Email(email(&raw)?),
            kind => {
                let url = webhook_url(&raw)?;
                match kind {
                    Kind::Slack => NotifyChannel::Slack(url),
                    Kind::Discord => NotifyChannel::Discord(url),
                    _ => NotifyChannel::Webhook(url),
                }
            }
        };
        Ok(NotifyConfig {
            name: raw.name,
            on,
            timeout,
            channel,
        })
    }
}

fn webhook_url(raw: &RawNotify) -> Result<UrlSource, String> {
    for (key, set) in [
        ("smtp_host", raw.smtp_host.is_some()),
        ("smtp_port", raw.smtp_port.is_some()),
        ("tls", raw.tls.is_some()),
        ("username", raw.username.is_some()),
        ("password_env", raw.password_env.is_some()),
        ("from", raw.from.is_some()),
        ("to", raw.to.is_some()),
    ] {
        if set {
            return Err(format!(
                "key {key} is only for kind = \"email\"; remove it from this webhook entry"
            ));
        }
    }
    match (&raw.url, &raw.url_env) {
        (Some(_), Some(_)) => Err("set either url or url_env, not both (url_env = \"NAME\" reads the URL from that environment variable, which keeps its token out of the file)".into()),
        (None, None) => Err("missing the webhook URL: add url_env = \"NAME\" (an environment variable holding the URL) or url = \"https://…\"".into()),
        (Some(url), None) => {
            check_url(url).map_err(|why| format!("key url: {why}"))?;
            Ok(UrlSource::Inline(url.clone()))
        }
        (None, Some(var)) => {
            check_env_name("url_env", var)?;
            Ok(UrlSource::Env(var.clone()))
        }
    }
}

fn email(raw: &RawNotify) -> Result<EmailConfig, String> {
    for (key, set) in [
        ("url", raw.url.is_some()),
        ("url_env", raw.url_env.is_some()),
    ] {
        if set {
            return Err(format!(
                "key {key} is only for webhook, slack and discord entries; an email entry uses smtp_host, from and to"
            ));
        }
    }
    let smtp_host = raw.smtp_host.as_deref().map(str::trim).ok_or(
        "missing key smtp_host: the SMTP server's host name, e.g. smtp_host = \"smtp.example.com\"",
    )?;
    let with_port = smtp_host
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()));
    if smtp_host.is_empty()
        || smtp_host.contains(['/', '@'])
        || smtp_host.contains(char::is_whitespace)
        || with_port
    {
        return Err(format!(
            "key smtp_host: {smtp_host:?} is not a host name; expected \"smtp.example.com\" (the port goes in smtp_port)"
        ));
    }
    let smtp_host = smtp_host.to_owned();
    let tls = raw.tls.unwrap_or(SmtpTls::Starttls);
    let smtp_port = match raw.smtp_port {
        Some(0) => return Err("key smtp_port: must be between 1 and 65535".into()),
        Some(p) => p,
        None => match tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        },
    };
    let from = raw
        .from
        .clone()
        .ok_or("missing key from: the sender, e.g. from = \"branchsync <sync@example.com>\"")?;
    check_mailbox("from", &from)?;
    let to = raw.to.clone().unwrap_or_default();
    if to.is_empty() {
        return Err("missing key to: the recipients, e.g. to = [\"ops@example.com\"]".into());
    }
    for t in &to {
        check_mailbox("to", t)?;
    }
    if let Some(var) = &raw.password_env {
        check_env_name("password_env", var)?;
        if raw.username.is_none() {
            return Err("key password_env: a password needs a user name; add username = \"…\" (or remove password_env for a relay without login)".into());
        }
    }
    if raw.username.is_some() {
        if raw.password_env.is_none() {
            return Err("key username: the password is missing; add password_env = \"NAME\" (an environment variable holding it)".into());
        }
        if tls == SmtpTls::None && !is_loopback_host(&smtp_host) {
            return Err(format!(
                "key tls: \"none\" would send the SMTP password in plaintext to {smtp_host}; use tls = \"starttls\" or \"tls\""
            ));
        }
    }
    Ok(EmailConfig {
        smtp_host,
        smtp_port,
        tls,
        username: raw.username.clone(),
        password_env: raw.password_env.clone(),
        from,
        to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<NotifyConfig, String> {
        #[derive(Deserialize)]
        struct Wrap {
            notify: Vec<NotifyConfig>,
        }
        toml::from_str::<Wrap>(text)
            .map(|mut w| w.notify.remove(0))
            .map_err(|e| e.message().to_owned())
    }

    #[test]
    fn webhook_defaults_and_url_env() {
        let n = parse("[[notify]]\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n").unwrap();
        assert_eq!(n.on, vec![NotifyEvent::Failed, NotifyEvent::Interrupted]);
        assert_eq!(n.timeout, Duration::from_secs(10));
        assert!(matches!(&n.channel, NotifyChannel::Slack(UrlSource::Env(v)) if v == "SLACK_URL"));
        assert_eq!(n.label(0), "[[notify]] #1 (slack)");
    }

    #[test]
    fn debug_never_shows_the_url_token() {
        let n = parse(
            "[[notify]]\nkind = \"discord\"\nname = \"ops\"\nurl = \"https://discord.example/api/webhooks/1/SECRETTOKEN\"\non = [\"completed\"]\n",
        )
        .unwrap();
        let dbg = format!("{n:?}");
        assert!(!dbg.contains("SECRETTOKEN"), "{dbg}");
        assert!(dbg.contains("discord.example"), "{dbg}");
        assert_eq!(n.label(2), "[[notify]] #3 \"ops\"");
    }

    #[test]
    fn email_ports_follow_tls() {
        let n = parse("[[notify]]\nkind = \"email\"\nsmtp_host = \"smtp.example.com\"\nfrom = \"sync@example.com\"\nto = [\"ops@example.com\"]\ntls = \"tls\"\n").unwrap();
        match n.channel {
            NotifyChannel::Email(e) => {
                assert_eq!(e.smtp_port, 465);
                assert_eq!(e.tls, SmtpTls::Tls);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rules_between_keys_name_the_key_and_the_fix() {
        let cases = [
            ("kind = \"webhook\"", "missing the webhook URL"),
            ("kind = \"webhook\"\nurl = \"ftp://x\"", "key url: is not an http(s) URL"),
            ("kind = \"webhook\"\nurl = \"https://x\"\nurl_env = \"X\"", "either url or url_env"),
            ("kind = \"slack\"\nurl_env = \"X\"\nsmtp_host = \"h\"", "key smtp_host is only for kind = \"email\""),
            ("kind = \"email\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]", "missing key smtp_host"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"a@b.c\"\nto = []", "missing key to"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"nope\"\nto = [\"d@e.f\"]", "key from: \"nope\" is not an email address"),
            ("kind = \"email\"\nsmtp_host = \"mail.example\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"", "plaintext"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\nusername = \"u\"", "add password_env"),
            ("kind = \"webhook\"\nurl_env = \"X\"\non = []", "key on: is empty"),
            ("kind = \"webhook\"\nurl_env = \"X\"\ntimeout = \"0s\"", "key timeout"),
        ];
        for (body, want) in cases {
            let err = parse(&format!("[[notify]]\n{body}\n")).unwrap_err();
            assert!(err.contains(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn plaintext_login_is_allowed_to_a_local_relay() {
        parse("[[notify]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n").unwrap();
    }

    #[test]
    fn host_of_a_url_drops_credentials_path_and_query() {
        assert_eq!(
            url_host("https://u:p@hooks.example:8443/a/b?c=d"),
            "hooks.example:8443"
        );
        assert_eq!(url_host("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
