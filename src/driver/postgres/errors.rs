//! `postgres::Error` → [`DriverError`]: the kind decides whether the engine
//! retries, the message names the server and the table and says what to do.
//! Messages are built from the error's parts, never from the URL, so they
//! cannot carry a password.

use crate::driver::{DriverError, ErrorKind};
use postgres::error::SqlState;
use std::error::Error as _;

/// What kind of failure `e` is. `cancelled`: we asked the server to cancel
/// the running statement (Ctrl+C), which tells a cancel from a timeout.
pub fn classify(e: &postgres::Error, cancelled: bool) -> ErrorKind {
    if let Some(db) = e.as_db_error() {
        // A pooler refusing a startup parameter refuses it every time.
        if refused_startup_parameter(db.code().code(), db.message()) {
            return ErrorKind::Other;
        }
        return classify_code(db.code(), cancelled);
    }
    if e.is_closed() {
        return ErrorKind::Connection;
    }
    // The client's own error kinds are private; their fixed texts are not.
    let text = e.to_string();
    if text.starts_with("timeout waiting for server") {
        return ErrorKind::Timeout;
    }
    if text.starts_with("authentication error") {
        return ErrorKind::Auth;
    }
    if text.starts_with("error connecting to server")
        || text.starts_with("error communicating with the server")
        || text.starts_with("connection closed")
        || e.source().is_some_and(|s| s.is::<std::io::Error>())
    {
        return ErrorKind::Connection;
    }
    ErrorKind::Other
}

/// The kind of a server error by its SQLSTATE.
pub fn classify_code(code: &SqlState, cancelled: bool) -> ErrorKind {
    let c = code.code();
    match c {
        "57014" if cancelled => ErrorKind::Cancelled,
        "57014" => ErrorKind::Timeout,
        // Terminated by an administrator, crash, server starting or stopping.
        "57P01" | "57P02" | "57P03" => ErrorKind::Connection,
        "28P01" | "28000" | "42501" => ErrorKind::Auth,
        "42P01" | "3F000" => ErrorKind::MissingTable,
        // Deadlocks and serialization failures, too many connections, out
        // of memory or disk: transient, worth another attempt.
        _ if c.starts_with("08") || c.starts_with("40") || c.starts_with("53") => {
            ErrorKind::Connection
        }
        _ if c.starts_with("42") => ErrorKind::Schema,
        _ => ErrorKind::Other,
    }
}

/// The error's own words: `ERROR 42P01: relation "x" does not exist`, with
/// detail and hint, or the client's text followed by its causes.
pub fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
        if let Some(d) = db.detail() {
            s.push_str(" (detail: ");
            s.push_str(d);
            s.push(')');
        }
        if let Some(h) = db.hint() {
            s.push_str(" (hint: ");
            s.push_str(h);
            s.push(')');
        }
        if let Some(w) = db.where_() {
            if w.starts_with("COPY ") {
                s.push_str(" (at ");
                s.push_str(w);
                s.push(')');
            }
        }
        return s;
    }
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// The server's own words in a message this driver wrote: what follows
/// `ERROR 42P01: ` (or `FATAL`/`PANIC` and any SQLSTATE) up to the detail,
/// hint or advice after it; or the reason the client could not connect.
pub fn cause(message: &str) -> Option<&str> {
    let until_advice = |rest: &'_ str| -> usize {
        [" (detail: ", " (hint: ", " (at ", "; "]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .unwrap_or(rest.len())
    };
    for severity in ["FATAL ", "ERROR ", "PANIC "] {
        for (i, _) in message.match_indices(severity) {
            let at = i + severity.len();
            let Some(code) = message.get(at..at + 5) else {
                continue;
            };
            let sqlstate = code
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
            if sqlstate && message[at + 5..].starts_with(": ") {
                let rest = &message[at + 7..];
                return Some(&rest[..until_advice(rest)]);
            }
        }
    }
    let marker = "error connecting to server: ";
    let at = message.find(marker)? + marker.len();
    let rest = &message[at..];
    Some(&rest[..until_advice(rest)])
}

/// What to do about a failure of `kind`, appended to its message.
fn advice(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connection => {
            "; the server is unreachable or dropped the connection; check that it is up and reachable"
        }
        ErrorKind::Timeout => {
            "; the statement or connection timed out (retried); raise engine.statement_timeout or engine.connect_timeout if the table is just large or the link slow"
        }
        ErrorKind::Auth => {
            "; check the user in the url and the password (password_env or ~/.pgpass) and the role's privileges"
        }
        ErrorKind::Cancelled => "; cancelled on request",
        ErrorKind::MissingTable => {
            "; check the table name (`source` of the [[table]] entry, schema-qualified when not in public) and that it exists on this server"
        }
        _ => "",
    }
}

/// A [`DriverError`] for `e`, met by `server` while `doing` (e.g.
/// `reading "public"."c_order"`).
pub fn pg_error(e: &postgres::Error, server: &str, doing: &str, cancelled: bool) -> DriverError {
    let kind = classify(e, cancelled);
    let advice = e
        .as_db_error()
        .and_then(|db| advice_for(db.code().code(), db.message()))
        .unwrap_or_else(|| advice(kind));
    DriverError::new(kind, format!("{server}: {doing}: {}{advice}", describe(e)))
}

/// pgbouncer's answer to a startup parameter it does not pass on
/// (`FATAL 08P01: unsupported startup parameter: options`): a protocol
/// error by its code, but no retry changes it.
fn refused_startup_parameter(code: &str, message: &str) -> bool {
    code == "08P01" && message.contains("unsupported startup parameter")
}

/// Sharper advice for the server errors a new setup meets first.
fn advice_for(code: &str, message: &str) -> Option<&'static str> {
    if refused_startup_parameter(code, message) {
        return Some(
            "; a connection pooler (pgbouncer) in front of the server refuses this startup parameter, so it is not retried: take it out of the url (branchsync sends none of its own), or list it in the pooler's ignore_startup_parameters",
        );
    }
    match code {
        "3D000" => Some(
            "; this database does not exist on that server: fix the database name in the url (list them with `psql -l`), or create it (`createdb NAME`)",
        ),
        "28000" if message.contains("role") && message.contains("does not exist") => Some(
            "; this role does not exist on that server: fix the user in the url, or create it (`CREATE ROLE name LOGIN`)",
        ),
        _ => None,
    }
}

/// An error met while writing to a COPY stream that came back as
/// `io::Error`: the [`DriverError`] or `postgres::Error` inside it when there
/// is one.
pub fn io_error(e: std::io::Error, server: &str, doing: &str, cancelled: bool) -> DriverError {
    if let Some(inner) = e.get_ref() {
        if let Some(d) = inner.downcast_ref::<DriverError>() {
            return d.clone();
        }
        if let Some(pg) = inner.downcast_ref::<postgres::Error>() {
            return pg_error(pg, server, doing, cancelled);
        }
    }
    let kind = if cancelled {
        ErrorKind::Cancelled
    } else {
        ErrorKind::Other
    };
    DriverError::new(kind, format!("{server}: {doing}: {e}{}", advice(kind)))
}

/// The error of a statement stopped because we cancelled it.
pub fn cancelled(server: &str, doing: &str) -> DriverError {
    DriverError::new(
        ErrorKind::Cancelled,
        format!("{server}: {doing}: cancelled on request"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_startup_parameter_is_not_retried_and_says_why() {
        assert!(refused_startup_parameter(
            "08P01",
            "unsupported startup parameter: options"
        ));
        assert!(!refused_startup_parameter(
            "08P01",
            "invalid message length"
        ));
        let advice = advice_for("08P01", "unsupported startup parameter: options").unwrap();
        assert!(advice.contains("pgbouncer") && advice.contains("not retried"));
    }

    #[test]
    fn codes() {
        let k = |c: &str, cancelled| classify_code(&SqlState::from_code(c), cancelled);
        assert_eq!(k("57014", true), ErrorKind::Cancelled);
        assert_eq!(k("57014", false), ErrorKind::Timeout);
        assert_eq!(k("57P01", false), ErrorKind::Connection);
        assert_eq!(k("08006", false), ErrorKind::Connection);
        assert_eq!(k("28P01", false), ErrorKind::Auth);
        assert_eq!(k("42P01", false), ErrorKind::MissingTable);
        assert_eq!(k("42703", false), ErrorKind::Schema);
        assert_eq!(k("42804", false), ErrorKind::Schema);
        assert_eq!(k("40P01", false), ErrorKind::Connection);
        assert_eq!(k("22P02", false), ErrorKind::Other);
        assert_eq!(k("23505", false), ErrorKind::Other);
    }
}

#[cfg(test)]
mod advice_tests {
    use super::advice_for;

    #[test]
    fn a_missing_database_or_role_gets_its_own_fix() {
        assert!(advice_for("3D000", "database \"ux_lmpx\" does not exist")
            .unwrap()
            .contains("createdb"));
        assert!(advice_for("28000", "role \"sync\" does not exist")
            .unwrap()
            .contains("CREATE ROLE"));
        assert_eq!(advice_for("28000", "no pg_hba.conf entry"), None);
    }
}
