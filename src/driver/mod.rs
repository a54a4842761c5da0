//! Drivers: a database behind two small synchronous traits, [`Source`] and
//! [`Target`], opened through an [`Endpoint`] chosen by the config's `driver`
//! key in [`registry`]. The engine only ever sees these traits.
//!
//! Data moves by push: the target opens its transaction and hands a
//! [`RowSink`] to the engine's feed closure, which lets the source stream
//! rows into it. When both sides speak PostgreSQL's binary COPY for exactly
//! the same column types, the sink offers [`RowSink::pg_binary`] and the bytes
//! pass through untouched except for the branch field.

pub mod error;
pub mod postgres;
pub mod registry;
pub mod sqlite;
pub mod value;

pub use error::{DriverError, ErrorKind};
pub use registry::open_endpoint;
pub use value::{Column, ColumnKind, NativeType, TableSchema, Value};

use crate::config::Mode;
use std::sync::Arc;

pub type Result<T, E = DriverError> = std::result::Result<T, E>;

/// Cancels whatever the session is running (from another thread).
pub type CancelHandle = Arc<dyn Fn() + Send + Sync>;

/// A configured server: makes sessions, one per table copy.
pub trait Endpoint: Send + Sync {
    /// The registry name of the driver (`postgres`, `sqlite`).
    fn driver(&self) -> &'static str;
    /// A session for reading (one pooled connection).
    fn source(&self) -> Result<Box<dyn Source>>;
    /// A session for writing (one pooled connection).
    fn target(&self) -> Result<Box<dyn Target>>;
    /// Connect and describe the server (for `check`): version, TLS in use.
    fn probe(&self) -> Result<ServerInfo>;
}

/// What `check` prints about a server.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub version: String,
    pub tls: Option<String>,
}

/// What to read.
#[derive(Debug, Clone)]
pub struct ReadRequest<'a> {
    /// Source schema, when qualified in the config.
    pub schema: Option<&'a str>,
    pub table: &'a str,
    /// Columns to read, in this order.
    pub columns: &'a [Column],
    /// Key columns: rows with a NULL in any of them go to the reject sink.
    pub key: &'a [String],
    /// Incremental: only rows whose `column >= value`.
    pub since: Option<(&'a str, &'a Value)>,
}

/// A reading session.
pub trait Source: Send {
    /// The table's columns and primary key, or `None` when it does not exist.
    fn describe(&mut self, schema: Option<&str>, table: &str) -> Result<Option<TableSchema>>;
    /// Stream the rows of `req` into `sink` inside one consistent read-only
    /// snapshot; rows with a NULL key go to `rejects` instead. Returns rows sent.
    fn read(
        &mut self,
        req: &ReadRequest,
        sink: &mut dyn RowSink,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64>;
    /// Cancels a running `read` from another thread.
    fn cancel_handle(&self) -> CancelHandle;
    /// A cheap estimate of the row count (for progress bars), when known.
    fn estimate_rows(&mut self, _schema: Option<&str>, _table: &str) -> Option<u64> {
        None
    }
}

/// Where rows go.
pub trait RowSink {
    /// One row, values in [`ReadRequest::columns`] order.
    fn row(&mut self, values: &[Value]) -> Result<()>;
    /// When the sink takes PostgreSQL binary COPY data (header, tuples,
    /// trailer) for exactly the source's column types, a writer for it.
    fn pg_binary(&mut self) -> Option<&mut dyn std::io::Write> {
        None
    }
    /// Would the sink like the rows sorted by [`ReadRequest::key`]? A
    /// source that can sort cheaply then does (wrappers must pass it on).
    fn wants_key_order(&self) -> bool {
        false
    }
}

/// Where rows with a NULL key go (with the reason).
pub trait RejectSink {
    fn reject(&mut self, columns: &[Column], values: &[Value], reason: &str) -> Result<()>;
}

/// What the target table should become and how to write it.
#[derive(Debug, Clone)]
pub struct WritePlan<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    /// The source's columns (the target may have more).
    pub columns: &'a [Column],
    pub key: &'a [String],
    pub mode: Mode,
    pub cursor: Option<&'a str>,
    /// `(branch column, connection name)` for branch-tagged tables.
    pub branch: Option<(&'a str, &'a str)>,
}

/// Counts reported by a finished write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Rows read from the source and considered.
    pub processed: u64,
    /// Rows not written because identical to the target (upsert/incremental).
    pub skipped: u64,
}

/// The feed the engine gives a target: it pushes the source's rows into the
/// sink and returns how many it sent.
pub type Feed<'f> = dyn FnMut(&mut dyn RowSink) -> Result<u64> + 'f;

/// A writing session.
pub trait Target: Send {
    /// Create the table when missing, add columns new at the source, and fail
    /// on type conflicts or missing key columns. Runs in its own transaction.
    fn prepare(&mut self, plan: &WritePlan) -> Result<()>;
    /// Incremental: the highest cursor already in the target for this branch.
    fn watermark(&mut self, plan: &WritePlan) -> Result<Option<Value>>;
    /// Write everything `feed` sends in one transaction, committed at the end;
    /// any error rolls it back.
    fn write(&mut self, plan: &WritePlan, feed: &mut Feed) -> Result<WriteOutcome>;
    /// Cancels a running `write` from another thread.
    fn cancel_handle(&self) -> CancelHandle;
}
