//! Where no index serves key ranges, a later level of a comparison still
//! reads only part of the slice: the heap blocks that held its buckets'
//! rows when the first level counted them.
//!
//! The first level's checksum query also answers, per bucket, where its
//! rows lie: the table is cut into [`ZONES`] zones of blocks, and for each
//! zone holding rows of the bucket, the lowest and highest block of them
//! (eight bytes per span, two more per bucket for their number). A bucket
//! of a table stored roughly in key order (serial ids, document numbers:
//! most ERP tables) has one span of a few blocks; a row updated or inserted
//! since the load, somewhere else in the table, adds a span of one block
//! instead of stretching the bucket's over the table. A bucket with more
//! than [`MAX_SPANS`] spans answers one, from its lowest block to its
//! highest.
//!
//! Every later bucket lies inside one first-level bucket
//! ([`Buckets::origin`]), so its rows lie inside that bucket's spans; a
//! level reads the differing buckets' spans by TID range scans (PostgreSQL
//! 14 and later) and keeps the wanted buckets' rows as before: a few
//! percent of the table's blocks per level instead of all of them. Where
//! the spans to read are more than half the table's blocks (keys stored in
//! no order, such as random uuids), the slice is scanned as before.
//!
//! The blocks stay right for as long as the comparison runs: the source
//! reads one snapshot, in which a row version keeps its place; the target
//! writes only rows of buckets already settled, and rows that moved
//! elsewhere belong to no wanted bucket. A table cannot be rewritten
//! (`VACUUM FULL`, `CLUSTER`) under either transaction's lock.

use super::slice::Slice;
use crate::driver::checksum::Buckets;

/// Per first-level bucket, the spans of blocks that hold its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Blocks {
    /// Bucket `b`'s spans are `spans[first[b]..first[b + 1]]`.
    first: Vec<u32>,
    /// (lowest block, highest block), bucket after bucket.
    spans: Vec<(u32, u32)>,
    /// The table's size in blocks when the first level began.
    size: u32,
}

/// Zones of blocks a first level tells a bucket's spans apart by.
pub(super) const ZONES: u32 = 64;

/// Spans a bucket answers at most; a bucket with more answers one.
pub(super) const MAX_SPANS: u32 = 4;

/// Gaps of up to this many blocks between two wanted spans are read
/// through rather than cut into another range scan.
const GAP_BLOCKS: u32 = 8;

/// A table's size in blocks (its largest partition's, for a partitioned
/// table: TIDs number each partition's blocks apart).
pub(super) const TABLE_BLOCKS_SQL: &str = "SELECT greatest(pg_relation_size(to_regclass($1)), \
     coalesce((SELECT max(pg_relation_size(p.relid)) FROM pg_partition_tree(to_regclass($1)) p \
     WHERE p.isleaf), 0)) / current_setting('block_size')::int8";

impl Blocks {
    /// The first block of each zone but the first, as TIDs (the `tid[]`
    /// parameter of [`checksums_sql`]).
    pub(super) fn zone_starts(size: u32) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut last = 0u64;
        for z in 1..u64::from(ZONES) {
            let at = z * u64::from(size) / u64::from(ZONES);
            if at > last {
                out.push(format!("({at},0)"));
                last = at;
            }
        }
        out
    }

    /// From the first level's answers, (bucket, its spans), in bucket
    /// order.
    pub(super) fn new(
        size: u32,
        answers: impl IntoIterator<Item = (u32, Vec<(u32, u32)>)>,
    ) -> Blocks {
        let mut b = Blocks {
            first: vec![0],
            spans: Vec::new(),
            size,
        };
        for (bucket, spans) in answers {
            let upto = bucket as usize + 1;
            while b.first.len() < upto {
                b.first.push(b.spans.len() as u32);
            }
            b.spans.extend(spans);
            b.first.push(b.spans.len() as u32);
        }
        b
    }

    fn spans_of(&self, bucket: usize) -> &[(u32, u32)] {
        match (self.first.get(bucket), self.first.get(bucket + 1)) {
            (Some(&a), Some(&z)) => &self.spans[a as usize..z as usize],
            _ => &[],
        }
    }

    /// Whether the rows of a bucket tend to lie together: the first
    /// level's spans, summed, cover the table at most twice over.
    pub(super) fn clustered(&self) -> bool {
        let covered: u64 = self
            .spans
            .iter()
            .map(|&(a, z)| u64::from(z.saturating_sub(a)) + 1)
            .sum();
        covered <= 2 * u64::from(self.size.max(1))
    }

    /// The blocks to read for the wanted buckets of `level`, as inclusive
    /// ranges (lowest, highest): `None` when they are more than half the
    /// table's blocks, or a wanted bucket lies in no first-level bucket.
    pub(super) fn ranges(&self, level: &Buckets) -> Option<(Vec<i64>, Vec<i64>)> {
        let mut spans = Vec::with_capacity(level.wanted.len());
        for &w in &level.wanted {
            // A bucket with no rows at the first level has none now.
            spans.extend_from_slice(self.spans_of(level.first_level_of(w)? as usize));
        }
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
            .map(|&(a, z)| u64::from(z.saturating_sub(a)) + 1)
            .sum();
        if 2 * read > u64::from(self.size) {
            return None;
        }
        Some(
            merged
                .into_iter()
                .map(|(a, z)| (i64::from(a), i64::from(z)))
                .unzip(),
        )
    }
}

/// The first level's checksum query where it also answers spans (see the
/// module documentation): per bucket `int4` bucket, `int8` rows, the
/// 16-byte digest, `int2` spans, then per span two `int4` blocks offset by
/// 2³¹ ([`block_of`]). The digest is the one
/// [`super::checksum`]'s plain query answers: per zone sums, added up.
/// `row` is the row text of `s`, `scan` the level's rows with
/// [`super::slice::TID`], `zones` the `tid[]` parameter.
pub(super) fn checksums_sql(row: &str, scan: &str, zones: usize, seeds: (i64, i64)) -> String {
    use super::slice::{BUCKET, TID};
    let block = |f: &str| format!("((({f}(c))::text::point)[0] - 2147483648)::int4");
    format!(
        "SELECT coalesce(string_agg(int4send(b) || int8send(n) || d || int2send(k) || p, ''::bytea ORDER BY b), ''::bytea) FROM (\
         SELECT b, sum(n)::int8 AS n, \
         decode(md5(sum(n)::text || ':' || sum(h1)::text || ':' || sum(h2)::text), 'hex') AS d, \
         CASE WHEN count(*) <= {MAX_SPANS} THEN count(*) ELSE 1 END::int2 AS k, \
         CASE WHEN count(*) <= {MAX_SPANS} THEN string_agg(int4send(lo) || int4send(hi), ''::bytea ORDER BY lo) \
         ELSE int4send(min(lo)) || int4send(max(hi)) END AS p \
         FROM (SELECT b, z, count(*) AS n, sum(hashtextextended(r, {})) AS h1, \
         sum(hashtextextended(r, {})) AS h2, {} AS lo, {} AS hi \
         FROM (SELECT t.{BUCKET} AS b, width_bucket(t.{TID}, ${zones}::text[]::tid[]) AS z, t.{TID} AS c, \
         {row} AS r FROM {scan} OFFSET 0) s GROUP BY b, z) g GROUP BY b) h",
        seeds.0,
        seeds.1,
        block("min"),
        block("max"),
    )
}

/// One bucket of [`checksums_sql`]'s answer: its 28 bytes of checksum and
/// its spans of blocks, (lowest, highest).
type BucketAnswer = ([u8; 28], Vec<(u32, u32)>);

/// Reads [`checksums_sql`]'s answer: each bucket's 28 bytes of checksum,
/// and its spans.
pub(super) fn read_answer(packed: &[u8]) -> Option<Vec<BucketAnswer>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < packed.len() {
        let sum: [u8; 28] = packed.get(at..at + 28)?.try_into().ok()?;
        let k = i16::from_be_bytes(packed.get(at + 28..at + 30)?.try_into().ok()?);
        at += 30;
        let mut spans = Vec::with_capacity(k.max(0) as usize);
        for _ in 0..k {
            let lo = block_of(packed.get(at..at + 4)?.try_into().ok()?);
            let hi = block_of(packed.get(at + 4..at + 8)?.try_into().ok()?);
            spans.push((lo, hi));
            at += 8;
        }
        out.push((sum, spans));
    }
    Some(out)
}

/// A block number as [`checksums_sql`] sends it.
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
    fn wanted_buckets_read_their_first_level_spans_merged() {
        // Four first-level buckets of a 1000-block table; bucket 1 has a
        // row updated into block 990, bucket 2 one in block 100.
        let b = Blocks::new(
            1000,
            [
                (0, vec![(0, 199)]),
                (1, vec![(200, 399), (990, 990)]),
                (2, vec![(100, 100), (400, 599)]),
                (3, vec![(850, 895)]),
            ],
        );
        assert!(b.clustered());
        // Children of buckets 1 and 3 (gaps between them): bucket 1's
        // moved row is read alone.
        let l = level(vec![1, 2, 4, 5], vec![NO_ORIGIN, 1, 1, NO_ORIGIN, 3, 3]);
        assert_eq!(
            b.ranges(&l),
            Some((vec![200, 850, 990], vec![399, 895, 990]))
        );
        // Spans within a few blocks of each other read as one.
        let l = level(vec![1, 2], vec![NO_ORIGIN, 0, 2, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), Some((vec![0, 400], vec![199, 599])));
        // More than half the blocks: scan instead.
        let l = level(vec![0, 1, 2], vec![0, 1, 2, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), None);
        // A bucket outside every first-level one: scan.
        let l = level(vec![0], vec![NO_ORIGIN, 1, 1, 1]);
        assert_eq!(b.ranges(&l), None);
    }

    #[test]
    fn a_bucket_empty_at_the_first_level_reads_nothing() {
        let b = Blocks::new(
            100,
            [(0, vec![(0, 9)]), (2, vec![(10, 19)]), (3, vec![(20, 99)])],
        );
        let l = level(vec![1, 2], vec![NO_ORIGIN, 1, 2, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), Some((vec![10], vec![19])));
        let l = level(vec![1], vec![NO_ORIGIN, 1, NO_ORIGIN, NO_ORIGIN]);
        assert_eq!(b.ranges(&l), Some((vec![], vec![])));
    }

    #[test]
    fn scattered_rows_are_not_clustered() {
        let b = Blocks::new(
            110,
            [
                (0, vec![(0, 99)]),
                (1, vec![(1, 98)]),
                (2, vec![(2, 99)]),
                (3, vec![(0, 97)]),
            ],
        );
        assert!(!b.clustered());
        let l = level(vec![1], vec![0, 1, 2, 3]);
        assert_eq!(b.ranges(&l), None);
    }

    #[test]
    fn zones_start_where_the_table_is_cut() {
        assert_eq!(Blocks::zone_starts(0), Vec::<String>::new());
        assert_eq!(Blocks::zone_starts(3), vec!["(1,0)", "(2,0)"]);
        let z = Blocks::zone_starts(6400);
        assert_eq!(z.len(), ZONES as usize - 1);
        assert_eq!((z[0].as_str(), z[62].as_str()), ("(100,0)", "(6300,0)"));
    }

    #[test]
    fn answers_are_read_span_by_span() {
        let sent = |n: u32| ((i64::from(n) - 2_147_483_648) as i32).to_be_bytes();
        let mut packed = Vec::new();
        for (bucket, spans) in [(0u32, vec![(5u32, 9u32)]), (3, vec![(1, 2), (7, 7)])] {
            packed.extend((bucket as i32).to_be_bytes());
            packed.extend([0u8; 24]);
            packed.extend((spans.len() as i16).to_be_bytes());
            for (lo, hi) in spans {
                packed.extend(sent(lo));
                packed.extend(sent(hi));
            }
        }
        let read = read_answer(&packed).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].1, vec![(1, 2), (7, 7)]);
        assert_eq!(read_answer(&packed[..packed.len() - 1]), None, "cut short");
    }

    #[test]
    fn block_numbers_cross_as_offset_int4() {
        for n in [0u32, 1, 2_147_483_647, 2_147_483_648, u32::MAX - 1] {
            let sent = ((i64::from(n) - 2_147_483_648) as i32).to_be_bytes();
            assert_eq!(block_of(sent), n);
        }
    }
}
