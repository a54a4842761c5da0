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

    /// Prefix the message with context (`"reading c_order: "`).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DriverError {}
