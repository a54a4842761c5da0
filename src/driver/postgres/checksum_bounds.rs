//! Where a PostgreSQL side's buckets are cut: the first level's boundaries
//! (arithmetic on a dense integer key's span, otherwise a `TABLESAMPLE`
//! sample of the keys) and the boundaries of a differing bucket's parts
//! (arithmetic for integer keys, otherwise every n-th key of its rows).

use super::checksum::PgChecksums;
use super::slice::BUCKET;
use crate::driver::checksum::{Buckets, KeyText, Parent};
use crate::driver::{DriverError, Result};

/// Integer keys are split arithmetically unless their bucket is this sparse
/// (width per row); then boundaries are sampled like any other key's.
const SPARSE: i128 = 64;

/// Sampled rows per first-level bucket: enough that boundaries fall near
/// the quantiles, few enough that the sample is a small part of the table.
const SAMPLES_PER_BUCKET: u64 = 4;

impl PgChecksums<'_> {
    /// The key columns as text, named `k0`, `k1`, ….
    fn key_texts(&self) -> Vec<String> {
        self.slice
            .key_at
            .iter()
            .enumerate()
            .map(|(n, &i)| format!("({})::text AS k{n}", self.slice.columns[i]))
            .collect()
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
        let keys = self.key_texts();
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

    /// Sampled boundaries: every `step`-th key of each parent's rows. The
    /// query carries only the parents' boundaries ([`Buckets::compact`]),
    /// and answers one row per parent, its keys as one array per key
    /// column.
    fn sample(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        self.know_index()?;
        let mut order: Vec<usize> = (0..parents.len()).collect();
        order.sort_by_key(|&i| parents[i].bucket);
        let wanted: Vec<u32> = order.iter().map(|&i| parents[i].bucket).collect();
        let sub = level.compact(&wanted);
        let list: Vec<i32> = sub.wanted.iter().map(|&b| b as i32).collect();
        let keys = self.key_texts();
        let read = self.slice.read(&sub);
        let at = self.slice.next_param(&sub, &read) - 1;
        let key_list: Vec<String> = (0..keys.len())
            .map(|n| format!("array_agg(s.k{n} ORDER BY s.rn)"))
            .collect();
        let sql = format!(
            "SELECT s.b, {} FROM (SELECT t.{BUCKET} AS b, {}, row_number() OVER (PARTITION BY t.{BUCKET} ORDER BY {}) AS rn \
             FROM {}) s JOIN unnest(${}::int4[], ${}::int8[]) AS p(pb, step) ON p.pb = s.b \
             WHERE s.rn > 1 AND (s.rn - 1) % p.step = 0 GROUP BY s.b",
            key_list.join(", "),
            keys.join(", "),
            self.slice.order_expr(),
            self.slice.scan(&sub, &read),
            at + 1,
            at + 2,
        );
        let steps: Vec<i64> = order
            .iter()
            .map(|&i| {
                let p = &parents[i];
                (p.rows.div_ceil(u64::from(p.parts.max(2)))).max(1) as i64
            })
            .collect();
        let mut out: Vec<Vec<KeyText>> = vec![Vec::new(); parents.len()];
        // The sub-level's i-th wanted bucket is the parent order[i].
        let index: std::collections::HashMap<u32, usize> = sub
            .wanted
            .iter()
            .zip(&order)
            .map(|(&b, &i)| (b, i))
            .collect();
        let nkeys = keys.len();
        self.query(&sql, &sub, &read, &[&list, &steps], |row| {
            let b: i32 = row.get(0);
            let cols: Vec<Vec<String>> = (0..nkeys).map(|n| row.get(n + 1)).collect();
            if let Some(&i) = index.get(&(b as u32)) {
                let n = cols.first().map_or(0, Vec::len);
                out[i] = (0..n)
                    .map(|j| cols.iter().map(|c| c[j].clone()).collect())
                    .collect();
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// [`RangeChecksums::split`]: integer keys arithmetically, unless a
    /// bucket is sparse; other keys by sampling.
    pub(super) fn split_parents(
        &mut self,
        level: &Buckets,
        parents: &[Parent],
    ) -> Result<Vec<Vec<KeyText>>> {
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

    /// [`RangeChecksums::first_bounds`].
    pub(super) fn first_level(&mut self, bucket_rows: u64) -> Result<Vec<KeyText>> {
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
}
