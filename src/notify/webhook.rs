//! Chat and generic webhooks: one JSON POST each — the whole notice for a
//! generic webhook, `{"text"}` for Slack, `{"content", "embeds"}` for Discord.
//! Errors name the host and the HTTP status, never the URL (its path is the
//! webhook's token).

use super::message::Notice;
use super::SendError;
use crate::config::{url_host, NotifyEvent};
use serde_json::{json, Value};
use std::io::Read;
use std::time::Duration;

/// Slack shows up to 40,000 characters but a readable alert is far shorter.
const SLACK_TEXT: usize = 3000;
/// Discord's limits: 2,000 for `content`, 4,096 for an embed's description.
const DISCORD_CONTENT: usize = 2000;
const DISCORD_DESCRIPTION: usize = 3500;

/// The generic webhook's body: the notice as JSON.
pub fn generic_payload(notice: &Notice) -> Value {
    notice.json()
}

/// A Slack incoming-webhook body.
pub fn slack_payload(notice: &Notice) -> Value {
    let icon = match notice.event {
        NotifyEvent::Completed => ":white_check_mark:",
        NotifyEvent::Failed => ":x:",
        NotifyEvent::Interrupted => ":warning:",
    };
    let prefix = format!("{icon} ");
    let text = notice.text(SLACK_TEXT - prefix.chars().count());
    json!({ "text": format!("{prefix}{text}") })
}

/// A Discord webhook body: the headline as content, the details in an embed.
pub fn discord_payload(notice: &Notice) -> Value {
    let colour = match notice.event {
        NotifyEvent::Completed => 0x2E_B8_86,
        NotifyEvent::Failed => 0xE0_1E_5A,
        NotifyEvent::Interrupted => 0xB0_5C_D6,
    };
    let mut embed = json!({
        "title": super::message::fit(&format!("Batch {}", notice.batch.batch_id), 256),
        "description": notice.body(DISCORD_DESCRIPTION),
        "color": colour,
        "fields": [
            {"name": "Status", "value": notice.event.as_str(), "inline": true},
            {"name": "Progress", "value": format!("{}/{}", notice.batch.completed_tables, notice.batch.total_tables), "inline": true},
            {"name": "Duration", "value": notice.duration(), "inline": true},
            {"name": "Host", "value": super::message::fit(&notice.host, 1024), "inline": true},
        ],
    });
    if let Some(end) = &notice.batch.completed_at {
        embed["timestamp"] = json!(end);
    }
    json!({
        "username": "branchsync",
        "content": super::message::fit(&notice.headline(), DISCORD_CONTENT),
        "embeds": [embed],
    })
}

/// POST `body` to `url`, within `timeout` for the whole exchange. A 2xx
/// answer is success; 408, 429 and 5xx are worth another attempt; other
/// answers are not (the URL or the payload is wrong).
pub fn post_json(url: &str, body: &Value, timeout: Duration) -> Result<(), SendError> {
    let host = url_host(url);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("branchsync/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let payload = body.to_string();
    let response = agent
        .post(url)
        .content_type("application/json")
        .send(payload.as_bytes())
        .map_err(|e| transport_error(&host, &e, timeout))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let mut answer = String::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(4096)
        .read_to_string(&mut answer);
    let answer = crate::report::format::cut(&answer, 200);
    let said = if answer.is_empty() {
        String::new()
    } else {
        format!(": {answer}")
    };
    let message = format!("{host} answered HTTP {status}{said}");
    if status == 408 || status == 429 || status >= 500 {
        Err(SendError::Transient(message))
    } else if (300..400).contains(&status) {
        Err(SendError::Permanent(format!(
            "{message} (a redirect, not followed: put the final URL in the config)"
        )))
    } else {
        Err(SendError::Permanent(format!(
            "{message} (check the webhook URL: it may have been revoked)"
        )))
    }
}

/// A transport failure, said without the URL.
fn transport_error(host: &str, e: &ureq::Error, timeout: Duration) -> SendError {
    use ureq::Error as E;
    let message = match e {
        E::Timeout(_) => format!(
            "no answer from {host} within {}",
            crate::config::format_duration(timeout)
        ),
        E::HostNotFound => format!("the host {host} is not found (DNS); check the webhook URL"),
        E::ConnectionFailed => format!("cannot connect to {host}"),
        E::Io(io) => format!("connection to {host} failed: {io}"),
        E::Tls(why) => format!("TLS with {host} failed: {why}"),
        E::Rustls(r) => format!("TLS with {host} failed: {r}"),
        E::BadUri(_) | E::Http(_) => {
            return SendError::Permanent(format!(
            "the webhook URL for {host} is not a valid URL; fix it in the config (url or url_env)"
        ))
        }
        _ => format!("the request to {host} failed ({})", error_kind(e)),
    };
    SendError::Transient(message)
}

/// A name for the less common transport errors, without their payload
/// (some carry the URL).
fn error_kind(e: &ureq::Error) -> &'static str {
    use ureq::Error as E;
    match e {
        E::Protocol(_) => "HTTP protocol error",
        E::TooManyRedirects | E::RedirectFailed => "redirect",
        E::BodyExceedsLimit(_) | E::LargeResponseHeader(..) => "answer too large",
        E::TlsRequired | E::RequireHttpsOnly(_) => "TLS required",
        E::ConnectProxyFailed(_) | E::InvalidProxyUrl => "proxy",
        _ => "transport error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{BatchStatus, ProgressStatus};
    use crate::report::test_rows::{batch, row};

    fn notice() -> Notice {
        let mut b = batch("sync_20261126084522_AbCd1234", BatchStatus::Failed);
        b.total_tables = 3;
        b.completed_tables = 2;
        b.failed_tables = 1;
        let mut r = row("pgsql_lmp", "m_product", ProgressStatus::Failed);
        r.error_message = Some("e".repeat(5000));
        Notice {
            batch: b,
            event: NotifyEvent::Failed,
            failed: vec![r; 40],
            host: "backup01".into(),
        }
    }

    #[test]
    fn discord_payload_respects_its_limits() {
        let v = discord_payload(&notice());
        assert!(v["content"].as_str().unwrap().chars().count() <= DISCORD_CONTENT);
        let embed = &v["embeds"][0];
        assert!(embed["description"].as_str().unwrap().chars().count() <= 4096);
        assert_eq!(embed["fields"][1]["value"], "2/3");
        assert_eq!(embed["color"], 0xE0_1E_5A);
    }

    #[test]
    fn slack_text_is_bounded_and_starts_with_the_outcome() {
        let v = slack_payload(&notice());
        let text = v["text"].as_str().unwrap();
        assert!(text.starts_with(":x: Batch sync_20261126084522_AbCd1234 failed"));
        assert!(text.chars().count() <= SLACK_TEXT);
    }

    #[test]
    fn a_refused_connection_is_transient_and_hides_the_path() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let url = format!("http://127.0.0.1:{port}/hooks/SECRETTOKEN");
        let err = post_json(&url, &json!({}), Duration::from_secs(2)).unwrap_err();
        match err {
            SendError::Transient(m) => {
                assert!(m.contains(&format!("127.0.0.1:{port}")), "{m}");
                assert!(!m.contains("SECRETTOKEN"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
}
