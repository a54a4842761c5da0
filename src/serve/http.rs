//! One HTTP exchange of the dashboard: the loopback Host check, the login
//! (when a token is set), the read-only method rule, the route, and the
//! hardening headers every answer carries.

use super::auth::{self, Auth};
use super::pages::{route, Reply};
use super::Dashboard;
use crate::journal::Journal;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;
use tiny_http::Method;

/// Headers on every answer: no framing, no sniffing, no referrer, nothing
/// loaded from elsewhere, nothing kept in a cache (the pages are private).
const HARDENING: [(&str, &str); 6] = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    // No inline style or script: the pages link the stylesheet and the
    // script this server answers with (see `asset`).
    ("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
];

/// The stylesheet and the script the pages link: the same for everyone,
/// so they are answered before any login (the login page needs the style).
fn asset(path: &str) -> Option<Reply> {
    use crate::report::page;
    let (content_type, body) = match path {
        page::STYLE_PATH => ("text/css; charset=utf-8", page::stylesheet()),
        page::SCRIPT_PATH => ("text/javascript; charset=utf-8", page::script()),
        _ => return None,
    };
    Some(Reply {
        status: 200,
        content_type,
        body: body.to_owned(),
    })
}

/// A wrong token waits this long before its answer (slows guessing).
const WRONG_TOKEN_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

/// Is `host` (a Host header) a name of this machine's loopback interface?
pub(super) fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if !h.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn header<'r>(request: &'r tiny_http::Request, name: &'static str) -> Option<&'r str> {
    request
        .headers()
        .iter()
        .find(|h| h.field.equiv(name))
        .map(|h| h.value.as_str())
}

/// A reply and the headers it adds.
struct Answer {
    reply: Reply,
    headers: Vec<(&'static str, String)>,
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Answer {
        Answer {
            reply,
            headers: Vec::new(),
        }
    }
}

pub(super) fn answer(
    mut request: tiny_http::Request,
    dashboard: &Dashboard,
    gate: &Mutex<()>,
    loopback: bool,
) {
    let method = request.method().clone();
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let api = path.starts_with("/api/");
    let host = header(&request, "Host").unwrap_or_default();
    let answer: Answer = if loopback && !loopback_host(host) {
        Reply::error(
            421,
            api,
            "this dashboard answers only to localhost; open it as http://127.0.0.1:PORT/",
        )
        .into()
    } else if let Some(reply) = asset(path).filter(|_| matches!(method, Method::Get | Method::Head))
    {
        reply.into()
    } else if let Some(a) = dashboard.auth.as_ref().filter(|_| path == "/login") {
        login(&mut request, a, &method, query)
    } else if let Some(a) = dashboard.auth.as_ref().filter(|_| path == "/logout") {
        redirect("/login", Some(a.clear_cookie()))
    } else if let Some(denied) = dashboard
        .auth
        .as_ref()
        .and_then(|a| refuse(&request, a, path, &url, api))
    {
        denied
    } else if !matches!(method, Method::Get | Method::Head) {
        let mut a = Answer::from(Reply::error(
            405,
            api,
            "the dashboard is read-only: only GET and HEAD",
        ));
        a.headers.push(("Allow", "GET, HEAD".into()));
        a
    } else if let Some(reply) = dashboard.fleet.as_ref().and_then(|f| f.route(path)) {
        reply.into()
    } else {
        journal_reply(dashboard, gate, path, query, api).into()
    };
    log::debug!("serve: {method} {path} -> {}", answer.reply.status);
    respond(request, answer, path);
}

/// Without a valid bearer token or session cookie: 401 (the login form for
/// a page, JSON for the API, text for a scrape). `/healthz` stays open.
fn refuse(
    request: &tiny_http::Request,
    auth: &Auth,
    path: &str,
    url: &str,
    api: bool,
) -> Option<Answer> {
    if path == "/healthz"
        || auth.admits(header(request, "Authorization"), header(request, "Cookie"))
    {
        return None;
    }
    let reply = if api || path == "/metrics" {
        Reply::error(
            401,
            true,
            "this dashboard needs its token: send Authorization: Bearer <token>",
        )
    } else {
        Reply {
            status: 401,
            content_type: "text/html; charset=utf-8",
            body: auth::login_page(url, false),
        }
    };
    Some(Answer {
        reply,
        headers: vec![("WWW-Authenticate", "Bearer realm=\"branchsync\"".into())],
    })
}

/// `GET /login` shows the form; `POST /login` checks the token and, when it
/// matches, sets the session cookie and goes on to `next`.
fn login(request: &mut tiny_http::Request, auth: &Auth, method: &Method, query: &str) -> Answer {
    let page = |status: u16, next: &str, failed: bool| {
        Answer::from(Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: auth::login_page(next, failed),
        })
    };
    match method {
        Method::Get | Method::Head => {
            let next = auth::form_value(query, "next").unwrap_or_else(|| "/".into());
            page(200, &next, false)
        }
        Method::Post => {
            let mut body = String::new();
            let read = request
                .as_reader()
                .take(auth::MAX_FORM)
                .read_to_string(&mut body);
            let next = auth::form_value(&body, "next").unwrap_or_else(|| "/".into());
            let token = auth::form_value(&body, "token").unwrap_or_default();
            if read.is_ok() && auth.token_matches(token.trim()) {
                redirect(auth::safe_next(&next), Some(auth.set_cookie()))
            } else {
                log::warn!("serve: a login with a wrong token");
                std::thread::sleep(WRONG_TOKEN_DELAY);
                page(401, &next, true)
            }
        }
        _ => {
            let mut a = Answer::from(Reply::error(405, false, "the login takes GET and POST"));
            a.headers.push(("Allow", "GET, HEAD, POST".into()));
            a
        }
    }
}

/// `303 See Other` to `location` (a local path), with a cookie to set.
fn redirect(location: &str, cookie: Option<String>) -> Answer {
    let mut headers = vec![("Location", location.to_owned())];
    if let Some(c) = cookie {
        headers.push(("Set-Cookie", c));
    }
    Answer {
        reply: Reply {
            status: 303,
            content_type: "text/plain; charset=utf-8",
            body: format!("See {location}\n"),
        },
        headers,
    }
}

fn journal_reply(
    dashboard: &Dashboard,
    gate: &Mutex<()>,
    path: &str,
    query: &str,
    api: bool,
) -> Reply {
    let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
    match open(&dashboard.journal) {
        Ok(journal) => route(
            &journal,
            path,
            query,
            dashboard.history,
            dashboard.fleet.is_some(),
        ),
        Err(e) => {
            log::warn!("serve: {e}");
            Reply::error(
                503,
                api,
                &format!("the journal cannot be read right now: {e}"),
            )
        }
    }
}

fn respond(request: tiny_http::Request, answer: Answer, path: &str) {
    let Answer { reply, headers } = answer;
    // tiny_http leaves the body out of the answer to HEAD, Content-Length kept.
    let mut response = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
    let fixed = HARDENING
        .iter()
        .map(|(n, v)| (*n, (*v).to_owned()))
        .chain([("Content-Type", reply.content_type.to_owned())]);
    for (name, value) in fixed.chain(headers) {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    if let Err(e) = request.respond(response) {
        log::debug!("serve: the client of {path} went away: {e}");
    }
}

/// The journal for one request: never created, dead `running` batches shown
/// (and recorded) as `interrupted`, as `sync-status` does.
fn open(path: &Path) -> Result<Journal, crate::journal::JournalError> {
    let mut journal = Journal::open_read(path)?;
    journal.reconcile_liveness(false)?;
    Ok(journal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_only() {
        for ok in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:80",
            "[::1]:8080",
            "127.1.2.3",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "",
            "10.0.0.1:8080",
            "localhost.evil.example",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
