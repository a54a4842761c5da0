//! One side of a PostgreSQL range comparison as SQL: the table (alias `t`),
//! the slice's conditions, each column in the source's type, and the key as
//! `width_bucket` and `ORDER BY` see it (text under `COLLATE "C"`, composite
//! keys as a record whose text parts are UTF-8 bytes).

use super::ident::quote_ident;
use super::schema::{comparison_type, native_or_kind_type};
use crate::driver::checksum::Buckets;
use crate::driver::{Column, DriverError, Result};

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
        })
    }

    /// One key column holding whole numbers that fit 64 bits (integers,
    /// and `numeric(p)`/`numeric(p,0)` with p ≤ 18, as ERP ids often are).
    pub(super) fn single_int(&self) -> bool {
        let [(ty, _)] = self.key_types.as_slice() else {
            return false;
        };
        if matches!(
            ty.as_str(),
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

    /// The key as `width_bucket` and `ORDER BY` see it.
    pub(super) fn key_expr(&self) -> String {
        if let [(_, text)] = self.key_types.as_slice() {
            let k = &self.columns[self.key_at[0]];
            return if *text {
                format!("({k})::text COLLATE \"C\"")
            } else {
                format!("({k})")
            };
        }
        let parts: Vec<String> = self
            .key_at
            .iter()
            .zip(&self.key_types)
            .map(|(&i, (_, text))| {
                let k = &self.columns[i];
                if *text {
                    format!("convert_to(({k})::text, 'UTF8')")
                } else {
                    format!("({k})")
                }
            })
            .collect();
        format!("ROW({})", parts.join(", "))
    }

    /// `ORDER BY` list in the same order as [`Self::key_expr`].
    pub(super) fn order_expr(&self) -> String {
        self.key_at
            .iter()
            .zip(&self.key_types)
            .map(|(&i, (_, text))| {
                let k = &self.columns[i];
                if *text {
                    format!("({k})::text COLLATE \"C\"")
                } else {
                    format!("({k})")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The bucket of a row of `t`; boundaries are parameters `$1…$k`, one
    /// `text[]` per key column.
    pub(super) fn bucket_expr(&self, level: &Buckets) -> String {
        if level.bounds.is_empty() {
            return "0".into();
        }
        if let [(ty, text)] = self.key_types.as_slice() {
            // A scalar subquery: converted once, not once per row.
            let arr = if *text {
                "(SELECT $1::text[])".to_owned()
            } else {
                format!("(SELECT $1::text[]::{ty}[])")
            };
            return format!("width_bucket({}, {arr})", self.key_expr());
        }
        let names: Vec<String> = (1..=self.key_types.len())
            .map(|i| format!("c{i}"))
            .collect();
        let parts: Vec<String> = self
            .key_types
            .iter()
            .zip(&names)
            .map(|((ty, text), n)| {
                if *text {
                    format!("convert_to(u.{n}, 'UTF8')")
                } else {
                    format!("u.{n}::{ty}")
                }
            })
            .collect();
        let params: Vec<String> = (1..=self.key_types.len())
            .map(|i| format!("${i}::text[]"))
            .collect();
        format!(
            "width_bucket({}, (SELECT array_agg(ROW({}) ORDER BY u.o) FROM unnest({}) WITH ORDINALITY AS u({}, o)))",
            self.key_expr(),
            parts.join(", "),
            params.join(", "),
            names.join(", ")
        )
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

    /// The parameters of a level: boundaries per key column, then `wanted`.
    pub(super) fn params(&self, level: &Buckets) -> (Vec<Vec<String>>, Vec<i32>) {
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); self.key_types.len()];
        for b in &level.bounds {
            for (i, v) in b.iter().enumerate() {
                cols[i].push(v.clone());
            }
        }
        let wanted = level.wanted.iter().map(|&w| w as i32).collect();
        (cols, wanted)
    }

    /// The parameter number of the wanted list (after the boundary arrays).
    pub(super) fn wanted_index(&self, level: &Buckets) -> usize {
        if level.bounds.is_empty() {
            1
        } else {
            self.key_types.len() + 1
        }
    }

    /// The placeholder of the wanted list.
    pub(super) fn wanted_param(&self, level: &Buckets) -> String {
        format!("${}::int4[]", self.wanted_index(level))
    }
}
