//! The rules between the keys of one `[[notify]]` entry: a webhook needs a
//! URL (in the file or the environment) and no SMTP keys; an email needs a
//! server, a sender and recipients; a login needs a password variable and,
//! away from this host, an encrypted connection.

use super::{check_url, NotifyConfig, NotifyKind, SmtpTls};
use std::time::Duration;

/// What is wrong: the key (when one is to blame) and the message with the fix.
type Broken = (Option<&'static str>, String);

const MAX_TIMEOUT: Duration = Duration::from_secs(300);

pub(super) fn check_entry(n: &NotifyConfig) -> Result<(), Broken> {
    if let Some(name) = &n.name {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err((
                Some("name"),
                format!("{name:?} is not a usable label; expected a short name like \"ops-slack\""),
            ));
        }
    }
    if n.on.as_ref().is_some_and(Vec::is_empty) {
        return Err((
            Some("on"),
            "is empty, so nothing would ever be sent; list outcomes from \"failed\", \"interrupted\", \"completed\", or remove the entry".into(),
        ));
    }
    if let Some(t) = n.timeout {
        if t.0.is_zero() || t.0 > MAX_TIMEOUT {
            return Err((
                Some("timeout"),
                "must be more than 0s and at most 5m (the bound of one attempt; default \"10s\")"
                    .into(),
            ));
        }
    }
    match n.kind {
        NotifyKind::Email => email(n),
        _ => webhook(n),
    }
}

fn webhook(n: &NotifyConfig) -> Result<(), Broken> {
    let email_keys: [(&'static str, bool); 7] = [
        ("smtp_host", n.smtp_host.is_some()),
        ("smtp_port", n.smtp_port.is_some()),
        ("tls", n.tls.is_some()),
        ("username", n.username.is_some()),
        ("password_env", n.password_env.is_some()),
        ("from", n.from.is_some()),
        ("to", !n.to.is_empty()),
    ];
    if let Some((key, _)) = email_keys.iter().find(|(_, set)| *set) {
        return Err((
            Some(key),
            format!(
                "is only for kind = \"email\"; remove it from this {} entry",
                n.kind.as_str()
            ),
        ));
    }
    match (&n.url, &n.url_env) {
        (Some(_), Some(_)) => Err((
            Some("url_env"),
            "set either url or url_env, not both (url_env = \"NAME\" reads the URL from that environment variable, which keeps its token out of the file)".into(),
        )),
        (None, None) => Err((
            None,
            "missing the webhook URL: add url_env = \"NAME\" (an environment variable holding the URL) or url = \"https://…\"".into(),
        )),
        (Some(url), None) => check_url(url).map_err(|why| (Some("url"), why)),
        (None, Some(var)) => env_name("url_env", var, "SLACK_WEBHOOK_URL"),
    }
}

fn email(n: &NotifyConfig) -> Result<(), Broken> {
    for (key, set) in [("url", n.url.is_some()), ("url_env", n.url_env.is_some())] {
        if set {
            return Err((
                Some(key),
                "is only for webhook, slack and discord entries; an email entry uses smtp_host, from and to".into(),
            ));
        }
    }
    let Some(host) = n.smtp_host.as_deref() else {
        return Err((
            None,
            "missing key smtp_host: the SMTP server's host name, e.g. smtp_host = \"smtp.example.com\"".into(),
        ));
    };
    let with_port = host
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()));
    if host.trim().is_empty()
        || host.contains(['/', '@'])
        || host.contains(char::is_whitespace)
        || with_port
    {
        return Err((
            Some("smtp_host"),
            format!("{host:?} is not a host name; expected \"smtp.example.com\" (the port goes in smtp_port)"),
        ));
    }
    if n.smtp_port == Some(0) {
        return Err((Some("smtp_port"), "must be between 1 and 65535".into()));
    }
    let Some(from) = n.from.as_deref() else {
        return Err((
            None,
            "missing key from: the sender, e.g. from = \"branchsync <sync@example.com>\"".into(),
        ));
    };
    mailbox("from", from)?;
    if n.to.is_empty() {
        return Err((
            Some("to"),
            "no recipient: list them, e.g. to = [\"ops@example.com\"]".into(),
        ));
    }
    for t in &n.to {
        mailbox("to", t)?;
    }
    match (&n.username, &n.password_env) {
        (None, Some(_)) => {
            return Err((
                Some("password_env"),
                "a password needs a user name; add username = \"…\" (or remove password_env for a relay without login)".into(),
            ))
        }
        (Some(_), None) => {
            return Err((
                Some("username"),
                "the password is missing; add password_env = \"NAME\" (an environment variable holding it)".into(),
            ))
        }
        (Some(_), Some(var)) => {
            env_name("password_env", var, "SMTP_PASSWORD")?;
            if n.tls == Some(SmtpTls::None) && !is_loopback_host(host) {
                return Err((
                    Some("tls"),
                    format!("\"none\" would send the SMTP password in plaintext to {host}; use tls = \"starttls\" or \"tls\""),
                ));
            }
        }
        (None, None) => {}
    }
    Ok(())
}

fn env_name(key: &'static str, var: &str, example: &str) -> Result<(), Broken> {
    if var.is_empty() || var.contains(['=', '\0']) || var.chars().any(char::is_whitespace) {
        return Err((
            Some(key),
            format!(
                "{var:?} is not an environment variable name; expected a name like \"{example}\""
            ),
        ));
    }
    Ok(())
}

fn mailbox(key: &'static str, value: &str) -> Result<(), Broken> {
    value
        .parse::<lettre::message::Mailbox>()
        .map(|_| ())
        .map_err(|_| {
            (
                Some(key),
                format!("{value:?} is not an email address; expected \"ops@example.com\" or \"Sync <sync@example.com>\""),
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

#[cfg(test)]
mod tests {
    use crate::config::{
        Config, ConfigError, DriverRules, NotifyChannel, NotifyEvent, SmtpTls, UrlSource,
    };
    use std::path::Path;
    use std::time::Duration;

    const HEAD: &str = "[journal]\npath = \"j.db\"\n\n";

    /// These configs name no server, so no driver is asked about.
    struct NoDrivers;

    impl DriverRules for NoDrivers {
        fn names(&self) -> Vec<&'static str> {
            Vec::new()
        }
        fn url_example(&self, _: &str) -> Option<&'static str> {
            None
        }
        fn check_url(&self, _: &str, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn check_schema(&self, _: &str, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn resolve_url(&self, _: &str, _: &Path, url: &str) -> String {
            url.to_owned()
        }
    }

    fn parse(entries: &str) -> Result<Config, ConfigError> {
        Config::parse(
            &format!("{HEAD}{entries}"),
            Path::new("/etc/bs.toml"),
            &NoDrivers,
        )
    }

    #[test]
    fn webhook_defaults_and_url_env() {
        let c = parse("[[notify]]\nkind = \"slack\"\nurl_env = \"SLACK_URL\"\n").unwrap();
        let n = &c.notify[0];
        assert_eq!(
            n.events(),
            vec![NotifyEvent::Failed, NotifyEvent::Interrupted]
        );
        assert_eq!(n.timeout(), Duration::from_secs(10));
        assert!(
            matches!(&n.channel(), NotifyChannel::Slack(UrlSource::Env(v)) if v == "SLACK_URL")
        );
        assert_eq!(n.label(0), "[[notify]] #1 (slack)");
    }

    #[test]
    fn debug_never_shows_the_url_token() {
        let c = parse(
            "[[notify]]\nkind = \"discord\"\nname = \"ops\"\nurl = \"https://discord.example/api/webhooks/1/SECRETTOKEN\"\non = [\"completed\"]\n",
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SECRETTOKEN"), "{dbg}");
        assert!(dbg.contains("discord.example"), "{dbg}");
        assert_eq!(c.notify[0].label(2), "[[notify]] #3 \"ops\"");
    }

    #[test]
    fn email_ports_follow_tls() {
        let c = parse("[[notify]]\nkind = \"email\"\nsmtp_host = \"smtp.example.com\"\nfrom = \"sync@example.com\"\nto = [\"ops@example.com\"]\ntls = \"tls\"\n").unwrap();
        match c.notify[0].channel() {
            NotifyChannel::Email(e) => {
                assert_eq!(e.smtp_port, 465);
                assert_eq!(e.tls, SmtpTls::Tls);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_entry_the_key_and_its_line() {
        let text = "[[notify]]\nkind = \"slack\"\nurl_env = \"X\"\n\n[[notify]]\nkind = \"email\"\nname = \"ops mail\"\nsmtp_host = \"smtp.example.com\"\nfrom = \"a@b.c\"\nto = [\"nope\"]\n";
        let err = parse(text).unwrap_err().to_string();
        assert_eq!(
            err,
            "/etc/bs.toml:13:6: [[notify]] #2 \"ops mail\" key to: \"nope\" is not an email address; expected \"ops@example.com\" or \"Sync <sync@example.com>\""
        );
    }

    #[test]
    fn rules_between_keys_say_the_fix() {
        let cases = [
            ("kind = \"webhook\"", "missing the webhook URL"),
            ("kind = \"webhook\"\nurl = \"ftp://x\"", "key url: is not an http(s) URL"),
            ("kind = \"webhook\"\nurl = \"https://x\"\nurl_env = \"X\"", "either url or url_env"),
            ("kind = \"slack\"\nurl_env = \"X\"\nsmtp_host = \"h\"", "key smtp_host: is only for kind = \"email\""),
            ("kind = \"email\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]", "missing key smtp_host"),
            ("kind = \"email\"\nsmtp_host = \"h:25\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]", "the port goes in smtp_port"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"a@b.c\"\nto = []", "key to: no recipient"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"nope\"\nto = [\"d@e.f\"]", "key from: \"nope\" is not an email address"),
            ("kind = \"email\"\nsmtp_host = \"mail.example\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"", "plaintext"),
            ("kind = \"email\"\nsmtp_host = \"h\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\nusername = \"u\"", "add password_env"),
            ("kind = \"webhook\"\nurl_env = \"X\"\non = []", "key on: is empty"),
            ("kind = \"webhook\"\nurl_env = \"X\"\ntimeout = \"0s\"", "key timeout"),
            ("kind = \"webhook\"\nurl_env = \"X\"\non = [\"done\"]", "\"done\" is not allowed"),
            ("kind = \"webhook\"\nurl_env = \"X\"\nheaders = 1", "unknown key `headers`"),
        ];
        for (body, want) in cases {
            let err = parse(&format!("[[notify]]\n{body}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{body:?}: {err}");
            assert!(err.contains("[[notify]] #1"), "{body:?}: {err}");
        }
    }

    #[test]
    fn plaintext_login_is_allowed_to_a_local_relay() {
        parse("[[notify]]\nkind = \"email\"\nsmtp_host = \"127.0.0.1\"\nfrom = \"a@b.c\"\nto = [\"d@e.f\"]\ntls = \"none\"\nusername = \"u\"\npassword_env = \"P\"\n").unwrap();
    }

    #[test]
    fn host_of_a_url_drops_credentials_path_and_query() {
        use crate::config::url_host;
        assert_eq!(
            url_host("https://u:p@hooks.example:8443/a/b?c=d"),
            "hooks.example:8443"
        );
        assert_eq!(url_host("http://127.0.0.1:9/x"), "127.0.0.1:9");
    }
}
