//! The dashboard's login (`serve --token-env NAME`): a request is let in by
//! `Authorization: Bearer <token>` (scripts, Prometheus) or by the session
//! cookie that the login form sets once the token was typed in (browsers).
//! The cookie holds a random session key made when the server starts — never
//! the token — and is `HttpOnly; SameSite=Strict`, so neither a script on the
//! page nor another site can use it. Every comparison is constant-time.

use crate::report::html;
use rand::distr::Alphanumeric;
use rand::RngExt;

/// The session cookie's name.
pub const COOKIE: &str = "branchsync_session";
/// A token shorter than this is refused: it could be guessed.
pub const MIN_TOKEN: usize = 16;
/// A login form larger than this is not read.
pub const MAX_FORM: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("--token-env {0}: the environment variable {0} is not set or empty. Set it to a long random secret, e.g. `export {0}=$(openssl rand -hex 32)`")]
    Missing(String),
    #[error("--token-env {0}: the token is {1} characters long; use at least {MIN_TOKEN}, e.g. `export {0}=$(openssl rand -hex 32)`")]
    Short(String, usize),
}

/// The secret a request must show, and the key of the sessions it opened.
pub struct Auth {
    token: String,
    session: String,
    behind_tls: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

impl Auth {
    /// The token from the environment variable `name`.
    pub fn from_env(name: &str) -> Result<Auth, TokenError> {
        let token = std::env::var(name).unwrap_or_default();
        Auth::new(name, token.trim())
    }

    fn new(name: &str, token: &str) -> Result<Auth, TokenError> {
        match token.chars().count() {
            0 => Err(TokenError::Missing(name.to_owned())),
            n if n < MIN_TOKEN => Err(TokenError::Short(name.to_owned(), n)),
            _ => Ok(Auth {
                token: token.to_owned(),
                session: rand::rng()
                    .sample_iter(&Alphanumeric)
                    .take(43)
                    .map(char::from)
                    .collect(),
                behind_tls: false,
            }),
        }
    }

    /// Does `token` (typed into the login form) match?
    pub fn token_matches(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.token.as_bytes())
    }

    /// Is the request with these `Authorization` and `Cookie` headers let in?
    pub fn admits(&self, authorization: Option<&str>, cookie: Option<&str>) -> bool {
        let bearer = authorization
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .is_some_and(|(_, t)| self.token_matches(t.trim()));
        // Every cookie of that name is compared (no early exit on a match).
        let session = cookie
            .into_iter()
            .flat_map(|c| c.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .filter(|(k, _)| *k == COOKIE)
            .fold(false, |ok, (_, v)| {
                constant_time_eq(v.as_bytes(), self.session.as_bytes()) | ok
            });
        bearer | session
    }

    /// The `Set-Cookie` value after a good login (`Secure` when the
    /// browser reaches the dashboard over TLS, see [`Auth::behind_tls`]).
    pub fn set_cookie(&self) -> String {
        format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict{}",
            self.session,
            secure(self.behind_tls)
        )
    }

    /// The `Set-Cookie` value of a logout.
    pub fn clear_cookie(&self) -> String {
        format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            secure(self.behind_tls)
        )
    }

    /// Browsers reach the dashboard over TLS (a proxy in front of it ends
    /// TLS): the session cookie is marked `Secure`, so a browser never sends
    /// it over plain HTTP.
    #[must_use]
    pub fn behind_tls(mut self, yes: bool) -> Auth {
        self.behind_tls = yes;
        self
    }
}

fn secure(yes: bool) -> &'static str {
    if yes {
        "; Secure"
    } else {
        ""
    }
}

/// `a == b` in a time that depends on the lengths only, never on where the
/// first difference is.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().max(b.len());
    let mut diff = (a.len() ^ b.len()) as u64;
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

/// Where to go after the login: a path on this site only (`/…`, never
/// `//host` or a scheme), else the start page.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local {
        next
    } else {
        "/"
    }
}

/// The values of an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| percent_decode(&v.replace('+', " ")))
}

/// `%XX` decoded (bytes that do not form UTF-8 are replaced).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything but unreserved characters as `%XX` (a path segment).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The login page; `failed` after a wrong token.
pub fn login_page(next: &str, failed: bool) -> String {
    let note = if failed {
        "<p class=\"login-error\" role=\"alert\">That token is not the one this dashboard was started with.</p>\n"
    } else {
        ""
    };
    let body = format!(
        "<main class=\"login\">\n<h1>branchsync dashboard</h1>\n<p class=\"meta\">This dashboard needs the token it was started with (<code>serve --token-env NAME</code>).</p>\n{note}<form method=\"post\" action=\"/login\">\n<label for=\"token\">Token</label>\n<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\n<input type=\"hidden\" name=\"next\" value=\"{}\">\n<button type=\"submit\">Sign in</button>\n</form>\n<p class=\"meta\">Scripts send <code>Authorization: Bearer &lt;token&gt;</code> instead.</p>\n</main>",
        html::escape(safe_next(next))
    );
    html::served_document("Sign in — branchsync", &body, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        Auth::new("T", "0123456789abcdef-secret").unwrap()
    }

    #[test]
    fn the_cookie_is_secure_behind_tls_only() {
        assert!(!auth().set_cookie().contains("Secure"));
        assert!(!auth().clear_cookie().contains("Secure"));
        let tls = auth().behind_tls(true);
        assert!(
            tls.set_cookie().ends_with("; Secure"),
            "{}",
            tls.set_cookie()
        );
        assert!(tls.clear_cookie().ends_with("; Secure"));
    }

    #[test]
    fn bearer_or_session_cookie_only() {
        let a = auth();
        assert!(a.admits(Some("Bearer 0123456789abcdef-secret"), None));
        assert!(a.admits(Some("bearer  0123456789abcdef-secret "), None));
        assert!(!a.admits(Some("Bearer 0123456789abcdef-secreT"), None));
        assert!(!a.admits(Some("Basic 0123456789abcdef-secret"), None));
        assert!(!a.admits(None, None));
        let cookie = a.set_cookie();
        let pair = cookie.split(';').next().unwrap();
        assert!(a.admits(None, Some(&format!("theme=dark; {pair}"))));
        // The token itself is not a session.
        assert!(!a.admits(None, Some("branchsync_session=0123456789abcdef-secret")));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("secret"));
    }

    #[test]
    fn short_or_missing_tokens_are_refused_with_the_fix() {
        let e = Auth::new("DASH", "").unwrap_err().to_string();
        assert!(e.contains("export DASH=$(openssl rand -hex 32)"), "{e}");
        let e = Auth::new("DASH", "short").unwrap_err().to_string();
        assert!(e.contains("5 characters"), "{e}");
    }

    #[test]
    fn comparison_and_forms() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abc\0"));
        assert!(!constant_time_eq(b"", b"a"));
        assert_eq!(
            form_value("next=%2Ffleet&token=a+b%26c", "token").as_deref(),
            Some("a b&c")
        );
        assert_eq!(form_value("token=x", "next"), None);
        assert_eq!(safe_next("/fleet?x=1"), "/fleet?x=1");
        for bad in ["//evil.example/", "https://evil.example/", "/\\evil", ""] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
        assert_eq!(percent_encode("hq-01 a/b"), "hq-01%20a%2Fb");
        assert_eq!(percent_decode(&percent_encode("kantor é/1")), "kantor é/1");
    }
}
