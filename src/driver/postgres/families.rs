//! A PostgreSQL central in the type lattice (`crate::driver::lattice`): the
//! family of a type name as `format_type` prints it, the type a family is
//! created as, and the `USING` expression that widens an existing column
//! without changing a value. What a branch's column becomes on its own is
//! still [`super::compat::stored_type`]; the lattice only joins those.

use super::compat::{parse, stored_type};
use super::ident::quote_ident;
use super::schema::DIALECT;
use crate::driver::lattice::{self, Conversion, Family};
use crate::driver::{Column, ColumnKind};

/// The family of a PostgreSQL type name.
pub fn of_type(name: &str) -> Family {
    let t = parse(name);
    if t.array {
        return Family::Named {
            name: name.to_owned(),
            array: true,
        };
    }
    let precision = || t.args.first().map(|p| *p as u8).unwrap_or(6);
    match t.base.as_str() {
        "boolean" => Family::Bool,
        "smallint" => Family::Int { bytes: 2 },
        "integer" => Family::Int { bytes: 4 },
        "bigint" => Family::Int { bytes: 8 },
        "numeric" => Family::Numeric {
            bounds: match t.args[..] {
                [p] => Some((p, 0)),
                [p, s] => Some((p.saturating_sub(s), s)),
                _ => None,
            },
        },
        "real" => Family::Float { bytes: 4 },
        "double precision" => Family::Float { bytes: 8 },
        "text" => Family::Text { len: None },
        "character varying" => Family::Text {
            len: t.args.first().copied(),
        },
        "bytea" => Family::Bytes,
        "date" => Family::Date,
        "timestamp without time zone" => Family::Timestamp {
            tz: false,
            precision: precision(),
        },
        "timestamp with time zone" => Family::Timestamp {
            tz: true,
            precision: precision(),
        },
        "json" => Family::Json { binary: false },
        "jsonb" => Family::Json { binary: true },
        _ => Family::Named {
            name: name.to_owned(),
            array: false,
        },
    }
}

/// The family a branch's column has at this central: the family of the
/// type it would get alone ([`stored_type`]), except a MySQL `SET`, which
/// is a list of labels, and a PostgreSQL array, which stays an array even
/// where its element type is unknown here (its kind alone says text).
pub fn of_column(col: &Column, exists: impl FnMut(&str) -> bool) -> Family {
    if col.native.dialect == "mysql"
        && col.kind == ColumnKind::Text
        && col.native.name.to_ascii_lowercase().starts_with("set(")
    {
        return Family::Set;
    }
    let stored = stored_type(col, exists);
    if col.native.dialect == DIALECT && !parse(&stored).array {
        let built_on = col.native.base.as_deref().unwrap_or(&col.native.name);
        if parse(built_on).array {
            return of_type(built_on);
        }
    }
    of_type(&stored)
}

/// The type a column of `family` is created as.
pub fn type_of(family: &Family) -> String {
    match family {
        Family::Bool => "boolean".into(),
        Family::Int { bytes: 2 } => "smallint".into(),
        Family::Int { bytes: 4 } => "integer".into(),
        Family::Int { .. } => "bigint".into(),
        Family::Numeric { bounds: None } => "numeric".into(),
        Family::Numeric {
            bounds: Some((i, s)),
        } => format!("numeric({},{s})", i + s),
        Family::Float { bytes: 4 } => "real".into(),
        Family::Float { .. } => "double precision".into(),
        Family::Text { len: None } | Family::Set => "text".into(),
        Family::Text { len: Some(n) } => format!("character varying({n})"),
        Family::Bytes => "bytea".into(),
        Family::Date => "date".into(),
        Family::Timestamp { tz, precision } => format!(
            "timestamp{} with{} time zone",
            if *precision == 6 {
                String::new()
            } else {
                format!("({precision})")
            },
            if *tz { "" } else { "out" }
        ),
        Family::Json { binary: false } => "json".into(),
        Family::Json { binary: true } => "jsonb".into(),
        Family::Named { name, .. } => name.clone(),
    }
}

/// The synthetic column a planned central column is prepared as: its
/// PostgreSQL type, so that `stored_type` keeps it.
pub fn planned_column(name: &str, family: &Family) -> Column {
    let ty = type_of(family);
    Column {
        name: name.to_owned(),
        kind: super::schema::kind_of(match family {
            Family::Bool => "bool",
            Family::Int { .. } => "int8",
            Family::Numeric { .. } => "numeric",
            Family::Float { .. } => "float8",
            Family::Bytes => "bytea",
            Family::Date => "date",
            Family::Timestamp { tz: false, .. } => "timestamp",
            Family::Timestamp { tz: true, .. } => "timestamptz",
            Family::Json { .. } => "jsonb",
            _ => "text",
        }),
        native: crate::driver::NativeType::new(DIALECT, ty),
        nullable: true,
    }
}

/// The `USING` expression that turns column `name` of family `from` into
/// `to` (which holds it) keeping every value: a flag is 0/1 or the text
/// `true`/`false` (its cast), a naive timestamp is read as UTC, anything else is cast.
pub fn widen_using(name: &str, from: &Family, to: &Family) -> String {
    let col = quote_ident(name);
    let ty = type_of(to);
    match (from, to) {
        (Family::Bool, _) => format!("{col}::integer::{ty}"),
        (
            Family::Timestamp { tz: false, .. } | Family::Date,
            Family::Timestamp { tz: true, .. },
        ) => {
            format!("{col}::timestamp AT TIME ZONE 'UTC'")
        }
        _ => format!("{col}::{ty}"),
    }
}

/// How each of the plan's columns is written into the central column of
/// type `types[i]` (`lattice::conversion`).
pub fn conversions(columns: &[Column], types: &[String]) -> Vec<Conversion> {
    columns
        .iter()
        .zip(types)
        .map(|(c, t)| lattice::conversion(&of_column(c, |_| false), &of_type(t)))
        .collect()
}

/// Are there values to convert?
pub fn any(conversions: &[Conversion]) -> bool {
    conversions.iter().any(|c| *c != Conversion::None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_round_trip() {
        for name in [
            "boolean",
            "smallint",
            "integer",
            "bigint",
            "numeric",
            "numeric(10,2)",
            "real",
            "double precision",
            "text",
            "character varying(20)",
            "bytea",
            "date",
            "timestamp without time zone",
            "timestamp(0) with time zone",
            "json",
            "jsonb",
            "uuid",
            "text[]",
        ] {
            assert_eq!(type_of(&of_type(name)), name);
        }
    }
}
