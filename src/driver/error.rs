//! Driver errors, classified so the engine knows what to retry.

use std::fmt;

/// What kind of failure, which decides retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect, or the connection died: retried.
    Connection,
    /// A timeout (connect or statement): retried.
    Timeout,
    /// Wrong password or role: not retried.
    Auth,
    /// The source table does not exist: not retried.
    MissingTable,
    /// Target schema cannot take the source (type conflict, key missing): not retried.
    Schema,
    /// Cancelled by us (Ctrl+C): not retried, the row goes back to pending.
    Cancelled,
    /// Anything else (bad data, SQL error): not retried.
    Other,
}

impl ErrorKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::Connection | ErrorKind::Timeout)
    }
}

/// A failure with a message that names the thing (server, table, column) and,
/// where there is one, the fix. Never carries a password.
#[derive(Debug, Clone)]
pub struct DriverError {
    pub kind: ErrorKind,
    pub message: String,
}

impl DriverError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DriverError {
            kind,
            message: message.into(),
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        DriverError::new(ErrorKind::Other, message)
    }

    pub fn schema(message: impl Into<String>) -> Self {
        DriverError::new(ErrorKind::Schema, message)
    }

    /// The source sent two rows with the same key: see [`repeated_key`];
    /// `named` is the target table.
    pub fn duplicate_key(
        named: &str,
        key: &[String],
        value: &[Option<String>],
        branch: Option<&str>,
    ) -> Self {
        DriverError::schema(format!("{named}: {}", repeated_key(key, value, branch)))
    }

    /// Prefix the message with context (`"reading c_order: "`).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// A source table without a primary key on the `[[table]]`'s key sent two
/// rows with the same key: the key columns, one key value sent twice (as
/// SQL literals, `None` for NULL) and the fixes; `branch` is the connection
/// the rows came from, when known.
pub fn repeated_key(key: &[String], value: &[Option<String>], branch: Option<&str>) -> String {
    let cols = key.join(", ");
    let value: Vec<String> = value
        .iter()
        .map(|v| v.as_deref().map_or("NULL".to_owned(), sql_literal))
        .collect();
    let of = branch.map(|b| format!(" of {b}")).unwrap_or_default();
    let at = branch.unwrap_or("the branch");
    let keys: Vec<String> = key.iter().map(|k| format!("{k:?}")).collect();
    format!(
        "the source{of} sent more than one row with key ({cols}) = ({}): the key must be unique at the source, and the source table has no primary key on these columns. Declare the columns that are unique there as the key of its [[table]] (key = [{}, …]), or remove the duplicate rows at {at}",
        value.join(", "),
        keys.join(", "),
    )
}

/// `text` as a SQL string literal (`'it''s'`).
fn sql_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DriverError {}
