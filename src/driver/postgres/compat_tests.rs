//! Unit tests of the type model: what creation stores the check accepts,
//! which widenings pass and which conflicts are refused, and how type
//! names are parsed (no database).

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
        // An array's text is not another branch's text (docs/TYPES.md).
        ("text[]", "text"),
        ("integer[]", "text"),
        ("character varying(10)[]", "character varying"),
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
