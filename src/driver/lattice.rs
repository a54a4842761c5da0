//! The type lattice of a mixed fleet (docs/TYPES.md, "One central type for
//! every branch"): the same table, described at branches of different
//! engines, gets one central column type per column, the least type that
//! holds every branch's values without loss. The join is computed pairwise
//! and is commutative and associative, so the answer does not depend on the
//! order in which branches are described or answer; where no lossless
//! common type exists the column is refused, naming every branch's type.
//!
//! This module is pure: a target driver says which family it stores for one
//! branch's column (its own type model, e.g. `postgres::compat::stored_type`)
//! and names the family in its DDL; the lattice only joins families.

use std::fmt;

/// A central type family. Ordered by what it holds: `a ⊔ b` is the least
/// family holding both.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Family {
    Bool,
    /// A signed integer of `bytes` bytes (2, 4, 8).
    Int {
        bytes: u8,
    },
    /// An exact decimal: `Some((integer digits, scale))`, or unbounded.
    Numeric {
        bounds: Option<(u32, u32)>,
    },
    /// An IEEE float of `bytes` bytes (4, 8).
    Float {
        bytes: u8,
    },
    /// A string of at most `len` characters, or unbounded.
    Text {
        len: Option<u32>,
    },
    Bytes,
    Date,
    /// A timestamp with `precision` fractional digits; `tz`: an instant
    /// (a naive timestamp joining one is read as UTC).
    Timestamp {
        tz: bool,
        precision: u8,
    },
    /// A JSON document; `binary`: normalized (PostgreSQL `jsonb`).
    Json {
        binary: bool,
    },
    /// A MySQL `SET`: a list of labels (no label holds a comma), held as
    /// `a,b` alone and as a text array next to an array of labels.
    Set,
    /// A type the target keeps by name (`uuid`, `interval`, an enum the
    /// central has, `character(n)`), or an array type (`text[]`).
    Named {
        name: String,
        array: bool,
    },
}

/// Why a column has no common central type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub left: Family,
    pub right: Family,
}

const INT_DIGITS: [(u8, u32); 3] = [(2, 5), (4, 10), (8, 19)];

fn int_digits(bytes: u8) -> u32 {
    INT_DIGITS
        .iter()
        .find(|(b, _)| *b == bytes)
        .map(|(_, d)| *d)
        .unwrap_or(19)
}

impl Family {
    /// Families whose every value has a text form that reads back as the
    /// same value (every family but bytes and arrays).
    fn has_text_form(&self) -> bool {
        !matches!(self, Family::Bytes | Family::Named { array: true, .. })
    }

    fn is_number(&self) -> bool {
        matches!(
            self,
            Family::Bool | Family::Int { .. } | Family::Numeric { .. } | Family::Float { .. }
        )
    }

    /// Does a central column of this family hold every value of `other`?
    pub fn holds(&self, other: &Family) -> bool {
        join(self, other).as_ref() == Ok(self)
    }

    /// The family's name in messages and in the plan.
    pub fn describe(&self) -> String {
        match self {
            Family::Bool => "boolean".into(),
            Family::Int { bytes } => format!("{}-byte integer", bytes),
            Family::Numeric { bounds: None } => "decimal".into(),
            Family::Numeric {
                bounds: Some((i, s)),
            } => format!("decimal({},{s})", i + s),
            Family::Float { bytes } => format!("{}-byte float", bytes),
            Family::Text { len: None } => "text".into(),
            Family::Text { len: Some(n) } => format!("text of at most {n}"),
            Family::Bytes => "bytes".into(),
            Family::Date => "date".into(),
            Family::Timestamp { tz: false, .. } => "timestamp".into(),
            Family::Timestamp { tz: true, .. } => "timestamp with time zone".into(),
            Family::Json { binary: false } => "json".into(),
            Family::Json { binary: true } => "jsonb".into(),
            Family::Set => "set of labels".into(),
            Family::Named { name, .. } => name.clone(),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The rank of a family in the canonical pair order, so that `join(a, b)`
/// and `join(b, a)` run the same arm.
fn rank(f: &Family) -> u8 {
    match f {
        Family::Bool => 0,
        Family::Int { .. } => 1,
        Family::Numeric { .. } => 2,
        Family::Float { .. } => 3,
        Family::Date => 4,
        Family::Timestamp { .. } => 5,
        Family::Json { .. } => 6,
        Family::Set => 7,
        Family::Named { .. } => 8,
        Family::Text { .. } => 9,
        Family::Bytes => 10,
    }
}

const TEXT: Family = Family::Text { len: None };

/// The least family holding both `a` and `b` (docs/TYPES.md has the table).
pub fn join(a: &Family, b: &Family) -> Result<Family, Refusal> {
    let (a, b) = if rank(a) <= rank(b) { (a, b) } else { (b, a) };
    let refuse = || {
        Err(Refusal {
            left: a.clone(),
            right: b.clone(),
        })
    };
    if a == b {
        return Ok(a.clone());
    }
    use Family::*;
    Ok(match (a, b) {
        // Numbers: a flag is 0/1 in any number; integers widen, and an
        // integer meets a decimal in a decimal wide enough for both.
        (Bool, Int { .. }) | (Bool, Float { .. }) => b.clone(),
        (Bool, Numeric { bounds }) => Numeric {
            bounds: bounds.map(|(i, s)| (i.max(1), s)),
        },
        (Int { bytes: x }, Int { bytes: y }) => Int { bytes: *x.max(y) },
        (Int { bytes }, Numeric { bounds }) => Numeric {
            bounds: bounds.map(|(i, s)| (i.max(int_digits(*bytes)), s)),
        },
        (
            Numeric {
                bounds: Some((i, s)),
            },
            Numeric {
                bounds: Some((j, t)),
            },
        ) => Numeric {
            bounds: Some((*i.max(j), *s.max(t))),
        },
        (Numeric { .. }, Numeric { .. }) => Numeric { bounds: None },
        // A float is exact in an unbounded decimal (NaN and ±Infinity too);
        // a 64-bit integer is not exact in a double.
        (Int { .. } | Numeric { .. }, Float { .. }) => Numeric { bounds: None },
        (Float { bytes: x }, Float { bytes: y }) => Float { bytes: *x.max(y) },
        // Time: a date is midnight; a naive timestamp joining an instant is
        // read as UTC.
        (Date, Timestamp { .. }) => b.clone(),
        (
            Timestamp {
                tz: x,
                precision: p,
            },
            Timestamp {
                tz: y,
                precision: q,
            },
        ) => Timestamp {
            tz: *x || *y,
            precision: *p.max(q),
        },
        (Json { .. }, Json { .. }) => Json { binary: false },
        (Text { len: Some(x) }, Text { len: Some(y) }) => Text {
            len: Some(*x.max(y)),
        },
        (Text { .. }, Text { .. }) => TEXT,
        // A SET is a list of labels: it joins an array of text.
        (Set, Named { name, array: true }) if name == "text[]" => b.clone(),
        // Arrays and bytes have no lossless text form next to other values.
        _ if !a.has_text_form() || !b.has_text_form() => return refuse(),
        // Everything else is held as its text form.
        _ => TEXT,
    })
}

/// May an existing central column of `from` be widened in place to `to`
/// (which holds it)? Only where its values keep their type: numbers stay
/// numbers, times stay times, text stays text, JSON stays JSON. Turning a
/// typed column into text (or a boolean into a number) changes what every
/// reader of the central sees, so it is the operator's decision, not a
/// branch's.
pub fn widens_in_place(from: &Family, to: &Family) -> bool {
    use Family::*;
    from == to
        || matches!(
            (from, to),
            (
                Int { .. } | Numeric { .. } | Float { .. },
                Int { .. } | Numeric { .. } | Float { .. }
            ) | (Date | Timestamp { .. }, Timestamp { .. })
                | (Text { .. }, Text { .. })
                | (Json { .. }, Json { .. })
        )
}

/// The family of a column at every branch, folded; `Err` holds the pair
/// that has no common family.
pub fn fold<'a>(families: impl IntoIterator<Item = &'a Family>) -> Option<Result<Family, Refusal>> {
    let mut it = families.into_iter();
    let first = it.next()?.clone();
    Some(it.try_fold(first, |acc, f| join(&acc, f)))
}

/// Does a value of `from` need converting before a column of `to` takes
/// it as text? Only where the two text forms differ: a flag into a number
/// (`1`, not `t`) or into text (`true`), a SET into an array.
pub fn conversion(from: &Family, to: &Family) -> Conversion {
    match (from, to) {
        (Family::Bool, f) if f.is_number() && *f != Family::Bool => Conversion::FlagToNumber,
        (Family::Bool, Family::Text { .. }) => Conversion::FlagToText,
        (Family::Set, Family::Named { array: true, .. }) => Conversion::SetToArray,
        _ => Conversion::None,
    }
}

/// How one branch's values are written into the central column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    None,
    /// `false`/`true` as 0/1.
    FlagToNumber,
    /// `false`/`true` as the text `false`/`true`.
    FlagToText,
    /// `a,b` as the array `{"a","b"}` (`` as `{}`).
    SetToArray,
}

#[cfg(test)]
#[path = "lattice_tests.rs"]
mod tests;
