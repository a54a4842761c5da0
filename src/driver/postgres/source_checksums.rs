//! A PostgreSQL source's range checksums (capability `range_checksums`):
//! one read-only snapshot with pinned text output, NULL-key rows rejected
//! first, then [`PgChecksums`] over the table until the value is dropped.

use super::checksum::{PgChecksums, CANONICAL_SETTINGS};
use super::ident::{quote_ident, quote_table};
use super::schema::DEFAULT_SCHEMA;
use super::slice::Slice;
use super::source::{nullable_keys, PgSource};
use crate::driver::checksum::{BucketSum, Buckets, CanonRow, KeyText, Parent, RangeChecksums};
use crate::driver::{ChecksumDialect, LinkBytes, ReadRequest, RejectSink, Result};

/// Opens the snapshot, or `None` for another dialect.
pub fn open<'s>(
    src: &'s mut PgSource,
    req: &ReadRequest,
    dialect: ChecksumDialect,
    rejects: &mut dyn RejectSink,
) -> Result<Option<Box<dyn RangeChecksums + 's>>> {
    if dialect != super::ROW_TEXT_HASH {
        return Ok(None);
    }
    let table = quote_table(req.schema.unwrap_or(DEFAULT_SCHEMA), req.table);
    let doing = format!("comparing {table}");
    let opened = src.session.link_bytes();
    src.session.check_cancelled(&doing)?;
    if !super::checksum::hashes_rows(&mut src.session, &doing)? {
        log::info!("{table}: the branch's PostgreSQL is older than 11; mirror streams the whole table instead of comparing checksums");
        return Ok(None);
    }
    src.session
        .exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &doing)?;
    match open_checksums(src, req, &table, &doing, rejects) {
        Ok(slice) => Ok(Some(Box::new(Snapshot {
            sums: PgChecksums::new(&mut src.session, slice, doing),
            opened,
        }))),
        Err(e) => {
            src.session.rollback();
            Err(e)
        }
    }
}

/// Inside the snapshot: pinned text output, NULL keys rejected, the slice.
fn open_checksums(
    src: &mut PgSource,
    req: &ReadRequest,
    table: &str,
    doing: &str,
    rejects: &mut dyn RejectSink,
) -> Result<Slice> {
    src.session.exec(CANONICAL_SETTINGS, doing)?;
    let nullable_keys = nullable_keys(req);
    if !nullable_keys.is_empty() {
        src.send_rejects(req, &nullable_keys, table, None, rejects)?;
    }
    let filter = req
        .key
        .iter()
        .map(|k| format!("t.{} IS NOT NULL", quote_ident(k)))
        .collect();
    Slice::new(table.to_owned(), filter, req.columns, req.key, None)
}

/// A source's checksums in its snapshot; dropping it ends the snapshot.
struct Snapshot<'s> {
    sums: PgChecksums<'s>,
    /// The link's counters before the snapshot opened.
    opened: Option<LinkBytes>,
}

impl Drop for Snapshot<'_> {
    fn drop(&mut self) {
        // Read-only: nothing to keep, and a failed read left it aborted.
        self.sums.session.rollback();
    }
}

impl RangeChecksums for Snapshot<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>> {
        self.sums.checksums(level)
    }

    fn split(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        self.sums.split(level, parents)
    }

    fn first_bounds(&mut self, bucket_rows: u64) -> Result<Vec<KeyText>> {
        self.sums.first_bounds(bucket_rows)
    }

    fn rows(
        &mut self,
        level: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<()>,
    ) -> Result<()> {
        self.sums.rows(level, each)
    }

    fn key_positions(&self) -> &[usize] {
        self.sums.key_positions()
    }

    fn scans_each_level(&self) -> bool {
        self.sums.scans_each_level()
    }

    fn link_bytes(&self) -> Option<LinkBytes> {
        Some(self.sums.session.link_bytes()?.since(self.opened?))
    }
}
