//! The type model of a PostgreSQL target (docs/TYPES.md), in one place for
//! both table creation and the compatibility check, so that what one branch
//! creates every identical branch accepts:
//!
//! - [`stored_type`]: what a new target column gets. A PostgreSQL source's
//!   own type when the target has it (the same domain, the same enum), else
//!   the type it is built on (a domain's base type; `text` for an enum, a
//!   composite or an extension's type), else the type for its kind.
//! - [`accepts`]: whether an existing target column can take a source
//!   column: any of those types, or a widening of one that loses nothing
//!   (`integer` → `bigint`, `character varying(20)` → `text`,
//!   `numeric(10,2)` → `numeric`, `timestamp` → `timestamptz`, read as UTC).
//!   Anything else is a type conflict the operator must resolve.

use super::families;
use super::ident::safe_type_name;
use super::schema::{kind_type, DIALECT};
use crate::driver::{Column, ColumnKind};

/// The type a new target column for `src` gets; `exists` says whether the
/// target knows a type name.
pub fn stored_type(src: &Column, mut exists: impl FnMut(&str) -> bool) -> String {
    if src.native.dialect == DIALECT {
        let native = &src.native.name;
        if safe_type_name(native) && exists(native) {
            return native.clone();
        }
        if let Some(base) = &src.native.base {
            if safe_type_name(base) {
                return base.clone();
            }
        }
    }
    kind_type(src.kind).to_owned()
}

/// Can a target column of type `target` (as `format_type` prints it) hold
/// every value of the source column `src`? True for every type
/// [`stored_type`] can choose, and for lossless widenings of them.
pub fn accepts(src: &Column, target: &str) -> bool {
    // The type lattice: the target's family holds the branch's (a flag in
    // an integer as 0/1, a date in a timestamp, anything scalar in text).
    let holds = || families::of_type(target).holds(&families::of_column(src, |_| false));
    if src.native.dialect != DIALECT {
        return kind_accepts(src.kind, target) || holds();
    }
    let fits = |t: &str| t == target || widens(t, target);
    if fits(&src.native.name) {
        return true;
    }
    let by_base = match &src.native.base {
        Some(base) => fits(base),
        // A built-in type the target lacks (a newer server's) gets its
        // kind's type; never an array, whose text (`{"a","b"}`) is not the
        // text other branches send (`a,b`).
        None => {
            kind_type(src.kind) == target
                && src.kind != ColumnKind::Json
                && !parse(&src.native.name).array
        }
    };
    by_base || holds()
}

/// Do the values of `src` arrive at a target column of type `target` in
/// exactly the text form the source prints (so two rows can be compared
/// by their text)? True for the same type, a domain stored as its base and
/// an enum stored as text; widenings such as `integer` → `bigint` keep the
/// value but `timestamp` → `timestamptz` changes its text.
pub fn compares_exactly(src: &Column, target: &str) -> bool {
    if src.native.dialect != DIALECT {
        return false;
    }
    let same_text = |a: &str, b: &str| {
        a == b
            || matches!(
                (parse(a).base.as_str(), parse(b).base.as_str()),
                (
                    "smallint" | "integer" | "bigint",
                    "smallint" | "integer" | "bigint"
                ) | ("character varying" | "text", "character varying" | "text")
            )
    };
    same_text(&src.native.name, target)
        || src
            .native
            .base
            .as_deref()
            .is_some_and(|b| same_text(b, target))
}

/// A type name split into its base and its modifiers:
/// `timestamp(3) without time zone` → (`timestamp without time zone`, [3]).
#[derive(Debug, PartialEq)]
pub(super) struct TypeName {
    pub(super) base: String,
    pub(super) args: Vec<u32>,
    pub(super) array: bool,
}

pub(super) fn parse(name: &str) -> TypeName {
    let mut base = String::with_capacity(name.len());
    let mut args = Vec::new();
    let mut rest = name.trim();
    let array = rest.ends_with("[]");
    if array {
        rest = rest.trim_end_matches("[]");
    }
    while let Some(open) = rest.find('(') {
        base.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(')') else {
            break;
        };
        args.extend(
            rest[open + 1..open + close]
                .split(',')
                .filter_map(|a| a.trim().parse::<u32>().ok()),
        );
        rest = &rest[open + close + 1..];
    }
    base.push_str(rest);
    TypeName {
        base: base.split_whitespace().collect::<Vec<_>>().join(" "),
        args,
        array,
    }
}

fn int_digits(base: &str) -> Option<u32> {
    match base {
        "smallint" => Some(5),
        "integer" => Some(10),
        "bigint" => Some(19),
        _ => None,
    }
}

fn is_string(base: &str) -> bool {
    matches!(base, "text" | "character varying" | "character")
}

fn widens(source: &str, target: &str) -> bool {
    let s = parse(source);
    let t = parse(target);
    if s.array || t.array {
        return false;
    }
    if let (Some(sd), Some(td)) = (int_digits(&s.base), int_digits(&t.base)) {
        return td >= sd;
    }
    if let (Some(sd), "numeric") = (int_digits(&s.base), t.base.as_str()) {
        return match t.args[..] {
            [] => true,
            [p] => p >= sd,
            [p, sc] => p.saturating_sub(sc) >= sd,
            _ => false,
        };
    }
    match (s.base.as_str(), t.base.as_str()) {
        ("real", "double precision") => true,
        // The rule: a timestamp without time zone is read as UTC (the target
        // session's TimeZone), so the instant is the one the source wrote
        // down when its clock ran on UTC.
        ("timestamp without time zone", "timestamp with time zone") => {
            s.args.first().copied().unwrap_or(6) <= t.args.first().copied().unwrap_or(6)
        }
        ("numeric", "numeric") => {
            let split = |a: &[u32]| match *a {
                [p] => Some((p, 0)),
                [p, sc] => Some((p.saturating_sub(sc), sc)),
                _ => None,
            };
            match (split(&s.args), split(&t.args)) {
                (_, None) if t.args.is_empty() => true,
                (Some((si, sf)), Some((ti, tf))) => ti >= si && tf >= sf,
                _ => false,
            }
        }
        (sb, tb) if is_string(sb) && is_string(tb) => {
            // No length: unbounded (text, varchar), except character = character(1).
            let len = |n: &TypeName| match (n.base.as_str(), n.args.first()) {
                ("character", None) => Some(1),
                (_, None) => None,
                (_, Some(&l)) => Some(l),
            };
            if tb == "character" && sb != "character" {
                // character(n) pads and trims: only from character.
                return false;
            }
            match (len(&s), len(&t)) {
                (_, None) => true,
                (Some(sl), Some(tl)) => tl >= sl,
                (None, Some(_)) => false,
            }
        }
        (sb, tb)
            if sb == tb
                && matches!(
                    sb,
                    "timestamp without time zone"
                        | "timestamp with time zone"
                        | "time without time zone"
                        | "time with time zone"
                ) =>
        {
            s.args.first().copied().unwrap_or(6) <= t.args.first().copied().unwrap_or(6)
        }
        _ => false,
    }
}

/// For sources of another dialect, whose types say less: the target type's
/// family must hold the kind's values (unbounded text takes anything; text
/// goes only into string types).
fn kind_accepts(kind: ColumnKind, target: &str) -> bool {
    let t = parse(target);
    if t.array {
        return false;
    }
    let b = t.base.as_str();
    if b == "text" || (b == "character varying" && t.args.is_empty()) {
        return true;
    }
    match kind {
        ColumnKind::Bool => b == "boolean",
        ColumnKind::Int => int_digits(b).is_some() || b == "numeric",
        ColumnKind::Float | ColumnKind::Numeric => {
            matches!(b, "real" | "double precision" | "numeric")
        }
        ColumnKind::Text => is_string(b),
        ColumnKind::Bytes => b == "bytea",
        ColumnKind::Date => matches!(
            b,
            "date" | "timestamp without time zone" | "timestamp with time zone"
        ),
        ColumnKind::Timestamp => {
            matches!(
                b,
                "timestamp without time zone" | "timestamp with time zone"
            )
        }
        ColumnKind::TimestampTz => b == "timestamp with time zone",
        ColumnKind::Json => matches!(b, "json" | "jsonb"),
    }
}

#[cfg(test)]
#[path = "compat_tests.rs"]
mod tests;
