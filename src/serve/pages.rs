//! What the dashboard answers: its HTML pages (the batch list with the history
//! charts, a batch's report updating while it runs) and the JSON endpoints,
//! whose documents are exactly those of `sync-status --json`. Journal in,
//! reply out — no sockets here, so every route is testable as a function.

use crate::journal::{is_batch_id, BatchRow, BatchStatus, Journal, JournalError};
use crate::report::{charts, html, json};
use std::fmt::Write;

/// Batches the dashboard lists unless `?limit=` says otherwise.
pub const DEFAULT_LIST: usize = 50;
/// Seconds between reloads of a running batch's page.
pub const LIVE_REFRESH: u32 = 3;
/// Seconds between reloads of the batch list (a new sync may start any time).
pub const LIST_REFRESH: u32 = 15;

/// An answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";

impl Reply {
    pub(super) fn html(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: HTML,
            body,
        }
    }

    pub(super) fn json(body: String) -> Reply {
        Reply {
            status: 200,
            content_type: JSON,
            body,
        }
    }

    /// An error, as JSON under `/api/` and as a small page elsewhere.
    pub fn error(status: u16, api: bool, message: &str) -> Reply {
        if api {
            Reply {
                status,
                content_type: JSON,
                body: json::pretty(&serde_json::json!({ "error": message })),
            }
        } else {
            let body = format!(
                "<nav><a href=\"/\">← All batches</a></nav>\n<h1>{status}</h1>\n<p>{}</p>",
                html::escape(message)
            );
            Reply {
                status,
                content_type: HTML,
                body: html::served_document(&format!("{status} — branchsync"), &body, None),
            }
        }
    }
}

/// The reply to `GET path?query` against `journal`; `fleet` links the
/// batch list to the fleet page (`serve --fleet`).
pub fn route(journal: &Journal, path: &str, query: &str, history: usize, fleet: bool) -> Reply {
    let api = path.starts_with("/api/");
    let result = match path.trim_end_matches('/') {
        "" => index(journal, query, history, fleet).map(Reply::html),
        "/api/batches" => journal
            .list_batches(limit(query, 20))
            .map(|b| Reply::json(json::batch_list_json(&b))),
        // The same text as `[metrics] textfile`, for a Prometheus scrape.
        "/metrics" => crate::metrics::render_journal(journal, None).map(|body| Reply {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body,
        }),
        "/healthz" => Ok(Reply {
            status: 200,
            content_type: "text/plain; charset=utf-8",
            body: "ok\n".into(),
        }),
        p => {
            if let Some(id) = p.strip_prefix("/api/batches/") {
                batch_json(journal, id)
            } else if let Some(id) = p.strip_prefix("/batches/") {
                batch_page(journal, id)
            } else {
                return Reply::error(
                    404,
                    api,
                    &format!("nothing at {path}: see / or /api/batches"),
                );
            }
        }
    };
    result.unwrap_or_else(|e| {
        log::warn!("serve: {path}: {e}");
        Reply::error(
            503,
            api,
            &format!("the journal cannot be read right now: {e}"),
        )
    })
}

/// `?limit=N` (1..=10000), else `default` (20 for the API, as `sync-status --all`).
fn limit(query: &str, default: usize) -> usize {
    query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("limit="))
        .filter_map(|v| v.parse::<usize>().ok())
        .find(|n| (1..=10_000).contains(n))
        .unwrap_or(default)
}

/// The batch `id` (or the latest for `latest`); the reply for a bad or
/// unknown id.
fn find(journal: &Journal, id: &str, api: bool) -> Result<Result<BatchRow, Reply>, JournalError> {
    if id == "latest" {
        return Ok(journal
            .latest_batch()?
            .ok_or_else(|| Reply::error(404, api, "the journal has no batches yet")));
    }
    if !is_batch_id(id) {
        return Ok(Err(Reply::error(
            400,
            api,
            &format!("{id:?} is not a batch id (they look like sync_20261126084522_AbCd1234)"),
        )));
    }
    Ok(journal
        .batch(id)?
        .ok_or_else(|| Reply::error(404, api, &format!("no batch with id {id}"))))
}

fn batch_json(journal: &Journal, id: &str) -> Result<Reply, JournalError> {
    if id == "latest" && journal.latest_batch()?.is_none() {
        // As `sync-status --json` says it for an empty journal.
        return Ok(Reply::json(json::pretty(
            &serde_json::json!({"batch": null, "tables": []}),
        )));
    }
    Ok(match find(journal, id, true)? {
        Ok(batch) => {
            let rows = journal.progress_rows(&batch.batch_id, false)?;
            Reply::json(json::batch_json(&batch, &rows))
        }
        Err(reply) => reply,
    })
}

fn batch_page(journal: &Journal, id: &str) -> Result<Reply, JournalError> {
    Ok(match find(journal, id, false)? {
        Ok(batch) => {
            let live = (batch.status == BatchStatus::Running).then_some(LIVE_REFRESH);
            let data = html::ReportData::load(journal, batch)?;
            Reply::html(html::report_page(&data, html::Frame::Served, live))
        }
        Err(reply) => reply,
    })
}

fn index(
    journal: &Journal,
    query: &str,
    history: usize,
    fleet: bool,
) -> Result<String, JournalError> {
    let shown = limit(query, DEFAULT_LIST);
    let batches = journal.list_batches(shown.max(history))?;
    let total = journal.batch_count()?;
    let stats = journal.table_stats_last_batches(history, None)?;
    let running = batches
        .iter()
        .filter(|b| b.status == BatchStatus::Running)
        .count();
    let mut body = String::new();
    if fleet {
        body.push_str(
            "<nav class=\"no-print\"><a href=\"/fleet\">Every runner: the fleet →</a></nav>\n",
        );
    }
    let _ = writeln!(body, "<h1>branchsync — sync batches</h1>");
    let _ = writeln!(
        body,
        "<p class=\"meta\" id=\"counts\">{total} batches in the journal{}; this page reloads every {LIST_REFRESH} s. JSON: <a href=\"/api/batches\">/api/batches</a></p>",
        if running > 0 {
            format!(", <strong>{running} running</strong>")
        } else {
            String::new()
        }
    );
    body.push_str("<h2>Charts</h2>\n<div class=\"charts\">\n");
    let recent = &batches[..batches.len().min(history)];
    body.push_str(&charts::batch_duration_history(recent));
    // The batches the charts cover: `history`, or fewer in a young journal.
    let covered = history.min(usize::try_from(total).unwrap_or(usize::MAX));
    body.push_str(&charts::success_rate_per_table(&stats, covered));
    body.push_str("</div>\n");
    let listed = &batches[..batches.len().min(shown)];
    let _ = writeln!(
        body,
        "<h2>Batches (newest {} of {total})</h2>",
        listed.len()
    );
    let mut abandoned = Vec::new();
    for b in listed {
        if journal.abandoned(&b.batch_id)?.is_some() {
            abandoned.push(b.batch_id.clone());
        }
    }
    body.push_str(&html::batch_table(listed, &abandoned, Some("/batches/")));
    Ok(html::served_document(
        "branchsync — sync batches",
        &body,
        Some(LIST_REFRESH),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_an_empty_journal() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open_read(&dir.path().join("none.db")).unwrap();
        assert_eq!(route(&j, "/api/batches", "", 30, false).body.trim(), "[]");
        let latest = route(&j, "/api/batches/latest", "", 30, false);
        assert_eq!(latest.status, 200);
        assert!(latest.body.contains("\"batch\": null"));
        let page = route(&j, "/", "", 30, false);
        assert_eq!(page.status, 200);
        assert!(page.body.contains("No batches yet"));
        assert!(!page.body.contains("href=\"/fleet\""));
        assert!(route(&j, "/", "", 30, true)
            .body
            .contains("href=\"/fleet\""));
        assert_eq!(route(&j, "/api/batches/nope", "", 30, false).status, 400);
        assert_eq!(
            route(
                &j,
                "/api/batches/sync_20261126084522_AbCd1234",
                "",
                30,
                false
            )
            .status,
            404
        );
        let missing = route(&j, "/etc/passwd", "", 30, false);
        assert_eq!(missing.status, 404);
        assert_eq!(missing.content_type, HTML);
    }

    #[test]
    fn an_abandoned_batch_says_so_in_the_list_and_on_its_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let id = "sync_20261126084522_AbCd1234";
        let row = crate::journal::NewProgress {
            connection_name: "pgsql_lmp".into(),
            table_name: "m_product".into(),
            model_name: "MProduct".into(),
            step: 2,
        };
        j.create_batch(id, "{}", &[row]).unwrap();
        j.fail_progress(id, "pgsql_lmp", "m_product", "boom")
            .unwrap();
        j.finish_batch(id, BatchStatus::Failed).unwrap();
        let page = route(&j, &format!("/batches/{id}"), "", 30, false).body;
        assert!(page.contains("Resume with"), "{page}");
        j.abandon_batch(id, "branch closed").unwrap();
        let list = route(&j, "/", "", 30, false).body;
        assert!(list.contains("failed</span> (abandoned)"), "{list}");
        let page = route(&j, &format!("/batches/{id}"), "", 30, false).body;
        assert!(page.contains("id=\"abandoned\">Abandoned at "), "{page}");
        assert!(page.contains("(branch closed)"), "{page}");
        assert!(!page.contains("Resume with"), "{page}");
    }

    #[test]
    fn limit_is_bounded() {
        assert_eq!(limit("limit=5", 20), 5);
        assert_eq!(limit("x=1&limit=0", 20), 20);
        assert_eq!(limit("limit=99999999", 20), 20);
        assert_eq!(limit("", 50), 50);
    }
}
