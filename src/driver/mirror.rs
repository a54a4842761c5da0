//! The driver-neutral bisection of `mode = "mirror"`: compare bucket
//! checksums of both sides level by level (both sides' queries of a level run
//! at the same time), split the buckets that differ, and settle the small
//! ones by comparing their rows by key and value. Only differing rows are
//! written or deleted; a bucket the source does not have at all is deleted
//! in one statement, one the target does not have is copied with the rows
//! compared.
//!
//! The first level already cuts the slice into buckets of about
//! `leaf_rows × factor` rows ([`RangeChecksums::first_bounds`]), so the one
//! scan that hashes every row happens once per side; the buckets that
//! differ are cut into leaves at the next level. Each level costs one
//! checksum query per side (plus one on the source to sample new
//! boundaries, unless its keys are integers split arithmetically) and one
//! query per side for the rows of its leaves, however many buckets it
//! holds. Memory is bounded by [`Tuning::batch_rows`].

use super::checksum::{
    BucketSum, Buckets, KeyText, MirrorTarget, Parent, RangeChecksums, NO_ORIGIN,
};
use super::{DriverError, Result};
use std::collections::HashMap;

/// How the bisection cuts (config keys `mirror_factor`, `mirror_leaf_rows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Parts a differing bucket is cut into.
    pub factor: u32,
    /// Differing buckets are cut into parts of about this many rows; a
    /// differing bucket with at most twice as many rows on either side has
    /// its rows compared instead of being cut again.
    pub leaf_rows: u64,
    /// Rows held in memory at once while comparing or copying.
    pub batch_rows: u64,
}

impl Default for Tuning {
    /// A factor of 16 and leaves of 4 rows, the best of a sweep
    /// (`bench --modes mirror-sweep`, 1M rows, integer key, 0.15% changed):
    /// 1.33% of a full copy's bytes for the change and 0.28% for an
    /// unchanged table. 8 × 4 and 16 × 2 carry 0.54% unchanged; 32 × 4,
    /// 16 × 8 and 32 × 8 carry 1.7–2.4% for the change.
    fn default() -> Self {
        Tuning {
            factor: 16,
            leaf_rows: 4,
            batch_rows: 20_000,
        }
    }
}

/// What a reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MirrorCounts {
    /// Rows of the source slice.
    pub source_rows: u64,
    /// Rows inserted or updated at the target.
    pub written: u64,
    /// Rows deleted at the target.
    pub deleted: u64,
    /// Levels of checksums computed.
    pub levels: u32,
    /// Bucket checksums compared.
    pub buckets: u64,
    /// Rows read for comparison (both sides).
    pub rows_compared: u64,
}

/// Runs `f` on the source and `g` on the target at the same time.
fn both<A: Send, B>(
    source: &mut dyn RangeChecksums,
    target: &mut dyn MirrorTarget,
    f: impl FnOnce(&mut dyn RangeChecksums) -> Result<A> + Send,
    g: impl FnOnce(&mut dyn MirrorTarget) -> Result<B>,
) -> Result<(A, B)> {
    std::thread::scope(|s| {
        let h = s.spawn(|| f(source));
        let b = g(target);
        let a = h
            .join()
            .unwrap_or_else(|_| Err(DriverError::other("the source's checksum thread panicked")));
        Ok((a?, b?))
    })
}

/// Makes the target's slice equal to the source's.
pub fn reconcile(
    source: &mut dyn RangeChecksums,
    target: &mut dyn MirrorTarget,
    tuning: &Tuning,
) -> Result<MirrorCounts> {
    let tuning = Tuning {
        factor: tuning.factor.max(2),
        leaf_rows: tuning.leaf_rows.max(1),
        batch_rows: tuning.batch_rows.max(1),
    };
    let mut counts = MirrorCounts::default();
    // The first level already holds buckets of about leaf × factor rows:
    // the scans that hash every row happen once per side, and the next
    // level's split leads to leaves.
    let first = source.first_bounds(tuning.leaf_rows.saturating_mul(u64::from(tuning.factor)))?;
    let mut level = Buckets {
        wanted: (0..=first.len() as u32).collect(),
        bounds: first,
        origin: Vec::new(),
    };
    // The wanted buckets of each split parent, as ranges of `level.wanted`.
    let mut families: Vec<std::ops::Range<usize>> = Vec::new();
    loop {
        counts.levels += 1;
        counts.buckets += level.wanted.len() as u64;
        let (src, tgt) = both(
            source,
            target,
            |s| s.checksums(&level),
            |t| t.checksums(&level),
        )?;
        if counts.levels == 1 {
            counts.source_rows = src.iter().map(|s| s.rows).sum();
        }
        let mut plan = classify(&level.wanted, &src, &tgt, &tuning);
        settle_collisions(&mut plan, &level.wanted, &families, &src, &tgt);
        if source.scans_each_level() || target.scans_each_level() {
            compare_when_few(&mut plan, counts.source_rows);
        }
        if !plan.delete.is_empty() {
            counts.deleted += target.delete_buckets(&level.compact(&plan.delete))?;
        }
        // A bucket that cannot be cut (its rows share one key as the key
        // compares, or one key surrogate) has its rows compared as they are.
        let inner = if plan.split.is_empty() {
            Vec::new()
        } else {
            source.split(&level, &plan.split)?
        };
        let (mut parents, mut children) = (Vec::new(), Vec::new());
        for (p, c) in plan.split.iter().zip(inner) {
            if c.is_empty() {
                plan.compare.push((p.bucket, p.rows.saturating_mul(2)));
            } else {
                parents.push(*p);
                children.push(c);
            }
        }
        // Buckets only the source has are compared too (the target's side
        // is empty): one query per side for all of a level's rows.
        plan.compare.extend(plan.copy.iter().copied());
        plan.compare.sort_unstable();
        for group in groups(&plan.compare, tuning.batch_rows) {
            let c = compare_rows(source, target, &level.compact(&group))?;
            counts.written += c.written;
            counts.deleted += c.deleted;
            counts.rows_compared += c.rows_compared;
        }
        if parents.is_empty() {
            return Ok(counts);
        }
        (level, families) = next_level(&level, &parents, children)?;
    }
}

/// What to do with each differing bucket of a level.
#[derive(Debug, Default, PartialEq, Eq)]
struct LevelPlan {
    /// Only the target has rows: delete them.
    delete: Vec<u32>,
    /// Only the source has rows: (bucket, its rows), copied by comparing.
    copy: Vec<(u32, u64)>,
    /// Small enough to compare rows: (bucket, larger row count).
    compare: Vec<(u32, u64)>,
    /// Cut again.
    split: Vec<Parent>,
}

fn classify(wanted: &[u32], src: &[BucketSum], tgt: &[BucketSum], tuning: &Tuning) -> LevelPlan {
    let leaf = tuning.leaf_rows;
    let s: HashMap<u32, &BucketSum> = src.iter().map(|b| (b.bucket, b)).collect();
    let t: HashMap<u32, &BucketSum> = tgt.iter().map(|b| (b.bucket, b)).collect();
    let mut plan = LevelPlan::default();
    for &b in wanted {
        let (sb, tb) = (s.get(&b), t.get(&b));
        let rows = |x: Option<&&BucketSum>| x.map_or(0, |x| x.rows);
        let (sr, tr) = (rows(sb), rows(tb));
        match (sb, tb) {
            (None, None) => {}
            (Some(x), Some(y)) if x == y => {}
            (None, Some(_)) => plan.delete.push(b),
            (Some(_), None) => plan.copy.push((b, sr)),
            // A bucket cut for leaves that came out a row or two over
            // (an insert or a delete since the cut was sampled) is compared
            // as it is: another level would cost a pass over its rows.
            _ if sr.max(tr) <= leaf.saturating_mul(2) || sr <= 1 => plan.compare.push((b, sr + tr)),
            _ => plan.split.push(Parent {
                bucket: b,
                rows: sr,
                parts: parts_of(sr, tuning),
            }),
        }
    }
    plan
}

/// Parts a differing bucket of `rows` source rows is cut into: the factor,
/// or, for a bucket within a few factors of a leaf, as many as make its
/// parts leaves at once (one level fewer: a level costs a scan per side,
/// a part costs 28 bytes).
fn parts_of(rows: u64, tuning: &Tuning) -> u32 {
    let factor = u64::from(tuning.factor);
    let to_leaves = rows.div_ceil(tuning.leaf_rows);
    if to_leaves <= factor * 4 {
        to_leaves.max(factor).max(2) as u32
    } else {
        tuning.factor
    }
}

/// Where each later level is a scan of the slice, a level costs more than
/// comparing a few buckets' rows: when the buckets to cut hold at most
/// [`FEW_ROWS_PER_MILLE`] of the slice's rows (both sides), they are
/// compared at once. Their rows cross the links both ways, a few tenths of
/// a percent of a full copy at most.
fn compare_when_few(plan: &mut LevelPlan, source_rows: u64) {
    let rows: u64 = plan.split.iter().map(|p| p.rows.saturating_mul(2)).sum();
    if plan.split.is_empty() || rows > source_rows.saturating_mul(FEW_ROWS_PER_MILLE) / 1000 {
        return;
    }
    for p in plan.split.drain(..) {
        plan.compare.push((p.bucket, p.rows.saturating_mul(2)));
    }
}

/// See [`compare_when_few`].
const FEW_ROWS_PER_MILLE: u64 = 10;

/// A parent differed but none of its children does: some child's checksum
/// collides (the children hold exactly the parent's rows). Rather than
/// trust any of them, every child with rows has its rows compared.
fn settle_collisions(
    plan: &mut LevelPlan,
    wanted: &[u32],
    families: &[std::ops::Range<usize>],
    src: &[BucketSum],
    tgt: &[BucketSum],
) {
    let differing: std::collections::HashSet<u32> = plan
        .delete
        .iter()
        .copied()
        .chain(plan.copy.iter().map(|c| c.0))
        .chain(plan.compare.iter().map(|c| c.0))
        .chain(plan.split.iter().map(|p| p.bucket))
        .collect();
    let rows =
        |sums: &[BucketSum], b: u32| sums.iter().find(|s| s.bucket == b).map_or(0, |s| s.rows);
    for family in families {
        let children = &wanted[family.clone()];
        if children.iter().any(|b| differing.contains(b)) {
            continue;
        }
        log::warn!(
            "mirror: a key range differed but none of its {} parts does (a checksum collision); comparing their rows",
            children.len()
        );
        for &b in children {
            let n = rows(src, b) + rows(tgt, b);
            if n > 0 {
                plan.compare.push((b, n));
            }
        }
    }
}

/// Buckets grouped so each group reads at most about `limit` rows.
fn groups(buckets: &[(u32, u64)], limit: u64) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut rows = 0u64;
    for &(b, n) in buckets {
        if out.is_empty() || rows + n > limit && !out.last().is_some_and(Vec::is_empty) {
            out.push(Vec::new());
            rows = 0;
        }
        rows += n;
        out.last_mut().expect("a group").push(b);
    }
    out
}

#[derive(Debug, Default)]
struct Compared {
    written: u64,
    deleted: u64,
    rows_compared: u64,
}

/// Compares the rows of the wanted buckets by key and value; writes the
/// source rows that differ or are missing, deletes the target's extra keys.
fn compare_rows(
    source: &mut dyn RangeChecksums,
    target: &mut dyn MirrorTarget,
    level: &Buckets,
) -> Result<Compared> {
    let key_at = source.key_positions().to_vec();
    let key_of = |values: &[Option<String>]| -> KeyText {
        key_at
            .iter()
            .map(|&i| values[i].clone().unwrap_or_default())
            .collect()
    };
    let mut theirs: HashMap<KeyText, Vec<Option<String>>> = HashMap::new();
    let mut ours: Vec<Vec<Option<String>>> = Vec::new();
    let mut c = Compared::default();
    both(
        source,
        target,
        |s| {
            s.rows(level, &mut |row| {
                ours.push(row.values);
                Ok(())
            })
        },
        |t| {
            t.rows(level, &mut |row| {
                theirs.insert(key_of(&row.values), row.values);
                Ok(())
            })
        },
    )?;
    c.rows_compared = (ours.len() + theirs.len()) as u64;
    let mut differing = Vec::new();
    for row in ours {
        match theirs.remove(&key_of(&row)) {
            Some(t) if t == row => {}
            _ => differing.push(row),
        }
    }
    if !theirs.is_empty() {
        let keys: Vec<KeyText> = theirs.into_keys().collect();
        c.deleted += target.delete_keys(&keys)?;
    }
    if !differing.is_empty() {
        c.written += target.upsert(&differing)?;
    }
    Ok(c)
}

/// The next level: each split parent's bucket replaced by its children
/// (wanted), the buckets between parents kept as unwanted gaps.
type Families = Vec<std::ops::Range<usize>>;

fn next_level(
    level: &Buckets,
    parents: &[Parent],
    inner: Vec<Vec<KeyText>>,
) -> Result<(Buckets, Families)> {
    if inner.len() != parents.len() {
        return Err(DriverError::other(format!(
            "mirror: the source split {} buckets into {} lists",
            parents.len(),
            inner.len()
        )));
    }
    let mut next = Buckets::default();
    let mut families = Vec::with_capacity(parents.len());
    for (p, children) in parents.iter().zip(inner) {
        let i = p.bucket as usize;
        if i > 0 {
            let lo = &level.bounds[i - 1];
            if next.bounds.last() != Some(lo) {
                next.bounds.push(lo.clone());
            }
        }
        let first = next.bounds.len() as u32;
        let n = children.len() as u32;
        next.bounds.extend(children);
        let start = next.wanted.len();
        next.wanted.extend(first..=first + n);
        families.push(start..next.wanted.len());
        // The children lie in the parent's first-level bucket; the gap
        // before them in none.
        let origin = level.first_level_of(p.bucket).unwrap_or(NO_ORIGIN);
        next.origin.resize(first as usize, NO_ORIGIN);
        next.origin
            .extend(std::iter::repeat_n(origin, n as usize + 1));
        if let Some(hi) = level.bounds.get(i) {
            next.bounds.push(hi.clone());
        }
    }
    next.origin.resize(next.bounds.len() + 1, NO_ORIGIN);
    Ok((next, families))
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
