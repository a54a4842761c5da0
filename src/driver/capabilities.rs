//! What a driver can do beyond the required trait methods, and what a
//! (source, target) pair agrees on before any data moves.
//!
//! - **Raw passthrough** ([`RawFormat`]): a source that can produce a raw
//!   stream format (PostgreSQL's binary COPY is the one today) offers it to
//!   the sink with [`RowSink::raw`]; a sink that loads exactly that format
//!   for exactly the source's column types answers with a writer, and the
//!   bytes pass through untouched (but for a branch field the target adds).
//!   Any other answer means rows. The offer is made per stream, so the
//!   target decides with the real column types in hand; [`negotiate`] tells
//!   the engine (and `check`) beforehand whether a pair can ever agree.
//! - **Range checksums** ([`ChecksumDialect`], [`checksum`]): for
//!   `mode = "mirror"`, a source session that computes per-key-range
//!   checksums server-side ([`Source::range_checksums`]) and a target whose
//!   [`Target::mirror`] does the same in the same dialect reconcile by
//!   bisection, so only differing ranges cross the links. Dialects must match
//!   exactly: two checksums are comparable only when both sides hash the
//!   same canonical row text with the same function. A pair without a common
//!   dialect mirrors through [`Target::write`] instead: the whole source
//!   stream, key-ordered, with the target deleting the keys it did not see.
//! - **Snapshot reads**: a source whose `read` sees one consistent snapshot
//!   of its table, as §5 of the spec asks. A driver that cannot promise it
//!   says so, and the engine warns once per run.
//!
//! [`RowSink::raw`]: super::RowSink::raw
//! [`checksum`]: super::checksum
//! [`Source::range_checksums`]: super::Source::range_checksums
//! [`Target::mirror`]: super::Target::mirror
//! [`Target::write`]: super::Target::write

/// A raw stream format that one driver's source can produce and another's
/// target can load without decoding (the name identifies the format).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawFormat(pub &'static str);

/// A family of range checksums: two sides' checksums are comparable only
/// when both name the same dialect (same canonical row text, same hash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChecksumDialect(pub &'static str);

/// What a driver can do beyond the required trait methods. The default is
/// nothing optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Raw formats its source can produce and its target can load.
    pub raw_formats: &'static [RawFormat],
    /// The dialect of its server-side range checksums, when it has them.
    pub range_checksums: Option<ChecksumDialect>,
    /// Its source reads a table in one consistent snapshot.
    pub snapshot_reads: bool,
}

/// What a (source, target) pair agreed on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pairing {
    /// A raw format both know: streams may pass through untouched (the
    /// target still checks the column types per stream).
    pub passthrough: Option<RawFormat>,
    /// A checksum dialect both compute: `mirror` bisects by range checksums.
    pub checksums: Option<ChecksumDialect>,
}

/// The capabilities a source and a target share.
pub fn negotiate(source: &Capabilities, target: &Capabilities) -> Pairing {
    Pairing {
        passthrough: source
            .raw_formats
            .iter()
            .find(|f| target.raw_formats.contains(f))
            .copied(),
        checksums: source
            .range_checksums
            .filter(|d| target.range_checksums == Some(*d)),
    }
}
