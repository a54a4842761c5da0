//! Range checksums in PostgreSQL (dialect [`super::ROW_TEXT_HASH`]): the
//! SQL behind [`RangeChecksums`] for one table slice, used by a source
//! inside its read-only snapshot and by a target inside its write
//! transaction.
//!
//! - A row's hash is 128 bits of its record text, `ROW(c1, c2, …)::text`
//!   (which tells NULL from the empty string): `hashtextextended` with two
//!   seeds, the server's own 64-bit hash (PostgreSQL 11 and later). Both
//!   halves are summed per bucket as `numeric` (exact: no overflow, so no
//!   order and no wrap-around collisions), and the bucket's answer is md5
//!   of (count, sum, sum): 28 bytes per bucket, all buckets of a level in
//!   one `bytea`. md5 of every row's text costs about four times as much
//!   server time (11 s against 2.8 s for a million 15-column rows), and the
//!   server time is what a mirror over a fast link waits for.
//! - The hash reads the text as bytes (`COLLATE "C"`), so it does not
//!   depend on either server's locale; it does depend on byte order, so two
//!   servers of different endianness see every bucket differ and compare
//!   rows: slower, never wrong.
//! - Text output is pinned by [`CANONICAL_SETTINGS`] on both sessions.
//! - A target reads its columns cast to the source's types, so both sides
//!   print the same text for the same value.
//! - Buckets come from `width_bucket(key, boundaries)`: text keys compare
//!   under `COLLATE "C"`, composite keys as a record whose text parts are
//!   UTF-8 bytes (byte order, like `"C"`). One scan per level answers every
//!   bucket; only the rows of wanted buckets are hashed.
//! - The first level is cut into buckets of about `leaf × factor` rows at
//!   once ([`RangeChecksums::first_bounds`]): boundaries computed from the
//!   key span (dense integer keys) or sampled (`TABLESAMPLE BERNOULLI`), so
//!   the scans that hash every row happen once per side, not once per level.

use super::endpoint::Session;
pub use super::slice::Slice;
use super::slice::{Read, BUCKET};
use super::slice_blocks::{
    checksums_sql, read_answer, Blocks, SCANS_AS_BEFORE, TABLE_BLOCKS_SQL, TID_SCANS_ONLY,
};
use crate::driver::checksum::{BucketSum, Buckets, CanonRow, KeyText, Parent, RangeChecksums};
use crate::driver::{DriverError, Result};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;

/// Session settings that shape text output, set on both sides; and JIT
/// off: each comparison query is one pass over the rows, and compiling it
/// cost more server time (0.2–0.3 s per million rows) than it saved.
pub const CANONICAL_SETTINGS: &str = "SET LOCAL TimeZone = 'UTC'; \
     SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL extra_float_digits = 3; \
     SET LOCAL bytea_output = 'hex'; SET LOCAL IntervalStyle = 'postgres'; \
     SET LOCAL lc_monetary = 'C'; SET LOCAL jit = off";

/// Join methods off for a statement that must probe an index per key.
const NESTED_LOOP_ONLY: &str = "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off";
const JOINS_AS_BEFORE: &str = "RESET enable_hashjoin; RESET enable_mergejoin";

/// Whether a table's rows have blocks that TID range scans read (a table,
/// partitioned or not, or a materialized view, on PostgreSQL 14 or later):
/// see [`super::slice_blocks`].
const TRACKS_BLOCKS_SQL: &str = "SELECT coalesce((SELECT c.relkind IN ('r', 'p', 'm') \
     FROM pg_class c WHERE c.oid = to_regclass($1)), false) \
     AND current_setting('server_version_num')::int4 >= 140000";

/// Seeds of the two 64-bit halves of a row's hash.
const SEED_HIGH: i64 = 0;
const SEED_LOW: i64 = 0x5bd1_e995;

/// Whether the server has `hashtextextended` (PostgreSQL 11 and later).
pub fn hashes_rows(session: &mut Session, doing: &str) -> Result<bool> {
    let r = session
        .client()
        .query_one("SELECT current_setting('server_version_num')::int4", &[]);
    let version: i32 = r.map_err(|e| session.err(&e, doing))?.get(0);
    Ok(version >= 110_000)
}

/// One side's checksums, on a session inside its transaction.
pub struct PgChecksums<'s> {
    pub session: &'s mut Session,
    pub slice: Slice,
    pub doing: String,
    /// The slice's lowest and highest integer key (source, integer keys).
    pub(super) span: Option<Option<(i64, i64)>>,
    /// Whether the key's indexes have been looked at.
    index_known: bool,
}

impl<'s> PgChecksums<'s> {
    pub fn new(session: &'s mut Session, slice: Slice, doing: String) -> PgChecksums<'s> {
        PgChecksums {
            session,
            slice,
            doing,
            span: None,
            index_known: false,
        }
    }

    /// Looks once for an index that serves key ranges
    /// ([`Slice::index_serves_ranges`]).
    pub(super) fn know_index(&mut self) -> Result<()> {
        if self.index_known {
            return Ok(());
        }
        let r = self
            .session
            .client()
            .query(super::slice_ranges::INDEXES_SQL, &[&self.slice.table]);
        let rows = r.map_err(|e| self.session.err(&e, &self.doing))?;
        let utf8 = match rows.first() {
            Some(r) => r.get::<_, String>(2).eq_ignore_ascii_case("UTF8"),
            None => {
                let r = self
                    .session
                    .client()
                    .query_one("SELECT current_setting('server_encoding')", &[]);
                let e: String = r.map_err(|e| self.session.err(&e, &self.doing))?.get(0);
                e.eq_ignore_ascii_case("UTF8")
            }
        };
        self.slice.utf8 = utf8;
        let indexes: Vec<(Vec<String>, Vec<String>)> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        self.slice.indexed = self.slice.index_serves_ranges(&indexes, utf8);
        if !self.slice.indexed {
            let r = self
                .session
                .client()
                .query_one(TRACKS_BLOCKS_SQL, &[&self.slice.table]);
            let row = r.map_err(|e| self.session.err(&e, &self.doing))?;
            self.slice.tracks_blocks = row.get(0);
        }
        self.index_known = true;
        Ok(())
    }

    /// Runs `sql` with the level's parameters (plus `extra` arrays) and hands
    /// each row to `each`.
    pub(super) fn query(
        &mut self,
        sql: &str,
        level: &Buckets,
        read: &Read,
        extra: &[&(dyn ToSql + Sync)],
        mut each: impl FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        let owned = self.slice.params(level, read);
        let mut params: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| p.as_ref()).collect();
        params.extend(extra);
        let ctx = self.session.ctx();
        let doing = &self.doing;
        let by_blocks = matches!(read, Read::Blocks { .. });
        let client = self.session.client();
        if by_blocks {
            client
                .batch_execute(TID_SCANS_ONLY)
                .map_err(|e| ctx.pg(&e, doing))?;
        }
        let mut rows = client
            .query_raw(sql, params)
            .map_err(|e| ctx.pg(&e, doing))?;
        while let Some(row) = rows.next().map_err(|e| ctx.pg(&e, doing))? {
            each(&row)?;
        }
        drop(rows);
        if by_blocks {
            client
                .batch_execute(SCANS_AS_BEFORE)
                .map_err(|e| ctx.pg(&e, doing))?;
        }
        Ok(())
    }

    /// Deletes every row of the wanted buckets; returns the count.
    pub fn delete_buckets(&mut self, level: &Buckets) -> Result<u64> {
        let bucket = self.slice.bucket_expr(level);
        let sql = format!(
            "DELETE FROM {} AS t{}",
            self.slice.table,
            self.slice.where_with(&[self.slice.wanted(level, &bucket)]),
        );
        // The boundaries and the mask only: the ranges are a scan's.
        let owned = self.slice.level_params(level);
        let params: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| p.as_ref()).collect();
        let r = self.session.client().execute(sql.as_str(), &params);
        r.map_err(|e| self.session.err(&e, &self.doing))
    }

    /// Deletes the rows with these keys; returns the count.
    pub fn delete_keys(&mut self, keys: &[KeyText]) -> Result<u64> {
        let n = self.slice.key_at.len();
        let mut cols: Vec<Vec<String>> = vec![Vec::with_capacity(keys.len()); n];
        for k in keys {
            for (i, v) in k.iter().enumerate() {
                cols[i].push(v.clone());
            }
        }
        let names: Vec<String> = (1..=n).map(|i| format!("c{i}")).collect();
        let params: Vec<String> = (1..=n).map(|i| format!("${i}::text[]")).collect();
        let same: Vec<String> = self
            .slice
            .key_at
            .iter()
            .zip(&self.slice.key_types)
            .zip(&names)
            .map(|((&i, (ty, _)), name)| format!("({}) = d.{name}::{ty}", self.slice.columns[i]))
            .collect();
        let mut conds = self.slice.filter.clone();
        conds.extend(same);
        let sql = format!(
            "DELETE FROM {} AS t USING unnest({}) AS d({}) WHERE {}",
            self.slice.table,
            params.join(", "),
            names.join(", "),
            conds.join(" AND ")
        );
        let p: Vec<&(dyn ToSql + Sync)> = cols.iter().map(|c| c as &(dyn ToSql + Sync)).collect();
        // One index probe per key, whatever the statistics say: a slice
        // copied moments ago may not be analyzed yet, and the planner then
        // sorts the whole slice for a merge join (a second per million
        // rows to delete a few hundred). The settings are put back at once.
        let client = self.session.client();
        let r = client
            .batch_execute(NESTED_LOOP_ONLY)
            .and_then(|()| client.execute(sql.as_str(), &p));
        let put_back = client.batch_execute(JOINS_AS_BEFORE);
        let n = r.map_err(|e| self.session.err(&e, &self.doing))?;
        put_back.map_err(|e| self.session.err(&e, &self.doing))?;
        Ok(n)
    }
}

impl PgChecksums<'_> {
    /// A row of `t` as the text both sides hash.
    fn row_text(&self) -> String {
        format!("ROW({})::text COLLATE \"C\"", self.slice.columns.join(", "))
    }

    /// The first level's checksums with where each bucket's rows lie
    /// ([`super::slice_blocks`]).
    fn first_checksums(&mut self, level: &Buckets, read: &Read) -> Result<Vec<BucketSum>> {
        let r = self
            .session
            .client()
            .query_one(TABLE_BLOCKS_SQL, &[&self.slice.table]);
        let n: i64 = r.map_err(|e| self.session.err(&e, &self.doing))?.get(0);
        let size = n.clamp(0, i64::from(u32::MAX - 1)) as u32;
        let sql = checksums_sql(
            &self.row_text(),
            &self.slice.scan(level, read),
            self.slice.next_param(level, read),
            (SEED_HIGH, SEED_LOW),
        );
        let zones = Blocks::zone_starts(size);
        let mut packed: Vec<u8> = Vec::new();
        self.query(&sql, level, read, &[&zones], |row| {
            packed = row.get(0);
            Ok(())
        })?;
        let answer = read_answer(&packed).ok_or_else(|| {
            DriverError::other(format!(
                "{}: checksums of {} bytes that do not read as buckets and spans",
                self.doing,
                packed.len()
            ))
        })?;
        let sums: Vec<BucketSum> = answer.iter().map(|(c, _)| bucket_sum(c)).collect();
        self.slice.blocks = Some(Blocks::new(
            size,
            sums.iter()
                .zip(answer)
                .map(|(s, (_, spans))| (s.bucket, spans)),
        ));
        Ok(sums)
    }
}

/// A bucket's checksum from its 28 bytes: `int4` bucket, `int8` rows, the
/// 16-byte digest.
fn bucket_sum(c: &[u8; 28]) -> BucketSum {
    BucketSum {
        bucket: i32::from_be_bytes(c[0..4].try_into().expect("4 bytes")) as u32,
        rows: i64::from_be_bytes(c[4..12].try_into().expect("8 bytes")) as u64,
        digest: c[12..28].try_into().expect("16 bytes"),
    }
}

impl RangeChecksums for PgChecksums<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>> {
        self.know_index()?;
        // The first level also answers where each bucket's rows lie, where
        // later levels would otherwise scan the slice.
        let read = self.slice.read(level);
        if read == Read::Whole && level.origin.is_empty() && self.slice.tracks_blocks {
            return self.first_checksums(level, &read);
        }
        // `OFFSET 0` keeps the row text a column of its own: computed once,
        // hashed twice.
        let sql = format!(
            "SELECT coalesce(string_agg(int4send(b) || int8send(n) || d, ''::bytea ORDER BY b), ''::bytea) FROM (\
             SELECT b, count(*) AS n, decode(md5(count(*)::text || ':' || \
             sum(hashtextextended(r, {SEED_HIGH}))::text || ':' || \
             sum(hashtextextended(r, {SEED_LOW}))::text), 'hex') AS d \
             FROM (SELECT t.{BUCKET} AS b, {} AS r FROM {} OFFSET 0) s GROUP BY b) g",
            self.row_text(),
            self.slice.scan(level, &read),
        );
        let mut packed: Vec<u8> = Vec::new();
        self.query(&sql, level, &read, &[], |row| {
            packed = row.get(0);
            Ok(())
        })?;
        if !packed.len().is_multiple_of(28) {
            return Err(DriverError::other(format!(
                "{}: checksums of {} bytes, not a multiple of 28",
                self.doing,
                packed.len()
            )));
        }
        Ok(packed
            .chunks_exact(28)
            .map(|c| bucket_sum(c.try_into().expect("28 bytes")))
            .collect())
    }

    fn split(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        self.split_parents(level, parents)
    }

    fn first_bounds(&mut self, bucket_rows: u64) -> Result<Vec<KeyText>> {
        self.first_level(bucket_rows)
    }

    fn rows(
        &mut self,
        level: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<()>,
    ) -> Result<()> {
        self.know_index()?;
        let cols: Vec<String> = self
            .slice
            .columns
            .iter()
            .map(|c| format!("({c})::text"))
            .collect();
        let read = self.slice.read(level);
        let sql = format!(
            "SELECT t.{BUCKET} AS b, {} FROM {} ORDER BY 1",
            cols.join(", "),
            self.slice.scan(level, &read),
        );
        let n = cols.len();
        self.query(&sql, level, &read, &[], |row| {
            let b: i32 = row.get(0);
            let values = (0..n)
                .map(|i| row.get::<_, Option<String>>(i + 1))
                .collect();
            each(CanonRow {
                bucket: b as u32,
                values,
            })
        })
    }

    fn key_positions(&self) -> &[usize] {
        &self.slice.key_at
    }

    fn scans_each_level(&self) -> bool {
        !self.slice.indexed && !self.slice.blocks.as_ref().is_some_and(Blocks::clustered)
    }
}
