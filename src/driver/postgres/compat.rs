//! Whether an existing target column can take a source column: the same
//! type, or a widening that loses nothing (`integer` → `bigint`,
//! `character varying(20)` → `text`, `numeric(10,2)` → `numeric(12,2)`).
//! Anything else is a type conflict the operator must resolve.

use super::schema::DIALECT;
use crate::driver::{Column, ColumnKind};

/// Can a target column of type `target` (as `format_type` prints it) hold
/// every value of the source column `src`?
pub fn accepts(src: &Column, target: &str) -> bool {
    if src.native.dialect == DIALECT {
        src.native.name == target || widens(&src.native.name, target)
    } else {
        kind_accepts(src.kind, target)
    }
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
            native: NativeType {
                dialect: DIALECT,
                name: name.into(),
            },
            nullable: true,
        }
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
            native: NativeType {
                dialect: "sqlite",
                name: "X".into(),
            },
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
