//! The bucket of a row as SQL: `width_bucket` over a level's boundaries,
//! with the key in a form whose arrays it searches by bisection.

use super::slice::{int_like, Slice};
use crate::driver::checksum::Buckets;

/// Bytes a `name` keeps (`NAMEDATALEN` − 1).
const NAME_BYTES: usize = 63;

/// Types stored in a fixed number of bytes, whose arrays `width_bucket`
/// searches by bisection.
fn fixed_length(ty: &str) -> bool {
    matches!(
        ty,
        "uuid"
            | "date"
            | "timestamp without time zone"
            | "timestamp with time zone"
            | "timestamp"
            | "timestamptz"
            | "time without time zone"
            | "time"
            | "double precision"
            | "real"
            | "float8"
            | "float4"
            | "boolean"
            | "oid"
            | "money"
    )
}

impl Slice {
    /// The key as `width_bucket` sees it (a record for a composite key).
    fn key_expr(&self) -> String {
        if self.key_types.len() == 1 {
            return self.key_part(0);
        }
        let parts: Vec<String> = (0..self.key_types.len())
            .map(|n| self.key_part(n))
            .collect();
        format!("ROW({})", parts.join(", "))
    }

    /// The bucket of a row of `t`; boundaries are parameters `$1…$k`, one
    /// `text[]` per key column.
    ///
    /// `width_bucket` searches an array of a fixed-length type by bisection
    /// but walks an array of a variable-length one (text, numeric, records)
    /// element by element, for every row: with thousands of boundaries that
    /// costs seconds per million rows. So integer keys compare as `int8`,
    /// fixed-length keys as themselves, and other keys through a surrogate:
    /// an order-preserving hex text of the key's leading bytes as `name`
    /// (fixed length, compared bytewise), exact wherever no boundary shares
    /// the row's surrogate; rows that tie with a boundary (about one per
    /// bucket) take the exact comparison.
    pub(super) fn bucket_expr(&self, level: &Buckets) -> String {
        if level.bounds.is_empty() {
            return "0".into();
        }
        if self.single_int() {
            return format!(
                "width_bucket(({})::int8, (SELECT $1::text[]::int8[]))",
                self.key_part(0)
            );
        }
        if let [(ty, false)] = self.key_types.as_slice() {
            if fixed_length(ty) {
                return format!(
                    "width_bucket({}, (SELECT $1::text[]::{ty}[]))",
                    self.key_part(0)
                );
            }
        }
        let exact = self.exact_bucket();
        if let [(_, true)] = self.key_types.as_slice() {
            if self.utf8 && level.bounds.iter().all(|b| b[0].len() < NAME_BYTES) {
                // A text key in a UTF-8 database is its own surrogate: its
                // bytes as `name`, whole when shorter than `name` keeps,
                // like every boundary here; longer keys take the exact path.
                let k = &self.columns[self.key_at[0]];
                return format!(
                    "CASE WHEN octet_length(({k})::text) < {NAME_BYTES} \
                     THEN width_bucket((({k})::text)::name COLLATE \"C\", (SELECT $1::text[]::name[])) \
                     ELSE {exact} END"
                );
            }
        }
        let Some(row) = self.surrogate(&|n| self.key_part(n), &|n| {
            self.columns[self.key_at[n]].clone()
        }) else {
            return exact;
        };
        let names = self.unnest_names();
        let bound = self
            .surrogate(&|n| self.bound_part(n), &|n| {
                format!("u.{}::{}", names[n], self.key_types[n].0)
            })
            .expect("the same key shape");
        let surrogates = format!(
            "(SELECT array_agg({bound} ORDER BY u.o) FROM {})",
            self.unnest_bounds()
        );
        let fast = format!("width_bucket({row}, {surrogates})");
        if self.surrogate_is_whole() {
            // Every key's whole surrogate fits: equal surrogates are equal
            // keys, and a tie is counted right.
            return fast;
        }
        // A tie needs the exact comparison only when the row's surrogate
        // may be cut short (63 characters).
        format!(
            "CASE WHEN {surrogates}[{fast}] = {row} AND octet_length({row}) >= 63 THEN {exact} ELSE {fast} END"
        )
    }

    /// The exact bucket: `width_bucket` over the boundaries as they compare
    /// ([`Self::key_expr`]); walks the array, see [`Self::bucket_expr`].
    fn exact_bucket(&self) -> String {
        if self.key_types.len() == 1 {
            let arr = if self.key_types[0].1 {
                format!(
                    "(SELECT array_agg(convert_to(u.c1, 'UTF8') ORDER BY u.o) FROM {})",
                    self.unnest_bounds()
                )
            } else {
                format!("(SELECT $1::text[]::{}[])", self.key_types[0].0)
            };
            return format!("width_bucket({}, {arr})", self.key_expr());
        }
        let parts: Vec<String> = (0..self.key_types.len())
            .map(|n| self.bound_part(n))
            .collect();
        format!(
            "width_bucket({}, (SELECT array_agg(ROW({}) ORDER BY u.o) FROM {}))",
            self.key_expr(),
            parts.join(", "),
            self.unnest_bounds()
        )
    }

    fn unnest_names(&self) -> Vec<String> {
        (1..=self.key_types.len())
            .map(|i| format!("c{i}"))
            .collect()
    }

    /// `unnest` of the boundary parameters as `u(c1, …, ck, o)`.
    fn unnest_bounds(&self) -> String {
        let names = self.unnest_names();
        let params: Vec<String> = (1..=self.key_types.len())
            .map(|i| format!("${i}::text[]"))
            .collect();
        format!(
            "unnest({}) WITH ORDINALITY AS u({}, o)",
            params.join(", "),
            names.join(", ")
        )
    }

    /// Boundary column `n` of [`Self::unnest_bounds`] as it compares.
    fn bound_part(&self, n: usize) -> String {
        let (ty, text) = &self.key_types[n];
        if *text {
            format!("convert_to(u.c{}, 'UTF8')", n + 1)
        } else {
            format!("u.c{}::{ty}", n + 1)
        }
    }

    /// Whether the surrogate holds every key whole: fixed-width parts only
    /// (integers and uuids), 63 characters at most.
    fn surrogate_is_whole(&self) -> bool {
        let mut width = 0;
        for (ty, text) in &self.key_types {
            width += match (text, ty.as_str()) {
                (false, "uuid") => 32,
                (false, t) if int_like(t) => 16,
                _ => return false,
            };
        }
        width <= 63
    }

    /// The surrogate of a key as `name`, when every key column has an
    /// order-preserving hex form: integers (sign bit flipped, 16 digits),
    /// uuid (32 digits), text and bytea (their bytes in hex, then `!`, which
    /// sorts below every hex digit, so a prefix sorts first). `name` keeps
    /// the first 63 characters: a monotone prefix, never a reordering.
    /// `part(n)` is column `n` as it compares, `raw(n)` as stored.
    fn surrogate(
        &self,
        part: &dyn Fn(usize) -> String,
        raw: &dyn Fn(usize) -> String,
    ) -> Option<String> {
        let mut pieces = Vec::with_capacity(self.key_types.len());
        for (n, (ty, text)) in self.key_types.iter().enumerate() {
            pieces.push(if *text {
                format!("encode({}, 'hex') || '!'", part(n))
            } else if int_like(ty) {
                format!(
                    "lpad(to_hex(({})::int8 # x'8000000000000000'::int8), 16, '0')",
                    raw(n)
                )
            } else if ty == "uuid" {
                format!("replace(({})::text, '-', '')", raw(n))
            } else if ty == "bytea" {
                format!("encode({}, 'hex') || '!'", raw(n))
            } else {
                return None;
            });
        }
        Some(format!("(({})::name COLLATE \"C\")", pieces.join(" || ")))
    }
}
