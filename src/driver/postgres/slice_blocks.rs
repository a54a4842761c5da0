//! Where no index serves key ranges, a later level of a comparison still
//! reads only part of the slice: the heap blocks that held its buckets'
//! rows when the first level counted them.
//!
//! Before the first level a side notes the table's size in blocks, and
//! calls its last tenth the *tail* (where rows updated or inserted since
//! the table was loaded mostly land). The first level's checksum query
//! also answers, per bucket, the lowest and highest block of its rows
//! outside the tail (`ctid`: eight bytes more per bucket). Every later
//! bucket lies inside one first-level bucket ([`Buckets::origin`]), so its
//! rows lie inside that bucket's blocks or in the tail; a level reads
//! those blocks by TID range scans (PostgreSQL 14 and later) and keeps the
//! wanted buckets' rows as before. A table stored roughly in key order
//! (serial ids, document numbers: most ERP tables) then reads a few
//! percent of its blocks per level instead of all of them; where the
//! blocks to read are more than half the table's, the slice is scanned as
//! before.
//!
//! The blocks stay right for as long as the comparison runs: the source
//! reads one snapshot, in which a row version keeps its place; the target
//! writes only rows of buckets already settled, and rows that moved
//! elsewhere belong to no wanted bucket. A table cannot be rewritten
//! (`VACUUM FULL`, `CLUSTER`) under either transaction's lock.

use super::slice::Slice;
use crate::driver::checksum::Buckets;

/// Per first-level bucket, the lowest and highest block of its rows
/// outside the tail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Blocks {
    /// Indexed by first-level bucket number; `None` where it had no rows
    /// outside the tail.
    spans: Vec<Option<(u32, u32)>>,
    /// The first block of the tail.
    tail: u32,
    /// The table's size in blocks when the first level began.
    size: u32,
}

/// Gaps of up to this many blocks between two wanted spans are read
/// through rather than cut into another range scan.
const GAP_BLOCKS: u32 = 8;

/// The highest block number a TID can hold.
const LAST_BLOCK: i64 = 0xFFFF_FFFE;

/// "No block" in a first level's answer (`InvalidBlockNumber`).
const NO_BLOCK: u32 = u32::MAX;

/// A table's size in blocks (its largest partition's, for a partitioned
/// table: TIDs number each partition's blocks apart).
pub(super) const TABLE_BLOCKS_SQL: &str = "SELECT greatest(pg_relation_size(to_regclass($1)), \
     coalesce((SELECT max(pg_relation_size(p.relid)) FROM pg_partition_tree(to_regclass($1)) p \
     WHERE p.isleaf), 0)) / current_setting('block_size')::int8";

impl Blocks {
    /// Where a table of `size` blocks starts its tail.
    pub(super) fn tail_of(size: u32) -> u32 {
        size - size / 10
    }

    /// From the first level's answers, (bucket, lowest block, highest),
    /// [`NO_BLOCK`] for a bucket whose rows are all in the tail.
    pub(super) fn new(size: u32, answers: impl IntoIterator<Item = (u32, u32, u32)>) -> Blocks {
        let mut b = Blocks {
            spans: Vec::new(),
            tail: Blocks::tail_of(size),
            size,
        };
        for (bucket, lo, hi) in answers {
            let i = bucket as usize;
            if b.spans.len() <= i {
                b.spans.resize(i + 1, None);
            }
            if lo != NO_BLOCK && hi != NO_BLOCK {
                b.spans[i] = Some((lo, hi));
            }
        }
        b
    }

    /// Whether the rows of a bucket tend to lie together: the first
    /// level's spans, summed, cover the blocks before the tail at most
    /// twice over.
    pub(super) fn clustered(&self) -> bool {
        let covered: u64 = self
            .spans
            .iter()
            .flatten()
            .map(|&(a, z)| u64::from(z - a) + 1)
            .sum();
        covered <= 2 * u64::from(self.tail.max(1))
    }

    /// The blocks to read for the wanted buckets of `level`, as inclusive
    /// ranges (lowest, highest), the tail always among them: `None` when
    /// they are more than half the table's blocks, or a wanted bucket lies
    /// in no first-level bucket.
    pub(super) fn ranges(&self, level: &Buckets) -> Option<(Vec<i64>, Vec<i64>)> {
        let mut spans = Vec::with_capacity(level.wanted.len() + 1);
        for &w in &level.wanted {
            let first = level.first_level_of(w)? as usize;
            // A bucket with no rows before the tail at the first level has
            // none there now.
            if let Some(span) = self.spans.get(first).copied().flatten() {
                spans.push(span);
            }
        }
        spans.push((self.tail, NO_BLOCK - 1));
        spans.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(spans.len());
        for (a, z) in spans {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(GAP_BLOCKS + 1) => last.1 = last.1.max(z),
                _ => merged.push((a, z)),
            }
        }
        let read: u64 = merged
            .iter()
            .map(|&(a, z)| u64::from(z.min(self.size.max(1) - 1).max(a) - a) + 1)
            .sum();
        if 2 * read > u64::from(self.size) {
            return None;
        }
        Some(
            merged
                .into_iter()
                .map(|(a, z)| (i64::from(a), i64::from(z).min(LAST_BLOCK)))
                .unzip(),
        )
    }
}

/// The lowest and highest block of a group's rows (`ctid` in column
/// `tid`) before block `tail`, as eight bytes: two `int4` offset by 2³¹
/// (see [`block_of`]), [`NO_BLOCK`] when every row is in the tail.
pub(super) fn blocks_sql(tid: &str, tail: u32) -> String {
    let end = |f: &str| {
        format!(
            "int4send(coalesce((({f}({tid}) FILTER (WHERE {tid} < '({tail},0)'::tid))::text::point)[0] \
             - 2147483648, 2147483647)::int4)"
        )
    };
    format!("{} || {}", end("min"), end("max"))
}

/// A block number as [`blocks_sql`] sends it.
pub(super) fn block_of(bytes: [u8; 4]) -> u32 {
    (i32::from_be_bytes(bytes) as u32) ^ 0x8000_0000
}

/// Planner settings for a statement that reads blocks: TID range scans
/// only (an index on the branch column would otherwise read the whole
/// slice once per range); put back by [`SCANS_AS_BEFORE`].
pub(super) const TID_SCANS_ONLY: &str = "SET LOCAL enable_seqscan = off; \
     SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; \
     SET LOCAL enable_bitmapscan = off";
pub(super) const SCANS_AS_BEFORE: &str =
    "RESET enable_seqscan; RESET enable_indexscan; RESET enable_indexonlyscan; RESET enable_bitmapscan";

impl Slice {
    /// The block ranges a level reads, when the side knows its blocks.
    pub(super) fn block_ranges(&self, level: &Buckets) -> Option<(Vec<i64>, Vec<i64>)> {
        if level.wanted.len() > level.bounds.len() {
            return None;
        }
        self.blocks.as_ref()?.ranges(level)
    }

    /// The slice's rows in the block ranges numbered `$first` (lowest
    /// blocks) and `$first + 1` (highest), as a `FROM` item's body (`t.*`).
    pub(super) fn block_scan(&self, first: usize) -> String {
        format!(
            "SELECT t.* FROM unnest(${first}::int8[], ${}::int8[]) AS r(lo, hi) \
             CROSS JOIN LATERAL (SELECT t.* FROM {} t{} OFFSET 0) t",
            first + 1,
            self.table,
            self.where_with(&[
                "t.ctid >= format('(%s,0)', r.lo)::tid".to_owned(),
                "t.ctid <= format('(%s,65535)', r.hi)::tid".to_owned(),
            ]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::checksum::NO_ORIGIN;

    fn level(wanted: Vec<u32>, origin: Vec<u32>) -> Buckets {
        Buckets {
            bounds: vec![vec!["x".to_owned()]; origin.len().max(4) - 1],
            wanted,
            origin,
        }
    }

    #[test]
    fn wanted_buckets_read_their_first_level_blocks_merged_and_the_tail() {
        // Four first-level buckets, the last one's rows just before the
        // tail (blocks 900 to 999).
        let b = Blocks::new(
            1000,
            [(0, 0, 199), (1, 200, 399), (2, 400, 599), (3, 850, 895)],
        );
        assert_eq!(b.tail, 900);
        assert!(b.clustered());
        // Children of buckets 1 and 3 (gaps between them): bucket 3's
        // blocks run into the tail's, one range.
        let l = level(vec![1, 2, 4, 5], vec![NO_ORIGIN, 1, 1, NO_ORIGIN, 3, 3]);
        assert_eq!(b.ranges(&l), Some((vec![200, 850], vec![399, LAST_BLOCK])));
        // Adjacent buckets' blocks read as one range: half the table.
        let l = level(vec![1, 2], vec![NO_ORIGIN, 0, 1, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), Some((vec![0, 900], vec![399, LAST_BLOCK])));
        // More than half the blocks: scan instead.
        let l = level(vec![0, 1, 2], vec![0, 1, 2, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), None);
        // A bucket outside every first-level one: scan.
        let l = level(vec![0], vec![NO_ORIGIN, 1, 1, 1]);
        assert_eq!(b.ranges(&l), None);
    }

    #[test]
    fn a_bucket_with_no_rows_before_the_tail_reads_only_the_tail() {
        let b = Blocks::new(
            100,
            [(0, 0, 9), (1, NO_BLOCK, NO_BLOCK), (2, 10, 19), (3, 20, 89)],
        );
        let l = level(vec![1, 2], vec![NO_ORIGIN, 1, 2, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), Some((vec![10, 90], vec![19, LAST_BLOCK])));
    }

    #[test]
    fn scattered_rows_are_not_clustered() {
        let b = Blocks::new(110, [(0, 0, 99), (1, 1, 98), (2, 2, 99), (3, 0, 97)]);
        assert!(!b.clustered());
        let l = level(vec![1], vec![0, 1, 2, 3]);
        assert_eq!(b.ranges(&l), None);
    }

    #[test]
    fn block_numbers_cross_as_offset_int4() {
        for n in [0u32, 1, 2_147_483_647, 2_147_483_648, u32::MAX - 1] {
            let sent = ((i64::from(n) - 2_147_483_648) as i32).to_be_bytes();
            assert_eq!(block_of(sent), n);
        }
    }
}
