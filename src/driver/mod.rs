//! Drivers: a database behind two small synchronous traits, [`Source`] and
//! [`Target`], opened through an [`Endpoint`] chosen by the config's `driver`
//! key in [`registry`]. The engine only ever sees these traits.
//!
//! # What a driver must implement
//!
//! - [`Endpoint`]: `driver`, `source`, `target`, `probe`.
//! - [`Source`]: `describe`, `read` (in one consistent snapshot when it can),
//!   `cancel_handle`.
//! - [`Target`]: `prepare`, `watermark`, `write` (every [`Mode`], `mirror`
//!   included: see below), `cancel_handle`.
//!
//! Everything else is optional and declared as a [`Capabilities`] value in
//! the driver's registry entry, which [`Endpoint::capabilities`] answers by
//! default; a driver that declares none still supports every mode.
//!
//! # Data flow
//!
//! Data moves by push: the target opens its transaction and hands a
//! [`RowSink`] to the engine's feed closure, which lets the source stream
//! rows into it.
//!
//! # Capabilities and how they are negotiated
//!
//! Three today: raw passthrough ([`RawFormat`]), range checksums for
//! `mirror` ([`ChecksumDialect`], [`checksum`]) and snapshot reads. The
//! source offers, the target accepts or declines, and [`negotiate`] tells
//! the engine (and `check`) beforehand what a pair can agree on; the
//! `capabilities` module says how each works.

mod capabilities;
pub mod checksum;
pub mod convert;
pub mod error;
pub mod lattice;
mod link_bytes;
pub mod mirror;
pub mod mysql;
mod planner;
pub mod postgres;
pub mod registry;
pub mod render;
pub mod sqlite;
pub mod value;

pub use capabilities::{negotiate, Capabilities, ChecksumDialect, Pairing, RawFormat};
pub use error::{DriverError, ErrorKind};
pub use link_bytes::LinkBytes;
pub use planner::{plans_ahead, Planner};
pub use registry::open_endpoint;
pub use value::{Column, ColumnKind, NativeType, TableSchema, Value};

use crate::config::Mode;
use crate::journal::{BatchRow, FleetRunner, MirrorChanges, ProgressRow};
use std::sync::Arc;

pub type Result<T, E = DriverError> = std::result::Result<T, E>;

/// Cancels whatever the session is running (from another thread).
pub type CancelHandle = Arc<dyn Fn() + Send + Sync>;

/// A configured server: makes sessions, one per table copy.
pub trait Endpoint: Send + Sync {
    /// The registry name of the driver (`postgres`, `sqlite`).
    fn driver(&self) -> &'static str;
    /// What this driver can do beyond the required methods: by default
    /// what its registry entry declares ([`registry::Driver::capabilities`],
    /// the one place a driver states them).
    fn capabilities(&self) -> Capabilities {
        registry::find(self.driver())
            .map(|d| d.capabilities)
            .unwrap_or_default()
    }
    /// The schema a target writes to when `[target] schema` is not set
    /// (`public` for PostgreSQL, the URL's database for MySQL).
    fn default_schema(&self) -> &str;
    /// A session for reading (one pooled connection).
    fn source(&self) -> Result<Box<dyn Source>>;
    /// A session for writing (one pooled connection).
    fn target(&self) -> Result<Box<dyn Target>>;
    /// Connect and describe the server (for `check`): version, TLS in use.
    fn probe(&self) -> Result<ServerInfo>;
    /// A copy of the journal kept in this server, in `schema` (the fleet view's journal mirror),
    /// when the driver offers one (PostgreSQL does; SQLite does not).
    fn journal_mirror(&self, _schema: &str) -> Result<Option<Box<dyn JournalMirror>>> {
        Ok(None)
    }
}

/// The journal's copy in a central database: `sync_batches` and
/// `sync_progress` with the seed's columns plus `runner`, created on first
/// use. Its connection has short timeouts of its own: mirroring must never
/// hold up a sync.
pub trait JournalMirror: Send {
    /// Take `runner`'s write lock in the central, call `read` for the changes
    /// (so that two writers of one runner cannot send older rows after newer
    /// ones), and write them in one transaction, in order. Idempotent: a row
    /// sent twice ends the same. Returns how many changes were written.
    fn write(
        &mut self,
        runner: &str,
        read: &mut dyn FnMut() -> Result<MirrorChanges>,
    ) -> Result<usize>;
    /// Every runner's latest batch, its last completed batch's end, and the
    /// latest batch's failed tables.
    fn fleet(&mut self) -> Result<Vec<FleetRunner>>;
    /// One batch of `runner` with its progress rows.
    fn batch(
        &mut self,
        runner: &str,
        batch_id: &str,
    ) -> Result<Option<(BatchRow, Vec<ProgressRow>)>>;
}

/// What `check` prints about a server.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub version: String,
    pub tls: Option<String>,
    /// Something `check` should warn about (e.g. plaintext over the WAN).
    pub warning: Option<String>,
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
    /// Only rows whose key lies in this range (the default: all of them).
    pub range: KeyRange<'a>,
}

impl ReadRequest<'_> {
    /// The position of each key column among the columns read (names
    /// compared without regard to ASCII case); `server` names the source in
    /// the error when one is not read.
    pub fn key_positions(&self, server: &str) -> Result<Vec<usize>> {
        self.key
            .iter()
            .map(|k| {
                self.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(k))
                    .ok_or_else(|| {
                        DriverError::schema(format!(
                            "{server}: table {}: key column {k} is not among the columns read",
                            self.table
                        ))
                    })
            })
            .collect()
    }
}

/// A range over the key columns, compared as a row value in the key's own
/// order: `lower < (key…) <= upper`. Bounds are the keys' text forms, one per
/// key column, as [`Source::key_bound`] returns them.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyRange<'a> {
    /// Exclusive; `None`: from the first key.
    pub lower: Option<&'a [String]>,
    /// Inclusive; `None`: to the last key.
    pub upper: Option<&'a [String]>,
}

impl KeyRange<'_> {
    pub fn is_all(&self) -> bool {
        self.lower.is_none() && self.upper.is_none()
    }
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
    /// Optional (capability `range_checksums`): open one read-only snapshot
    /// of `req`'s table and compute range checksums in it, in `dialect`.
    /// Rows with a NULL key go to `rejects` first; they take no part in the
    /// checksums. `None` when the source does not speak that dialect.
    fn range_checksums<'s>(
        &'s mut self,
        _req: &ReadRequest,
        _dialect: ChecksumDialect,
        _rejects: &mut dyn RejectSink,
    ) -> Result<Option<Box<dyn checksum::RangeChecksums + 's>>> {
        Ok(None)
    }
    /// The key (text forms, one per key column) of about the `rows`-th row
    /// after `after` in key order, among the rows `req` selects (its own
    /// range ignored); `None` when about `rows` rows or fewer remain. This
    /// is what cuts a large copy into key-range chunks (a chunk needs about
    /// `rows` rows, not exactly: a driver may estimate from a sample); a
    /// driver that cannot answer cheaply keeps the default, and its copies
    /// are not chunked.
    fn key_bound(
        &mut self,
        _req: &ReadRequest,
        _after: Option<&[String]>,
        _rows: u64,
    ) -> Result<Option<Vec<String>>> {
        Ok(None)
    }
}

/// Where rows go.
pub trait RowSink {
    /// One row, values in [`ReadRequest::columns`] order.
    fn row(&mut self, values: &[Value]) -> Result<()>;
    /// Passthrough negotiation: the source offers the raw stream `format`
    /// for exactly the columns of the read. A sink that loads that format
    /// for exactly those column types answers with a writer for the whole
    /// stream (the source then sends no rows); `None` declines, and the
    /// source sends rows.
    fn raw(&mut self, _format: RawFormat) -> Option<&mut dyn std::io::Write> {
        None
    }
    /// On a raw stream: the data written so far carries `rows` rows in all.
    /// A source that frames its stream anyway says so after each buffer, so
    /// that progress can count rows without decoding; sinks that do not
    /// show progress ignore it (wrappers must pass it on).
    fn raw_rows(&mut self, _rows: u64) {}
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
    /// A table the target creates is split by branch, one part per
    /// connection, where the target can do that (`[target] partitions`).
    pub partition_by_branch: bool,
    /// The source's primary key is the key, so it never sends one key
    /// twice; when false (no primary key there, or another one) a target
    /// whose merge would silently keep one of two rows checks for repeats.
    pub key_unique_at_source: bool,
}

/// What a staged write (see [`Target::stage_open`]) already holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageState {
    /// Chunks committed in the stage.
    pub chunks: u32,
    /// Rows in those chunks.
    pub rows: u64,
    /// The upper key bound of the last committed chunk.
    pub last: Option<Vec<String>>,
    /// Every chunk is in: only the publish is left.
    pub loaded: bool,
}

/// One chunk of a staged write: the rows of `range`, the last chunk when its
/// upper bound is open.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// 1-based.
    pub number: u32,
    pub range: KeyRange<'a>,
}

/// Counts reported by a finished write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Rows read from the source and considered.
    pub processed: u64,
    /// Rows not written because identical to the target (upsert/incremental/mirror).
    pub skipped: u64,
    /// Rows deleted from the target's slice by `mirror` (a `full` copy
    /// replaces the slice and counts none).
    pub deleted: u64,
    /// `mirror` by range checksums: what crossed both links (the source's
    /// and this target's) while it ran, counted on their sockets; `None`
    /// when either side does not count.
    pub link: Option<LinkBytes>,
}

/// The feed the engine gives a target: it pushes the source's rows into the
/// sink and returns how many it sent.
pub type Feed<'f> = dyn FnMut(&mut dyn RowSink) -> Result<u64> + 'f;

/// A writing session.
pub trait Target: Send {
    /// The schema plan's side of this target; `None`: each copy prepares
    /// its own table ([`Target::prepare`]) and nothing is planned ahead.
    fn planner(&mut self) -> Option<&mut dyn Planner> {
        None
    }
    /// Create the table when missing, add columns new at the source, and fail
    /// on type conflicts or missing key columns. Runs in its own transaction.
    fn prepare(&mut self, plan: &WritePlan) -> Result<()>;
    /// Incremental: the highest cursor already in the target for this branch.
    fn watermark(&mut self, plan: &WritePlan) -> Result<Option<Value>>;
    /// Write everything `feed` sends in one transaction, committed at the end;
    /// any error rolls it back. In `mirror` mode (without a common checksum
    /// dialect) the feed sends the whole source, and the target deletes the
    /// keys of its slice that the feed did not send.
    fn write(&mut self, plan: &WritePlan, feed: &mut Feed) -> Result<WriteOutcome>;
    /// Optional (capability `range_checksums`): `mirror` by range checksums
    /// in one transaction: compute this side's checksums in the source's
    /// dialect and column types, reconcile with `source` (see
    /// [`mirror::reconcile`]) and write or delete only the differing rows.
    fn mirror(
        &mut self,
        plan: &WritePlan,
        _source: &mut dyn checksum::RangeChecksums,
        _tuning: &mirror::Tuning,
    ) -> Result<WriteOutcome> {
        Err(DriverError::other(format!(
            "table {}: this target cannot mirror by range checksums; the engine should have used the streaming merge",
            plan.table
        )))
    }
    /// Cancels a running `write` from another thread.
    fn cancel_handle(&self) -> CancelHandle;
    /// The bulk-load data bytes (e.g. PostgreSQL `COPY` data) this session
    /// has sent to the target so far, when the driver counts them; `None`
    /// when it does not.
    fn copy_bytes_sent(&self) -> Option<u64> {
        None
    }

    /// For `check`: what a different layout of the existing table `table`
    /// (branch-tagged by `branch_column`) would gain, and how to get it.
    fn layout_note(
        &mut self,
        _schema: &str,
        _table: &str,
        _branch_column: &str,
    ) -> Result<Option<String>> {
        Ok(None)
    }

    /// `full` only: instead of [`Target::write`], can this plan be loaded
    /// into a stage (committed chunk by chunk, invisible to readers) and
    /// then published at once? Targets that cannot keep the default.
    fn can_stage(&mut self, _plan: &WritePlan) -> Result<bool> {
        Ok(false)
    }
    /// Opens the stage of `run` (an id stable across the attempts and
    /// resumes of one batch): what an earlier attempt of the same run left
    /// committed, or an empty state after removing any other run's leftover.
    fn stage_open(&mut self, plan: &WritePlan, _run: &str) -> Result<StageState> {
        Err(DriverError::other(format!(
            "table {}: this target cannot stage a write",
            plan.table
        )))
    }
    /// Writes one chunk (everything `feed` sends) into the stage in its own
    /// transaction, committed with the chunk's mark. Returns the rows written.
    fn stage_chunk(
        &mut self,
        plan: &WritePlan,
        _run: &str,
        _chunk: &Chunk,
        _feed: &mut Feed,
    ) -> Result<u64> {
        Err(DriverError::other(format!(
            "table {}: this target cannot stage a write",
            plan.table
        )))
    }
    /// Builds what the stage still needs and publishes it in one short
    /// transaction: readers see the old rows until then, the new after.
    fn stage_publish(&mut self, plan: &WritePlan, _run: &str) -> Result<()> {
        Err(DriverError::other(format!(
            "table {}: this target cannot stage a write",
            plan.table
        )))
    }
}
