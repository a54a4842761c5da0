//! Email over SMTP (lettre, blocking): a plain-text message to every
//! recipient of an entry. STARTTLS is required when asked for (no silent
//! fallback to plaintext); the password comes from the environment and
//! appears in no error.

use super::message::Notice;
use super::SendError;
use crate::config::{EmailConfig, SmtpTls};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// Characters of the body: generous, a mail client scrolls.
const BODY_CHARS: usize = 20_000;

/// The message for `notice` (the sender and recipients are checked by the
/// config; a failure here is reported like any other).
pub fn build_message(cfg: &EmailConfig, notice: &Notice) -> Result<Message, SendError> {
    let bad_address = |key: &str, value: &str| {
        SendError::Permanent(format!(
            "{key} {value:?} is not an email address; fix it in the config"
        ))
    };
    let from: Mailbox = cfg
        .from
        .parse()
        .map_err(|_| bad_address("from", &cfg.from))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(notice.subject())
        .header(ContentType::TEXT_PLAIN);
    for to in &cfg.to {
        builder = builder.to(to.parse().map_err(|_| bad_address("to", to))?);
    }
    let body = format!(
        "{}\n\n{}\n-- \nbranchsync on {}\n",
        notice.headline(),
        notice.body(BODY_CHARS),
        notice.host
    );
    builder
        .body(body)
        .map_err(|e| SendError::Permanent(format!("cannot build the email: {e}")))
}

/// Send `notice` through `cfg`'s SMTP server, within `timeout` per network
/// operation.
pub fn send(cfg: &EmailConfig, notice: &Notice, timeout: Duration) -> Result<(), SendError> {
    let message = build_message(cfg, notice)?;
    let server = format!("{}:{}", cfg.smtp_host, cfg.smtp_port);
    let tls = match cfg.tls {
        SmtpTls::None => Tls::None,
        mode => {
            let params = TlsParameters::new(cfg.smtp_host.clone()).map_err(|e| {
                SendError::Permanent(format!("cannot set up TLS for {server}: {e}"))
            })?;
            if mode == SmtpTls::Tls {
                Tls::Wrapper(params)
            } else {
                Tls::Required(params)
            }
        }
    };
    let mut builder = SmtpTransport::builder_dangerous(cfg.smtp_host.clone())
        .port(cfg.smtp_port)
        .tls(tls)
        .timeout(Some(timeout))
        .hello_name(hello_name(&notice.host));
    if let Some(user) = &cfg.username {
        let var = cfg.password_env.as_deref().unwrap_or_default();
        let password = std::env::var(var).map_err(|_| {
            SendError::Permanent(format!(
                "the environment variable {var} (password_env) is not set; export the SMTP password there"
            ))
        })?;
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    let transport = builder.build();
    transport.send(&message).map(|_| ()).map_err(|e| {
        let message = format!("SMTP {server}: {}", describe(&e));
        if e.is_permanent() {
            SendError::Permanent(message)
        } else {
            SendError::Transient(message)
        }
    })
}

/// What went wrong, with the chain of causes (lettre's top message alone
/// is often just "network error").
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    crate::report::format::cut(&text, 300)
}

/// The name we greet the server with: the batch's host when it is a usable
/// domain name, else our loopback address.
fn hello_name(host: &str) -> ClientId {
    let usable = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if usable {
        ClientId::Domain(host.to_owned())
    } else {
        ClientId::Ipv4(std::net::Ipv4Addr::LOCALHOST)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::NotifyEvent;
    use crate::journal::BatchStatus;
    use crate::report::test_rows::batch;

    #[test]
    fn message_has_subject_recipients_and_details() {
        let cfg = EmailConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            tls: SmtpTls::None,
            username: None,
            password_env: None,
            from: "branchsync <sync@example.com>".into(),
            to: vec!["ops@example.com".into(), "it@example.com".into()],
        };
        let notice = Notice {
            batch: batch("sync_20261126084522_AbCd1234", BatchStatus::Completed),
            event: NotifyEvent::Completed,
            failed: vec![],
            host: "backup01".into(),
        };
        let text = String::from_utf8(build_message(&cfg, &notice).unwrap().formatted())
            .unwrap()
            .replace("\r\n ", " "); // unfold long headers
        assert!(
            text.contains(
                "Subject: [branchsync] Batch sync_20261126084522_AbCd1234 completed on backup01"
            ),
            "{text}"
        );
        assert!(
            text.contains("To: ops@example.com, it@example.com"),
            "{text}"
        );
        assert!(text.contains("Host: backup01"), "{text}");
    }
}
