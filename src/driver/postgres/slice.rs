//! One side of a PostgreSQL range comparison as SQL: the table (alias `t`),
//! the slice's conditions, each column in the source's type, and the key as
//! `width_bucket` and `ORDER BY` see it (text under `COLLATE "C"`, composite
//! keys as a record whose text parts are UTF-8 bytes).

use super::ident::quote_ident;
use super::schema::{comparison_type, native_or_kind_type};
use super::slice_blocks::Blocks;
use super::slice_ranges::Ranges;
use crate::driver::checksum::Buckets;
use crate::driver::{Column, DriverError, Result};
use postgres::types::ToSql;

/// What one side compares: a quoted table (alias `t`), the slice's
/// conditions, and the source's types.
#[derive(Debug, Clone)]
pub struct Slice {
    /// `schema.table`, quoted.
    pub table: String,
    /// Conditions on `t` (the branch, keys present).
    pub filter: Vec<String>,
    /// Per column: the expression on `t` in the source's type.
    pub columns: Vec<String>,
    /// Positions of the key columns.
    pub key_at: Vec<usize>,
    /// Per key column: the source's type, and whether it is text-like.
    pub key_types: Vec<(String, bool)>,
    /// The key columns' names.
    pub key_names: Vec<String>,
    /// Columns the filter fixes to one value (the branch column).
    pub fixed: Vec<String>,
    /// Whether the server's encoding is UTF-8 (text keys' bytes are then
    /// the bytes they compare by); found with [`Slice::indexed`].
    pub utf8: bool,
    /// Whether an index on the key serves key ranges
    /// ([`Slice::index_serves_ranges`]); found by the side that runs it.
    pub indexed: bool,
    /// Whether the first level also answers where each bucket's rows lie
    /// (no index serves ranges, the table has blocks, PostgreSQL 14 or
    /// later: see [`super::slice_blocks`]).
    pub tracks_blocks: bool,
    /// Where the first level's buckets lie, once it has been answered.
    pub(super) blocks: Option<Blocks>,
}

/// Whole numbers that fit 64 bits: integers, and `numeric(p)` or
/// `numeric(p,0)` with p ≤ 18, as ERP ids often are.
pub(super) fn int_like(ty: &str) -> bool {
    if matches!(
        ty,
        "smallint" | "integer" | "bigint" | "int2" | "int4" | "int8"
    ) {
        return true;
    }
    let Some(args) = ty
        .strip_prefix("numeric(")
        .and_then(|r| r.strip_suffix(')'))
    else {
        return false;
    };
    let mut parts = args.split(',').map(str::trim);
    let precision = parts.next().and_then(|p| p.parse::<u32>().ok());
    let scale = parts.next().unwrap_or("0");
    matches!(precision, Some(p) if p <= 18) && scale == "0" && parts.next().is_none()
}

fn text_like(t: &str) -> bool {
    let t = t.trim_end_matches(|c: char| c == ')' || c.is_ascii_digit() || c == '(');
    matches!(
        t,
        "text" | "character varying" | "varchar" | "character" | "bpchar" | "name" | "citext"
    )
}

impl Slice {
    /// `source` columns as read from `t`; `target_types` (one per source
    /// column) when `t` is a target whose types may differ.
    pub fn new(
        table: String,
        filter: Vec<String>,
        source: &[Column],
        key: &[String],
        target_types: Option<&[String]>,
    ) -> Result<Slice> {
        let mut columns = Vec::with_capacity(source.len());
        for (i, c) in source.iter().enumerate() {
            let ty = native_or_kind_type(c);
            let col = format!("t.{}", quote_ident(&c.name));
            columns.push(match target_types {
                Some(tt) if tt[i] != ty && tt[i] != comparison_type(c) => {
                    format!("{col}::{}", comparison_type(c))
                }
                _ => col,
            });
        }
        let mut key_at = Vec::with_capacity(key.len());
        let mut key_types = Vec::with_capacity(key.len());
        for k in key {
            let i = source.iter().position(|c| &c.name == k).ok_or_else(|| {
                DriverError::schema(format!("{table}: key column {k:?} is not read"))
            })?;
            let ty = native_or_kind_type(&source[i]).to_owned();
            let text = text_like(&ty);
            key_at.push(i);
            key_types.push((ty, text));
        }
        Ok(Slice {
            table,
            filter,
            columns,
            key_at,
            key_types,
            key_names: key.to_vec(),
            fixed: Vec::new(),
            utf8: false,
            indexed: false,
            tracks_blocks: false,
            blocks: None,
        })
    }

    /// One key column holding whole numbers that fit 64 bits (integers,
    /// and `numeric(p)`/`numeric(p,0)` with p ≤ 18, as ERP ids often are).
    pub(super) fn single_int(&self) -> bool {
        matches!(self.key_types.as_slice(), [(ty, _)] if int_like(ty))
    }

    /// Key column `n` as it compares: text as its UTF-8 bytes (byte order,
    /// whatever either server's locale or encoding), others as themselves.
    pub(super) fn key_part(&self, n: usize) -> String {
        let k = &self.columns[self.key_at[n]];
        if self.key_types[n].1 {
            format!("convert_to(({k})::text, 'UTF8')")
        } else {
            format!("({k})")
        }
    }

    /// `ORDER BY` list in the order of [`Self::key_expr`].
    pub(super) fn order_expr(&self) -> String {
        (0..self.key_types.len())
            .map(|n| self.key_part(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn where_with(&self, extra: &[String]) -> String {
        let all: Vec<&String> = self.filter.iter().chain(extra).collect();
        if all.is_empty() {
            String::new()
        } else {
            format!(
                " WHERE {}",
                all.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" AND ")
            )
        }
    }

    /// How a query reads the rows of `level`: worked out once per query,
    /// so that its SQL ([`Self::scan`]), its parameters ([`Self::params`])
    /// and its planner settings agree.
    pub(super) fn read(&self, level: &Buckets) -> Read {
        if let Some(ranges) = self.ranges(level) {
            return Read::Ranges(ranges);
        }
        if level.wanted.len() > level.bounds.len() {
            return Read::Whole;
        }
        match self.blocks.as_ref().and_then(|b| b.ranges(level)) {
            Some((lo, hi)) => Read::Blocks { lo, hi },
            None => Read::Scan,
        }
    }

    /// The parameters of a query reading `level` as `read`: boundaries per
    /// key column (when there are any), the wanted buckets as a bit mask
    /// (bit `b` of the `bytea`, as `get_bit` numbers them, is set when
    /// bucket `b` is wanted: one lookup per row, where `= ANY(array)` over
    /// thousands of buckets searches linearly), then the key ranges or the
    /// block ranges it reads.
    pub(super) fn params(&self, level: &Buckets, read: &Read) -> Vec<Box<dyn ToSql + Sync>> {
        let mut out = self.level_params(level);
        match read {
            Read::Ranges(ranges) => Slice::range_params(ranges, &mut out),
            Read::Blocks { lo, hi } => {
                out.push(Box::new(lo.clone()));
                out.push(Box::new(hi.clone()));
            }
            Read::Whole | Read::Scan => {}
        }
        out
    }

    /// The boundaries and the wanted mask of [`Self::params`]: all a
    /// statement that computes each row's bucket needs.
    pub(super) fn level_params(&self, level: &Buckets) -> Vec<Box<dyn ToSql + Sync>> {
        let mut out: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        if !level.bounds.is_empty() {
            let mut cols: Vec<Vec<String>> = vec![Vec::new(); self.key_types.len()];
            for b in &level.bounds {
                for (i, v) in b.iter().enumerate() {
                    cols[i].push(v.clone());
                }
            }
            out.extend(
                cols.into_iter()
                    .map(|c| Box::new(c) as Box<dyn ToSql + Sync>),
            );
        }
        let mut mask = vec![0u8; (level.bounds.len() + 1).div_ceil(8)];
        for &w in &level.wanted {
            if let Some(byte) = mask.get_mut(w as usize / 8) {
                *byte |= 1 << (w % 8);
            }
        }
        out.push(Box::new(mask));
        out
    }

    /// The number of the first parameter after [`Self::params`].
    pub(super) fn next_param(&self, level: &Buckets, read: &Read) -> usize {
        let extra = match read {
            Read::Ranges(r) => self.range_param_count(r),
            Read::Blocks { .. } => 2,
            Read::Whole | Read::Scan => 0,
        };
        self.wanted_index(level) + 1 + extra
    }

    /// The parameter number of the wanted mask (after the boundary arrays).
    pub(super) fn wanted_index(&self, level: &Buckets) -> usize {
        if level.bounds.is_empty() {
            1
        } else {
            self.key_types.len() + 1
        }
    }

    /// The placeholder of the wanted mask.
    pub(super) fn wanted_param(&self, level: &Buckets) -> String {
        format!("${}::bytea", self.wanted_index(level))
    }

    /// The condition that keeps the rows of `bucket` (an expression) in the
    /// wanted buckets.
    pub(super) fn wanted(&self, level: &Buckets, bucket: &str) -> String {
        format!("get_bit({}, {bucket}) = 1", self.wanted_param(level))
    }

    /// The rows of the wanted buckets, read as `read`, as a `FROM` item
    /// aliased `t`, each with its bucket in [`BUCKET`]: the bucket is
    /// computed once per row, and the caller's expressions on `t` run only
    /// on wanted rows.
    pub(super) fn scan(&self, level: &Buckets, read: &Read) -> String {
        let bucket = self.bucket_expr(level);
        // Where every row read is wanted (key ranges made of the wanted
        // buckets, or a level that wants them all), the mask is not looked
        // at per row and the subquery may be flattened into the caller's:
        // one pass computing the bucket and the caller's expressions (about
        // 15% less server time for the first level's hashing scan). The
        // mask stays a parameter of the statement.
        let unused_mask = format!("{} IS NOT NULL", self.wanted_param(level));
        let after_mask = self.wanted_index(level) + 1;
        let rows = match read {
            Read::Ranges(ranges) => {
                return format!(
                    "(SELECT {bucket} AS {BUCKET}, t.* FROM ({}) t WHERE {unused_mask}) t",
                    self.range_scan(ranges, after_mask),
                );
            }
            Read::Whole => {
                let tid = if self.tracks_blocks {
                    format!("t.ctid AS {TID}, ")
                } else {
                    String::new()
                };
                return format!(
                    "(SELECT {bucket} AS {BUCKET}, {tid}t.* FROM {} t{}) t",
                    self.table,
                    self.where_with(&[unused_mask]),
                );
            }
            Read::Blocks { .. } => format!("({}) t", self.block_scan(after_mask)),
            Read::Scan => format!("{} t{}", self.table, self.where_with(&[])),
        };
        let wanted = self.wanted(level, &format!("t.{BUCKET}"));
        format!("(SELECT {bucket} AS {BUCKET}, t.* FROM {rows} OFFSET 0) t WHERE {wanted}")
    }
}

/// How a query reads a level's rows ([`Slice::read`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Read {
    /// The wanted buckets as key ranges, through an index on the key.
    Ranges(Ranges),
    /// Every bucket is wanted: the whole slice, in one pass.
    Whole,
    /// The heap blocks of the wanted buckets ([`super::slice_blocks`]),
    /// inclusive ranges, keeping the wanted buckets' rows.
    Blocks { lo: Vec<i64>, hi: Vec<i64> },
    /// The whole slice, keeping the wanted buckets' rows.
    Scan,
}

/// The column of [`Slice::scan`] that holds a row's bucket (a name no
/// table of an ERP carries).
pub(super) const BUCKET: &str = "\"branchsync bucket\"";

/// The column of a first level's [`Slice::scan`] that holds a row's `ctid`.
pub(super) const TID: &str = "\"branchsync tid\"";
