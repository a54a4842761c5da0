//! The range-checksum capability behind `mode = "mirror"`: what a driver
//! implements so that a source and a target can find their differing rows
//! without either side's rows crossing a link.
//!
//! A *level* of the search is a sorted list of key boundaries `b1 < … < bm`
//! cutting the whole key space into `m + 1` buckets: bucket 0 holds the keys
//! below `b1`, bucket `i` the keys in `[b_i, b_{i+1})`, bucket `m` the keys
//! at or above `bm`. Boundaries come from the source (sampled from its keys,
//! or computed arithmetically for integer keys), so both sides bucket every
//! row by the same rule; keys compare in a byte order (`COLLATE "C"` in
//! PostgreSQL) that does not depend on either server's locale.
//!
//! A side answers, per wanted bucket, its row count and a 128-bit digest of
//! an order-independent sum of per-row hashes of a canonical row text. Two
//! equal answers mean the bucket is the same on both sides; the algorithm in
//! [`super::mirror`] splits the others until they are small, then compares
//! their rows by key and value (never by hash, so a collision cannot hide a
//! change).
//!
//! Keys and values travel as the dialect's canonical text of the *source's*
//! column types: a target compares its columns cast to the source's types.

use super::{LinkBytes, Result};

/// One key, as canonical text per key column (in key-column order).
pub type KeyText = Vec<String>;

/// One level of the search: boundaries and the buckets to look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buckets {
    /// Sorted, distinct boundaries (see the module documentation).
    pub bounds: Vec<KeyText>,
    /// Bucket numbers to look at, ascending (`0..=bounds.len()`).
    pub wanted: Vec<u32>,
    /// Per bucket number, the first level's bucket that holds it (a side
    /// may remember where that bucket's rows lie); empty at the first
    /// level, where each bucket is its own. Buckets between a later level's
    /// wanted ones hold [`NO_ORIGIN`].
    pub origin: Vec<u32>,
}

/// [`Buckets::origin`] of a bucket no first-level bucket holds whole.
pub const NO_ORIGIN: u32 = u32::MAX;

impl Buckets {
    /// The whole key space as one bucket.
    pub fn whole() -> Buckets {
        Buckets {
            bounds: Vec::new(),
            wanted: vec![0],
            origin: Vec::new(),
        }
    }

    /// The wanted buckets (ascending) with only the boundaries around
    /// them, numbered anew; the gaps between them are buckets not wanted.
    /// The `i`-th wanted bucket here is `wanted[i]`. A query about a few
    /// buckets of a level then carries their boundaries, not the level's.
    pub fn compact(&self, wanted: &[u32]) -> Buckets {
        let mut out = Buckets::default();
        for &w in wanted {
            let i = w as usize;
            if i > 0 {
                let lo = &self.bounds[i - 1];
                if out.bounds.last() != Some(lo) {
                    out.bounds.push(lo.clone());
                }
            }
            let n = out.bounds.len();
            out.wanted.push(n as u32);
            out.origin.resize(n, NO_ORIGIN);
            out.origin.push(self.first_level_of(w).unwrap_or(NO_ORIGIN));
            if let Some(hi) = self.bounds.get(i) {
                out.bounds.push(hi.clone());
            }
        }
        out.origin.resize(out.bounds.len() + 1, NO_ORIGIN);
        out
    }

    /// The first level's bucket that holds bucket `b` of this level.
    pub fn first_level_of(&self, b: u32) -> Option<u32> {
        if self.origin.is_empty() {
            return Some(b);
        }
        self.origin
            .get(b as usize)
            .copied()
            .filter(|&o| o != NO_ORIGIN)
    }
}

/// The checksum of one bucket on one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketSum {
    pub bucket: u32,
    /// Rows in the bucket.
    pub rows: u64,
    /// A 128-bit digest of (rows, the sums of both 64-bit halves of every
    /// row's 128-bit hash). The sums are exact (no overflow), so the digest
    /// does not depend on row order.
    pub digest: [u8; 16],
}

/// One row of a bucket, as canonical text in the read's column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonRow {
    pub bucket: u32,
    /// `None` is SQL NULL (distinct from the empty string).
    pub values: Vec<Option<String>>,
}

/// A source parent bucket to split: its number, its source row count, and
/// the number of parts to cut it into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parent {
    pub bucket: u32,
    pub rows: u64,
    pub parts: u32,
}

/// Range checksums over one table slice, inside one snapshot (a source) or
/// one write transaction (a target). Every call is one query (or a few) on
/// the server, whatever the number of buckets.
pub trait RangeChecksums: Send {
    /// Checksums of the wanted buckets that hold rows, by bucket number;
    /// buckets without rows are left out.
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>>;
    /// Boundaries cutting each parent bucket of `level` into about its
    /// `parts` parts of similar row counts: for each parent, in order, its new
    /// inner boundaries, sorted, strictly inside the bucket (possibly none).
    /// Only asked of a source.
    fn split(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>>;
    /// Boundaries cutting the whole slice into buckets of about
    /// `bucket_rows` rows each, sorted and distinct: the first level of the
    /// search. Only asked of a source; the default is one bucket.
    fn first_bounds(&mut self, _bucket_rows: u64) -> Result<Vec<KeyText>> {
        Ok(Vec::new())
    }
    /// The rows of the wanted buckets, ordered by bucket.
    fn rows(&mut self, level: &Buckets, each: &mut dyn FnMut(CanonRow) -> Result<()>)
        -> Result<()>;
    /// Positions of the key columns among the row's values.
    fn key_positions(&self) -> &[usize];
    /// Whether this side reads each level after the first by a scan of the
    /// whole slice (no index serves its key ranges). Known after the first
    /// level's checksums.
    fn scans_each_level(&self) -> bool {
        false
    }
    /// What this side's link has carried since it opened (its snapshot,
    /// for a source), counted on the socket; `None` when the driver does
    /// not count.
    fn link_bytes(&self) -> Option<LinkBytes> {
        None
    }
}

/// A target's side of a mirror: its checksums plus the writes that make its
/// slice equal to the source's, all inside its write transaction.
pub trait MirrorTarget: RangeChecksums {
    /// Insert or update these source rows (canonical text, the read's
    /// column order); returns the rows written.
    fn upsert(&mut self, rows: &[Vec<Option<String>>]) -> Result<u64>;
    /// Delete the rows with these keys; returns the rows deleted.
    fn delete_keys(&mut self, keys: &[KeyText]) -> Result<u64>;
    /// Delete every row of the wanted buckets; returns the rows deleted.
    fn delete_buckets(&mut self, level: &Buckets) -> Result<u64>;
}
