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
    if src.native.dialect != DIALECT {
        return kind_accepts(src.kind, target);
    }
    let fits = |t: &str| t == target || widens(t, target);
    if fits(&src.native.name) {
        return true;
    }
    match &src.native.base {
        Some(base) => fits(base),
        // A built-in type the target lacks (a newer server's) gets its kind's type.
        None => kind_type(src.kind) == target && src.kind != ColumnKind::Json,
    }
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
struct TypeName {
    base: String,
    args: Vec<u32>,
    array: bool,
}

fn parse(name: &str) -> TypeName {
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
mod tests {
    use super::*;
    use crate::driver::NativeType;

    fn pg(name: &str) -> Column {
        Column {
            name: "c".into(),
            kind: ColumnKind::Text,
            native: NativeType::new(DIALECT, name),
            nullable: true,
        }
    }

    fn made(name: &str, base: &str, kind: ColumnKind) -> Column {
        Column {
            kind,
            native: NativeType {
                dialect: DIALECT,
                name: name.into(),
                base: Some(base.into()),
            },
            ..pg(name)
        }
    }

    #[test]
    fn what_creation_stores_the_check_accepts() {
        let year = made("year", "integer", ColumnKind::Int);
        let mood = made("mood", "text", ColumnKind::Text);
        let moods = made("mood[]", "text[]", ColumnKind::Text);
        let code = made("code", "character varying(10)", ColumnKind::Text);
        let sqlite = Column {
            kind: ColumnKind::Int,
            native: NativeType::new("sqlite", "INTEGER"),
            ..pg("x")
        };
        for (c, at_target, without) in [
            (&year, "year", "integer"),
            (&mood, "mood", "text"),
            (&moods, "mood[]", "text[]"),
            (&code, "code", "character varying(10)"),
            (&pg("integer"), "integer", "integer"),
            (&pg("json"), "json", "json"),
            (&sqlite, "bigint", "bigint"),
        ] {
            let known = stored_type(c, |_| true);
            let unknown = stored_type(c, |_| false);
            if c.native.dialect == DIALECT {
                assert_eq!(known, at_target);
            }
            if c.native.base.is_some() {
                assert_eq!(unknown, without);
            }
            assert!(accepts(c, &known), "{known}");
            assert!(accepts(c, &unknown), "{unknown}");
        }
        // Widenings of the base, and an older central made by kind.
        assert!(accepts(&year, "bigint"));
        assert!(accepts(&year, "numeric"));
        assert!(accepts(&code, "text"));
        assert!(accepts(&mood, "character varying"));
        // Narrowing stays refused.
        assert!(!accepts(&year, "smallint"));
        assert!(!accepts(&mood, "integer"));
        assert!(!accepts(&code, "character varying(5)"));
        assert!(!accepts(&moods, "text"));
        assert!(!accepts(&pg("json"), "jsonb"));
    }

    #[test]
    fn exact_comparison() {
        assert!(compares_exactly(&pg("integer"), "bigint"));
        assert!(compares_exactly(
            &made("mood", "text", ColumnKind::Text),
            "text"
        ));
        assert!(compares_exactly(
            &made("year", "integer", ColumnKind::Int),
            "year"
        ));
        assert!(!compares_exactly(
            &pg("timestamp without time zone"),
            "timestamp with time zone"
        ));
        assert!(!compares_exactly(&pg("numeric(10,2)"), "numeric"));
    }

    #[test]
    fn parses_type_names() {
        let p = parse("timestamp(3) without time zone");
        assert_eq!(p.base, "timestamp without time zone");
        assert_eq!(p.args, vec![3]);
        assert_eq!(parse("numeric(10,2)").args, vec![10, 2]);
        assert!(parse("integer[]").array);
    }

    #[test]
    fn lossless_widenings_are_accepted() {
        for (s, t) in [
            ("integer", "integer"),
            ("integer", "bigint"),
            ("smallint", "integer"),
            ("integer", "numeric"),
            ("integer", "numeric(12,0)"),
            ("character varying(20)", "text"),
            ("character varying(20)", "character varying(40)"),
            ("character varying(20)", "character varying"),
            ("text", "character varying"),
            ("character(1)", "character varying(1)"),
            ("numeric(10,0)", "numeric"),
            ("numeric(10,2)", "numeric(12,2)"),
            ("numeric(10,2)", "numeric(12,4)"),
            ("real", "double precision"),
            (
                "timestamp(3) without time zone",
                "timestamp without time zone",
            ),
            ("timestamp without time zone", "timestamp with time zone"),
        ] {
            assert!(accepts(&pg(s), t), "{s} -> {t}");
        }
    }

    #[test]
    fn conflicts_are_refused() {
        for (s, t) in [
            ("bigint", "integer"),
            ("text", "character varying(20)"),
            ("character varying(40)", "character varying(20)"),
            ("numeric(12,2)", "numeric(10,2)"),
            ("numeric(10,2)", "numeric(10,0)"),
            ("numeric", "numeric(10,2)"),
            ("bigint", "numeric(10,0)"),
            ("text", "integer"),
            ("json", "jsonb"),
            ("timestamp with time zone", "timestamp without time zone"),
            ("double precision", "real"),
            ("integer[]", "bigint[]"),
            ("text", "character(5)"),
        ] {
            assert!(!accepts(&pg(s), t), "{s} -> {t}");
        }
    }

    #[test]
    fn other_dialects_by_kind() {
        let col = |kind| Column {
            name: "c".into(),
            kind,
            native: NativeType::new("sqlite", "X"),
            nullable: true,
        };
        assert!(accepts(&col(ColumnKind::Int), "numeric(10,0)"));
        assert!(accepts(&col(ColumnKind::Int), "text"));
        assert!(!accepts(&col(ColumnKind::Int), "boolean"));
        assert!(!accepts(&col(ColumnKind::Bytes), "integer"));
        assert!(accepts(&col(ColumnKind::Text), "character varying(60)"));
        assert!(!accepts(&col(ColumnKind::Text), "integer"));
        assert!(!accepts(
            &col(ColumnKind::Text),
            "timestamp without time zone"
        ));
        assert!(!accepts(&col(ColumnKind::Text), "bytea"));
    }
}
