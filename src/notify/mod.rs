//! Telling people a batch ended: every `[[notify]]` entry whose `on` list
//! holds the batch's outcome gets the notice (webhook, Slack, Discord, email).
//!
//! Notifications are a courtesy, never part of the sync: sending is bounded
//! (a timeout per attempt, 3 attempts with backoff, all entries in parallel),
//! a failure is logged and recorded in the journal (`sync_notifications`), and
//! nothing here can change the batch's outcome or exit code.

mod email;
mod message;
mod webhook;

pub use message::Notice;
pub use webhook::{discord_payload, generic_payload, slack_payload};

use crate::config::{Config, NotifyChannel, NotifyConfig};
use crate::journal::{Journal, NewNotification, NotificationStatus};
use std::time::Duration;

/// Attempts per notification, the first included.
pub const ATTEMPTS: u32 = 3;
/// Wait before the second attempt; doubled before each next one.
pub const BACKOFF: Duration = Duration::from_secs(1);

/// Why one attempt failed, said without secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another attempt (timeout, refused connection, 5xx, 429).
    Transient(String),
    /// Another attempt would fail the same way (bad URL, 4xx, missing secret).
    Permanent(String),
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            SendError::Transient(m) | SendError::Permanent(m) => m,
        }
    }
}

/// How one entry fared.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub label: String,
    pub kind: &'static str,
    pub attempts: u32,
    pub result: Result<(), SendError>,
}

/// Announce the end of `batch_id` to every matching `[[notify]]` entry and
/// record each outcome in the journal. Never fails and never panics: every
/// problem is logged (and recorded when the journal can take it).
pub fn notify_batch_end(config: &Config, journal: &mut Journal, batch_id: &str) {
    if config.notify.is_empty() {
        return;
    }
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        notify_with(config, journal, batch_id, BACKOFF)
    }));
    if run.is_err() {
        log::error!("Notify: sending the notifications of batch {batch_id} stopped on an internal error; the batch itself is unaffected");
    }
}

/// [`notify_batch_end`] with the wait between attempts given.
pub fn notify_with(
    config: &Config,
    journal: &mut Journal,
    batch_id: &str,
    backoff: Duration,
) -> Vec<Delivery> {
    let notice = match Notice::load(journal, batch_id) {
        Ok(Some(n)) => n,
        Ok(None) => {
            log::debug!(
                "Notify: batch {batch_id} is unknown or still running; nothing to announce"
            );
            return Vec::new();
        }
        Err(e) => {
            log::warn!("Notify: cannot read batch {batch_id} from the journal, so no notification was sent: {e}");
            return Vec::new();
        }
    };
    let entries: Vec<(String, &NotifyConfig)> = config
        .notify
        .iter()
        .enumerate()
        .filter(|(_, n)| n.wants(notice.event))
        .map(|(i, n)| (n.label(i), n))
        .collect();
    let deliveries = send_all(&entries, &notice, backoff);
    for d in &deliveries {
        log_delivery(d, &notice);
        let record = NewNotification {
            batch_id: batch_id.to_owned(),
            notifier: d.label.clone(),
            kind: d.kind.to_owned(),
            event: notice.event.as_str().to_owned(),
            status: if d.result.is_ok() {
                NotificationStatus::Sent
            } else {
                NotificationStatus::Failed
            },
            attempts: d.attempts,
            error_message: d.result.as_ref().err().map(|e| e.message().to_owned()),
        };
        if let Err(e) = journal.record_notification(&record) {
            log::warn!(
                "Notify: cannot record the outcome of {} for batch {batch_id} in the journal: {e}",
                d.label
            );
        }
    }
    deliveries
}

/// Send to every entry at once (one thread each), so that the slowest entry
/// bounds the wait, not their sum.
fn send_all(
    entries: &[(String, &NotifyConfig)],
    notice: &Notice,
    backoff: Duration,
) -> Vec<Delivery> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .iter()
            .map(|(label, entry)| {
                let handle = scope.spawn(move || deliver(entry, notice, backoff));
                (label, entry.kind.as_str(), handle)
            })
            .collect();
        handles
            .into_iter()
            .map(|(label, kind, handle)| {
                let (attempts, result) = handle.join().unwrap_or_else(|_| {
                    (
                        1,
                        Err(SendError::Permanent("internal error while sending".into())),
                    )
                });
                Delivery {
                    label: label.clone(),
                    kind,
                    attempts,
                    result,
                }
            })
            .collect()
    })
}

/// Up to [`ATTEMPTS`] attempts with doubling waits; a permanent failure
/// stops at once. Returns the attempts made and the last result.
fn deliver(
    entry: &NotifyConfig,
    notice: &Notice,
    backoff: Duration,
) -> (u32, Result<(), SendError>) {
    let mut wait = backoff;
    let mut attempt = 1;
    loop {
        let result = send_once(entry, notice);
        match &result {
            Err(SendError::Transient(_)) if attempt < ATTEMPTS => {
                std::thread::sleep(wait);
                wait *= 2;
                attempt += 1;
            }
            _ => return (attempt, result),
        }
    }
}

fn send_once(entry: &NotifyConfig, notice: &Notice) -> Result<(), SendError> {
    let channel = entry.channel();
    let (url, body) = match &channel {
        NotifyChannel::Email(cfg) => return email::send(cfg, notice, entry.timeout()),
        NotifyChannel::Webhook(u) => (u, generic_payload(notice)),
        NotifyChannel::Slack(u) => (u, slack_payload(notice)),
        NotifyChannel::Discord(u) => (u, discord_payload(notice)),
    };
    let url = url.resolve().map_err(SendError::Permanent)?;
    webhook::post_json(&url, &body, entry.timeout())
}

fn log_delivery(d: &Delivery, notice: &Notice) {
    let id = &notice.batch.batch_id;
    let event = notice.event.as_str();
    match &d.result {
        Ok(()) => log::info!("Notify: {} sent: batch {id} {event}", d.label),
        Err(e) => log::warn!(
            "Notify: {} could not announce batch {id} {event} after {} attempt{}: {}. The batch is unaffected; the failure is recorded in the journal",
            d.label,
            d.attempts,
            if d.attempts == 1 { "" } else { "s" },
            e.message()
        ),
    }
}
