//! The dashboard beyond loopback and the fleet page, over real HTTP: the real
//! binary serves a real journal (and, for `--fleet`, the journal mirror in a
//! real PostgreSQL central that real runners synced into); a plain TCP client
//! asks what curl and a browser would.

mod common;

use branchsync::report::format::thousands;
use common::fixture::code;
use common::fleet::Runner;
use common::pg::TestDb;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TOKEN: &str = "s3cret-token-for-the-dashboard-0123";
const TOKEN_ENV: &str = "BS_TEST_DASHBOARD_TOKEN";

/// A running `serve`, killed when dropped; `addr` is `127.0.0.1:PORT`.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `serve` with `args` and read the port it bound from its first line.
fn serve(mut cmd: Command, args: &[&str]) -> Served {
    let mut child = cmd
        .arg("serve")
        .args(args)
        .env(TOKEN_ENV, TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    Served {
        child,
        addr: format!("127.0.0.1:{port}"),
    }
}

/// One HTTP/1.1 exchange.
struct Answer {
    status: u16,
    /// Header lines, names lower-cased.
    head: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req += &format!("{k}: {v}\r\n");
    }
    req += "\r\n";
    req += body;
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    // Header values keep their case (a cookie is case-sensitive).
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    http(addr, "GET", path, headers, "")
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// Every answer carries the hardening headers.
fn assert_hardened(a: &Answer, what: &str) {
    let csp = a.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {}", a.head);
    assert!(csp.contains("default-src 'none'"), "{what}: {}", a.head);
    assert_eq!(
        a.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(a.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{what}");
    assert_eq!(a.header("cache-control"), Some("no-store"), "{what}");
}

/// A folder with a `[journal]`-only config (the journal is empty).
fn journal_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("branchsync.toml"),
        "[journal]\npath = \"journal.db\"\n",
    )
    .unwrap();
    dir
}

fn command(dir: &tempfile::TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
    c.arg("--config")
        .arg(dir.path().join("branchsync.toml"))
        .env_remove("RUST_LOG")
        .env_remove(TOKEN_ENV);
    c
}

#[test]
fn beyond_loopback_is_refused_without_a_token_and_the_error_says_the_fix() {
    let site = journal_site();
    let out = command(&site)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token-env"), "{err}");
    assert!(err.contains("127.0.0.1"), "{err}");
    // A token that is set but too short is refused too, with the fix.
    let out = command(&site)
        .args(["serve", "--listen", "0.0.0.0:0", "--token-env", TOKEN_ENV])
        .env(TOKEN_ENV, "short")
        .output()
        .unwrap();
    assert_ne!(code(&out), 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("openssl rand"), "{err}");
}

#[test]
fn the_token_guards_every_page_by_bearer_or_login_cookie() {
    let site = journal_site();
    let s = serve(
        command(&site),
        &["--listen", "0.0.0.0:0", "--token-env", TOKEN_ENV],
    );
    // Without the token: 401 everywhere but the health check.
    for path in ["/", "/api/batches", "/metrics", "/batches/latest"] {
        let a = get(&s.addr, path, &[]);
        assert_eq!(a.status, 401, "{path}: {}", a.body);
        assert!(a.header("www-authenticate").unwrap().starts_with("Bearer"));
        assert_hardened(&a, path);
        assert!(!a.body.contains("No batches yet"), "{path}: {}", a.body);
    }
    let page = get(&s.addr, "/", &[]);
    assert!(page
        .body
        .contains("<form method=\"post\" action=\"/login\""));
    assert_eq!(get(&s.addr, "/healthz", &[]).status, 200);
    // The login page's stylesheet and script are served before any login.
    for path in ["/assets/branchsync.css", "/assets/sort.js"] {
        let a = get(&s.addr, path, &[]);
        assert_eq!(a.status, 200, "{path}");
        assert_hardened(&a, path);
    }
    assert!(!cookie_secure(&s.addr), "plain HTTP without --behind-tls");
    let wrong = format!("Bearer {TOKEN}x");
    assert_eq!(
        get(&s.addr, "/api/batches", &[("Authorization", &wrong)]).status,
        401
    );

    // With the bearer token (curl, Prometheus).
    let auth = bearer();
    for path in ["/", "/api/batches", "/metrics"] {
        let a = get(&s.addr, path, &[("Authorization", &auth)]);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert_hardened(&a, path);
    }
    assert_eq!(
        http(&s.addr, "POST", "/", &[("Authorization", &auth)], "").status,
        405
    );

    // The login form (a browser).
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let login = get(&s.addr, "/login?next=%2Fapi%2Fbatches", &[]);
    assert_eq!(login.status, 200);
    assert!(
        login.body.contains("value=\"/api/batches\""),
        "{}",
        login.body
    );
    assert_hardened(&login, "/login");
    let bad = http(&s.addr, "POST", "/login", &form, "token=nope&next=%2F");
    assert_eq!(bad.status, 401);
    assert!(bad.header("set-cookie").is_none());
    assert!(bad.body.contains("not the one"), "{}", bad.body);
    let good = http(
        &s.addr,
        "POST",
        "/login",
        &form,
        &format!("token={TOKEN}&next=%2Fapi%2Fbatches"),
    );
    assert_eq!(good.status, 303, "{}", good.body);
    assert_eq!(good.header("location"), Some("/api/batches"));
    let cookie = good.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(TOKEN),
        "the cookie is a session key, not the token"
    );
    let pair = cookie.split(';').next().unwrap();
    let a = get(&s.addr, "/", &[("Cookie", pair)]);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("No batches yet"), "{}", a.body);
    // A forged cookie is not a session; an off-site `next` goes home.
    let forged = format!("branchsync_session={TOKEN}");
    assert_eq!(get(&s.addr, "/", &[("Cookie", &forged)]).status, 401);
    let off_site = http(
        &s.addr,
        "POST",
        "/login",
        &form,
        &format!("token={TOKEN}&next=%2F%2Fevil.example%2F"),
    );
    assert_eq!(off_site.header("location"), Some("/"));
}

/// A person at a browser: the strict Content-Security-Policy still draws
/// every page (no refusal, no console error), the login form takes a token
/// typed and a click, and the table script (served, not inline) sorts.
#[test]
fn a_browser_signs_in_by_clicking_under_the_strict_policy() {
    let Some(chromium) = common::browser::chromium() else {
        eprintln!("skipped: no Chromium on this machine (apt-get install chromium)");
        return;
    };
    let site = journal_site();
    let s = serve(
        command(&site),
        &["--listen", "127.0.0.1:0", "--token-env", TOKEN_ENV],
    );
    let mut b = common::browser::Browser::start(chromium);
    b.open(&format!("http://{}/", s.addr));
    assert_eq!(b.eval("document.querySelector('form') !== null"), true);
    // The stylesheet applies: the login box is laid out by it.
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector('main.login')).maxWidth"),
        "380px"
    );
    b.click("#token");
    b.type_text("not-the-token-at-all");
    b.click("button[type=submit]");
    b.wait_for_load();
    assert_eq!(
        b.eval("document.querySelector('.login-error') !== null"),
        true,
        "a wrong token says so"
    );
    b.click("#token");
    b.type_text(TOKEN);
    b.click("button[type=submit]");
    b.wait_for_load();
    assert_eq!(b.eval("location.pathname"), "/");
    let text = b.eval("document.body.innerText").to_string();
    assert!(text.contains("No batches yet"), "{text}");
    assert!(b.eval("document.cookie").as_str() == Some(""), "HttpOnly");
    b.open(&format!("http://{}/logout", s.addr));
    assert_eq!(b.eval("location.pathname"), "/login");
    let refusals: Vec<&String> = b
        .messages
        .iter()
        .filter(|m| !m.contains("favicon"))
        // the login page itself answers 401 (to scripts, on purpose)
        .filter(|m| !(m.contains("(\"network\")") && m.contains("status of 401")))
        .filter(|m| m.contains("error") || m.contains("Refused") || m.contains("exception"))
        .collect();
    assert!(refusals.is_empty(), "{refusals:#?}");
}

/// Does a good login set a `Secure` cookie?
fn cookie_secure(addr: &str) -> bool {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let good = http(
        addr,
        "POST",
        "/login",
        &form,
        &format!("token={TOKEN}&next=%2F"),
    );
    assert_eq!(good.status, 303, "{}", good.body);
    let cookie = good.header("set-cookie").unwrap();
    cookie.split(';').any(|p| p.trim() == "Secure")
}

#[test]
fn behind_tls_the_login_cookie_is_secure() {
    let site = journal_site();
    let s = serve(
        command(&site),
        &[
            "--listen",
            "127.0.0.1:0",
            "--token-env",
            TOKEN_ENV,
            "--behind-tls",
        ],
    );
    assert!(cookie_secure(&s.addr));
    let out = command(&site)
        .args(["serve", "--behind-tls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--behind-tls needs --token-env");
}

/// A branch database with the ERP fixture.
fn branch(name: &str, seed: i64, lines: i64) -> TestDb {
    let db = TestDb::create(name);
    common::erp::populate(&mut db.client(), seed, lines);
    db
}

#[test]
fn the_fleet_page_lists_every_runner_and_drills_down_to_a_batch() {
    let central = TestDb::create("bs_servefleet_central");
    let good = branch("bs_servefleet_b0", 3, 200);
    // A branch without the ERP tables: its tables fail.
    let empty = TestDb::create("bs_servefleet_b1");
    let runners = [
        Runner::new(
            "hq-01",
            &central.url,
            &[("pgsql_b0".into(), good.url.clone())],
            "",
            "",
        ),
        Runner::new(
            "kantor 7",
            &central.url,
            &[("pgsql_b1".into(), empty.url.clone())],
            "",
            "",
        ),
    ];
    for r in &runners {
        let out = r.run(&["sync-all"]);
        assert!(code(&out) <= 1, "{}", String::from_utf8_lossy(&out.stderr));
    }
    let cli = runners[0].run(&["sync-status", "--fleet", "--json"]);
    assert_eq!(code(&cli), 0);
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();

    let mut cmd = runners[0].cmd(&[]);
    cmd.env(TOKEN_ENV, TOKEN);
    let s = serve(
        cmd,
        &[
            "--listen",
            "127.0.0.1:0",
            "--fleet",
            "--token-env",
            TOKEN_ENV,
        ],
    );
    let auth = bearer();
    let h = [("Authorization", auth.as_str())];
    assert_eq!(get(&s.addr, "/fleet", &[]).status, 401);
    let home = get(&s.addr, "/", &h);
    assert!(home.body.contains("href=\"/fleet\""), "{}", home.body);

    // The JSON is that of `sync-status --fleet --json`.
    let api = get(&s.addr, "/api/fleet", &h);
    assert_eq!(api.status, 200, "{}", api.body);
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        for e in v.as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("age_seconds");
        }
        v
    };
    assert_eq!(strip(&api), strip(&cli));
    assert_eq!(api.as_array().unwrap().len(), 2);

    let page = get(&s.addr, "/fleet", &h);
    assert_eq!(page.status, 200, "{}", page.body);
    assert_hardened(&page, "/fleet");
    let body = &page.body;
    assert!(body.contains("2 runners"), "{body}");
    assert!(
        body.contains("data-runner=\"hq-01\" data-stale=\"false\""),
        "{body}"
    );
    // The failing runner never completed a batch: stale, with its failed tables.
    assert!(
        body.contains("data-runner=\"kantor 7\" data-stale=\"true\""),
        "{body}"
    );
    assert!(body.contains("pgsql_b1.m_product"), "{body}");

    // Drill-down: each runner's latest batch, its tables, rows and errors.
    for e in api.as_array().unwrap() {
        let runner = e["runner"].as_str().unwrap();
        let id = e["batch"]["batch_id"].as_str().unwrap();
        let href = format!("/fleet/{}/{id}", runner.replace(' ', "%20"));
        assert!(
            body.contains(&format!("href=\"{href}\"")),
            "{href} in {body}"
        );
        let detail = get(&s.addr, &href, &h);
        assert_eq!(detail.status, 200, "{href}: {}", detail.body);
        for table in ["m_product", "c_order", "c_invoiceline"] {
            assert!(
                detail.body.contains(&format!("<td>{table}</td>")),
                "{table}"
            );
        }
        let json = get(&s.addr, &format!("/api{href}"), &h);
        let json: serde_json::Value = serde_json::from_str(&json.body).unwrap();
        assert_eq!(json["batch"]["batch_id"], id);
        assert_eq!(json["tables"].as_array().unwrap().len(), 3);
    }
    let hq = &api.as_array().unwrap()[0];
    let detail = get(
        &s.addr,
        &format!("/fleet/hq-01/{}", hq["batch"]["batch_id"].as_str().unwrap()),
        &h,
    );
    let lines: i64 = central
        .client()
        .query_one("SELECT count(*) FROM c_invoiceline", &[])
        .unwrap()
        .get(0);
    let shown = format!(">{}</td>", thousands(lines));
    assert!(detail.body.contains(&shown), "{shown} in {}", detail.body);
    let failed = &api.as_array().unwrap()[1];
    let id = failed["batch"]["batch_id"].as_str().unwrap();
    let detail = get(&s.addr, &format!("/fleet/kantor%207/{id}"), &h);
    assert!(detail.body.contains("class=\"error\">") && detail.body.contains("s-failed"));
    assert_eq!(
        get(&s.addr, "/fleet/hq-01/sync_20261126084522_AbCd1234", &h).status,
        404
    );
    assert_eq!(get(&s.addr, "/fleet/hq-01/nope", &h).status, 400);
}

#[test]
fn without_fleet_there_is_no_fleet_page() {
    let site = journal_site();
    let s = serve(command(&site), &["--listen", "127.0.0.1:0"]);
    assert_eq!(get(&s.addr, "/fleet", &[]).status, 404);
}
