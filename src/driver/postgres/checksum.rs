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
use super::slice::BUCKET;
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

/// Integer keys are split arithmetically unless their bucket is this sparse
/// (width per row); then boundaries are sampled like any other key's.
const SPARSE: i128 = 64;

/// Seeds of the two 64-bit halves of a row's hash.
const SEED_HIGH: i64 = 0;
const SEED_LOW: i64 = 0x5bd1_e995;

/// Sampled rows per first-level bucket: enough that boundaries fall near
/// the quantiles, few enough that the sample is a small part of the table.
const SAMPLES_PER_BUCKET: u64 = 4;

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
    span: Option<Option<(i64, i64)>>,
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
    fn know_index(&mut self) -> Result<()> {
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
        self.index_known = true;
        Ok(())
    }

    /// Runs `sql` with the level's parameters (plus `extra` arrays) and hands
    /// each row to `each`.
    fn query(
        &mut self,
        sql: &str,
        level: &Buckets,
        extra: &[&(dyn ToSql + Sync)],
        mut each: impl FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        let owned = self.slice.params(level);
        let mut params: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| p.as_ref()).collect();
        params.extend(extra);
        let ctx = self.session.ctx();
        let doing = &self.doing;
        let mut rows = self
            .session
            .client()
            .query_raw(sql, params)
            .map_err(|e| ctx.pg(&e, doing))?;
        while let Some(row) = rows.next().map_err(|e| ctx.pg(&e, doing))? {
            each(&row)?;
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
        // The mask only: the ranges are a scan's.
        let owned = self.slice.params(level);
        let n = self.slice.wanted_index(level);
        let params: Vec<&(dyn ToSql + Sync)> = owned[..n].iter().map(|p| p.as_ref()).collect();
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

    /// The slice's row count as the statistics know it (counted when they
    /// do not), and whether the relation can be sampled (tables, partitioned
    /// tables and materialized views, not views).
    fn estimate(&mut self) -> Result<(u64, bool)> {
        let r = self.session.client().query_opt(
            "SELECT c.relkind::text, c.reltuples::float8 FROM pg_class c WHERE c.oid = to_regclass($1)",
            &[&self.slice.table],
        );
        let row = r.map_err(|e| self.session.err(&e, &self.doing))?;
        let (kind, tuples) = row.map_or((String::new(), -1.0), |r| (r.get(0), r.get(1)));
        let sampled = matches!(kind.as_str(), "r" | "p" | "m");
        if kind != "p" && tuples >= 1.0 {
            return Ok((tuples as u64, sampled));
        }
        let sql = format!(
            "SELECT count(*) FROM {} t{}",
            self.slice.table,
            self.slice.where_with(&[])
        );
        let r = self.session.client().query_one(sql.as_str(), &[]);
        let n: i64 = r.map_err(|e| self.session.err(&e, &self.doing))?.get(0);
        Ok((n.max(0) as u64, sampled))
    }

    /// First-level boundaries from a row sample: every
    /// [`SAMPLES_PER_BUCKET`]-th key of about `parts × SAMPLES_PER_BUCKET`
    /// sampled rows, in key order, distinct.
    fn sampled_bounds(&mut self, rows: u64, parts: u64) -> Result<Vec<KeyText>> {
        let keys: Vec<String> = self
            .slice
            .key_at
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("({})::text AS k{n}", self.slice.columns[i]))
            .collect();
        let nkeys = keys.len();
        let percent =
            (100.0 * (parts * SAMPLES_PER_BUCKET) as f64 / rows.max(1) as f64).min(100.0) as f32;
        let sql = format!(
            "SELECT {} FROM (SELECT {}, row_number() OVER (ORDER BY {}) AS rn \
             FROM {} AS t TABLESAMPLE BERNOULLI ($1::float4) REPEATABLE (1){}) s \
             WHERE s.rn % $2::int8 = 0 ORDER BY s.rn",
            (0..nkeys)
                .map(|n| format!("s.k{n}"))
                .collect::<Vec<_>>()
                .join(", "),
            keys.join(", "),
            self.slice.order_expr(),
            self.slice.table,
            self.slice.where_with(&[]),
        );
        let every = SAMPLES_PER_BUCKET as i64;
        let r = self
            .session
            .client()
            .query(sql.as_str(), &[&percent, &every]);
        let rows = r.map_err(|e| self.session.err(&e, &self.doing))?;
        let mut out: Vec<KeyText> = Vec::with_capacity(rows.len());
        for row in rows {
            let key: KeyText = (0..nkeys).map(|n| row.get::<_, String>(n)).collect();
            if out.last() != Some(&key) {
                out.push(key);
            }
        }
        Ok(out)
    }

    fn span(&mut self) -> Result<Option<(i64, i64)>> {
        if let Some(s) = self.span {
            return Ok(s);
        }
        let k = &self.slice.columns[self.slice.key_at[0]];
        let sql = format!(
            "SELECT min({k})::int8, max({k})::int8 FROM {} t{}",
            self.slice.table,
            self.slice.where_with(&[])
        );
        let r = self.session.client().query_one(sql.as_str(), &[]);
        let row = r.map_err(|e| self.session.err(&e, &self.doing))?;
        let span = match (row.get::<_, Option<i64>>(0), row.get::<_, Option<i64>>(1)) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        self.span = Some(span);
        Ok(span)
    }

    /// Sampled boundaries: every `step`-th key of each parent's rows.
    fn sample(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        self.know_index()?;
        let wanted: Vec<u32> = parents.iter().map(|p| p.bucket).collect();
        let list: Vec<i32> = wanted.iter().map(|&b| b as i32).collect();
        let sub = level.with_wanted(wanted);
        let keys: Vec<String> = self
            .slice
            .key_at
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("({})::text AS k{n}", self.slice.columns[i]))
            .collect();
        let at = self.slice.next_param(&sub) - 1;
        let key_list: Vec<String> = (0..keys.len()).map(|n| format!("s.k{n}")).collect();
        let sql = format!(
            "SELECT s.b, {} FROM (SELECT t.{BUCKET} AS b, {}, row_number() OVER (PARTITION BY t.{BUCKET} ORDER BY {}) AS rn \
             FROM {}) s JOIN unnest(${}::int4[], ${}::int8[]) AS p(pb, step) ON p.pb = s.b \
             WHERE s.rn > 1 AND (s.rn - 1) % p.step = 0 ORDER BY s.b, s.rn",
            key_list.join(", "),
            keys.join(", "),
            self.slice.order_expr(),
            self.slice.scan(&sub),
            at + 1,
            at + 2,
        );
        let steps: Vec<i64> = parents
            .iter()
            .map(|p| (p.rows.div_ceil(u64::from(p.parts.max(2)))).max(1) as i64)
            .collect();
        let mut out: Vec<Vec<KeyText>> = vec![Vec::new(); parents.len()];
        let index: std::collections::HashMap<u32, usize> = parents
            .iter()
            .enumerate()
            .map(|(i, p)| (p.bucket, i))
            .collect();
        let nkeys = keys.len();
        self.query(&sql, &sub, &[&list, &steps], |row| {
            let b: i32 = row.get(0);
            let key: KeyText = (0..nkeys).map(|n| row.get::<_, String>(n + 1)).collect();
            if let Some(&i) = index.get(&(b as u32)) {
                out[i].push(key);
            }
            Ok(())
        })?;
        Ok(out)
    }
}

impl RangeChecksums for PgChecksums<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>> {
        self.know_index()?;
        // `OFFSET 0` keeps the row text a column of its own: computed once,
        // hashed twice.
        let sql = format!(
            "SELECT coalesce(string_agg(int4send(b) || int8send(n) || d, ''::bytea ORDER BY b), ''::bytea) FROM (\
             SELECT b, count(*) AS n, decode(md5(count(*)::text || ':' || \
             sum(hashtextextended(r, {SEED_HIGH}))::text || ':' || \
             sum(hashtextextended(r, {SEED_LOW}))::text), 'hex') AS d \
             FROM (SELECT t.{BUCKET} AS b, ROW({})::text COLLATE \"C\" AS r FROM {} OFFSET 0) s GROUP BY b) g",
            self.slice.columns.join(", "),
            self.slice.scan(level),
        );
        let mut packed: Vec<u8> = Vec::new();
        self.query(&sql, level, &[], |row| {
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
            .map(|c| BucketSum {
                bucket: i32::from_be_bytes(c[0..4].try_into().expect("4 bytes")) as u32,
                rows: i64::from_be_bytes(c[4..12].try_into().expect("8 bytes")) as u64,
                digest: c[12..28].try_into().expect("16 bytes"),
            })
            .collect())
    }

    fn split(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        if !self.slice.single_int() {
            return self.sample(level, parents);
        }
        let Some((min, max)) = self.span()? else {
            return Ok(vec![Vec::new(); parents.len()]);
        };
        let bound = |i: usize| -> Result<i128> {
            let text = &level.bounds[i][0];
            text.parse::<i128>().map_err(|_| {
                DriverError::other(format!(
                    "{}: boundary {text:?} is not an integer",
                    self.doing
                ))
            })
        };
        let mut out = vec![Vec::new(); parents.len()];
        let mut sparse = Vec::new();
        for (n, p) in parents.iter().enumerate() {
            let b = p.bucket as usize;
            let lo = if b == 0 {
                i128::from(min)
            } else {
                bound(b - 1)?
            };
            let hi = if b == level.bounds.len() {
                i128::from(max) + 1
            } else {
                bound(b)?
            };
            if hi - lo > SPARSE * i128::from(p.rows.max(1)) {
                sparse.push(n);
                continue;
            }
            let parts = i128::from(p.parts.max(2));
            let step = ((hi - lo) + parts - 1) / parts;
            let step = step.max(1);
            let mut at = lo + step;
            while at < hi {
                out[n].push(vec![at.to_string()]);
                at += step;
            }
        }
        if !sparse.is_empty() {
            let picked: Vec<Parent> = sparse.iter().map(|&n| parents[n]).collect();
            let sampled = self.sample(level, &picked)?;
            for (n, s) in sparse.into_iter().zip(sampled) {
                out[n] = s;
            }
        }
        Ok(out)
    }

    fn first_bounds(&mut self, bucket_rows: u64) -> Result<Vec<KeyText>> {
        let (rows, sampled) = self.estimate()?;
        let parts = rows / bucket_rows.max(1);
        if parts < 2 {
            return Ok(Vec::new());
        }
        if self.slice.single_int() {
            let Some((min, max)) = self.span()? else {
                return Ok(Vec::new());
            };
            let width = i128::from(max) - i128::from(min) + 1;
            if width <= SPARSE * i128::from(rows) {
                let step = (width / i128::from(parts)).max(1);
                let mut out = Vec::new();
                let mut at = i128::from(min) + step;
                while at <= i128::from(max) {
                    out.push(vec![at.to_string()]);
                    at += step;
                }
                return Ok(out);
            }
        }
        if sampled {
            return self.sampled_bounds(rows, parts);
        }
        let whole = Buckets::whole();
        let parent = Parent {
            bucket: 0,
            rows,
            parts: parts.min(u64::from(u32::MAX)) as u32,
        };
        let mut split = self.sample(&whole, &[parent])?;
        Ok(split.pop().unwrap_or_default())
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
        let sql = format!(
            "SELECT t.{BUCKET} AS b, {} FROM {} ORDER BY 1",
            cols.join(", "),
            self.slice.scan(level),
        );
        let n = cols.len();
        self.query(&sql, level, &[], |row| {
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
}
