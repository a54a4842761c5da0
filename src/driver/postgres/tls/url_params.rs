//! `sslmode` and `sslrootcert` written inside a connection string. The
//! PostgreSQL client library only knows `disable | prefer | require` and has
//! no `sslrootcert`, so both are taken out of the string here (URL or
//! `key=value` form) before the rest is parsed, and decided by [`super::Tls`].

/// The TLS parameters found in a connection string, as written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UrlTls {
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// `conn` without its `sslmode` and `sslrootcert` parameters, and their
/// values; `None` when the string cannot be read (a bad `%` escape, an
/// unclosed quote, a key without `=`).
pub fn split(conn: &str) -> Option<(String, UrlTls)> {
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        split_url(conn)
    } else {
        split_key_value(conn)
    }
}

fn take(tls: &mut UrlTls, key: &str, value: String) -> bool {
    match key {
        "sslmode" => tls.sslmode = Some(value),
        "sslrootcert" => tls.sslrootcert = Some(value),
        _ => return false,
    }
    true
}

/// `postgres://…?a=1&sslmode=require&b=2` → `postgres://…?a=1&b=2`.
fn split_url(url: &str) -> Option<(String, UrlTls)> {
    let mut tls = UrlTls::default();
    let Some((head, query)) = url.split_once('?') else {
        return Some((url.to_owned(), tls));
    };
    let mut kept = Vec::new();
    for part in query.split('&') {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        if !take(&mut tls, &percent_decode(key)?, percent_decode(value)?) {
            kept.push(part);
        }
    }
    let rest = if kept.is_empty() {
        head.to_owned()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    Some((rest, tls))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `host=h sslmode='verify-full' dbname=d` → `host=h dbname=d` (libpq's
/// rules: spaces around `=`, values single-quoted or not, `\` escapes).
fn split_key_value(conn: &str) -> Option<(String, UrlTls)> {
    let mut tls = UrlTls::default();
    let mut kept: Vec<&str> = Vec::new();
    let mut chars = conn.char_indices().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    };
    loop {
        skip_ws(&mut chars);
        let Some(&(start, _)) = chars.peek() else {
            break;
        };
        let mut key = String::new();
        while let Some((_, c)) = chars.next_if(|(_, c)| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        skip_ws(&mut chars);
        chars.next_if(|(_, c)| *c == '=')?;
        skip_ws(&mut chars);
        let mut value = String::new();
        if chars.next_if(|(_, c)| *c == '\'').is_some() {
            loop {
                match chars.next()? {
                    (_, '\\') => value.push(chars.next()?.1),
                    (_, '\'') => break,
                    (_, c) => value.push(c),
                }
            }
        } else {
            while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace()) {
                value.push(if c == '\\' { chars.next()?.1 } else { c });
            }
        }
        let end = chars.peek().map_or(conn.len(), |(i, _)| *i);
        if !take(&mut tls, &key, value) {
            kept.push(&conn[start..end]);
        }
    }
    Some((kept.join(" "), tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(mode: Option<&str>, root: Option<&str>) -> UrlTls {
        UrlTls {
            sslmode: mode.map(str::to_owned),
            sslrootcert: root.map(str::to_owned),
        }
    }

    #[test]
    fn urls_lose_their_tls_parameters() {
        let cases = [
            ("postgres://u@h/db", "postgres://u@h/db", tls(None, None)),
            (
                "postgres://u@h/db?sslmode=verify-full",
                "postgres://u@h/db",
                tls(Some("verify-full"), None),
            ),
            (
                "postgresql://u@h:5433/db?application_name=x&sslmode=require&sslrootcert=%2Fetc%2Fca%20b.pem&connect_timeout=3",
                "postgresql://u@h:5433/db?application_name=x&connect_timeout=3",
                tls(Some("require"), Some("/etc/ca b.pem")),
            ),
            (
                "postgres://u:p%40ss@h/db?hostaddr=127.0.0.1&sslmode=disable",
                "postgres://u:p%40ss@h/db?hostaddr=127.0.0.1",
                tls(Some("disable"), None),
            ),
        ];
        for (url, rest, want) in cases {
            assert_eq!(split(url), Some((rest.to_owned(), want)), "{url}");
        }
    }

    #[test]
    fn key_value_strings_lose_their_tls_parameters() {
        let cases = [
            ("host=h dbname=d", "host=h dbname=d", tls(None, None)),
            (
                "host=h sslmode = verify-full  dbname=d",
                "host=h dbname=d",
                tls(Some("verify-full"), None),
            ),
            (
                "sslrootcert='/etc/my ca\\'s.pem' host=h password='a b' sslmode=require",
                "host=h password='a b'",
                tls(Some("require"), Some("/etc/my ca's.pem")),
            ),
        ];
        for (conn, rest, want) in cases {
            assert_eq!(split(conn), Some((rest.to_owned(), want)), "{conn}");
        }
    }

    #[test]
    fn unreadable_strings_are_refused() {
        for conn in [
            "host=h sslmode",
            "host=h sslmode='open",
            "postgres://h/db?sslmode=%zz",
        ] {
            assert_eq!(split(conn), None, "{conn}");
        }
    }
}
