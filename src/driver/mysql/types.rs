//! MySQL column types ↔ driver kinds (the table in [`super`]'s docs).

use crate::driver::{Column, ColumnKind};

/// The kind of a MySQL column from `information_schema.COLUMNS`
/// (`DATA_TYPE`, `COLUMN_TYPE`); `json` is true for MariaDB's JSON, which
/// is a LONGTEXT with a `json_valid` check.
pub fn kind_of(data_type: &str, column_type: &str, json: bool) -> ColumnKind {
    let column_type = column_type.to_ascii_lowercase();
    match data_type.to_ascii_lowercase().as_str() {
        "tinyint" if column_type.starts_with("tinyint(1)") => ColumnKind::Bool,
        "bigint" if column_type.contains("unsigned") => ColumnKind::Numeric,
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "year" => {
            ColumnKind::Int
        }
        "decimal" | "numeric" => ColumnKind::Numeric,
        "float" | "double" | "real" => ColumnKind::Float,
        "date" => ColumnKind::Date,
        "datetime" => ColumnKind::Timestamp,
        "timestamp" => ColumnKind::TimestampTz,
        "json" => ColumnKind::Json,
        "longtext" if json => ColumnKind::Json,
        "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum" | "set"
        | "time" => ColumnKind::Text,
        // binary, varbinary, the blobs, bit, and spatial types (as WKB).
        _ => ColumnKind::Bytes,
    }
}

/// A kind in words, for messages.
pub fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Bool => "boolean",
        ColumnKind::Int => "integer",
        ColumnKind::Float => "floating point",
        ColumnKind::Numeric => "exact decimal",
        ColumnKind::Text => "text",
        ColumnKind::Bytes => "bytes",
        ColumnKind::Date => "date",
        ColumnKind::Timestamp => "timestamp",
        ColumnKind::TimestampTz => "timestamp with time zone",
        ColumnKind::Json => "JSON",
    }
}

/// `(n)` or `(p,s)` at the end of a native type name.
fn params(name: &str) -> Option<Vec<u32>> {
    let open = name.find('(')?;
    let close = name[open..].find(')')? + open;
    name[open + 1..close]
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect()
}

/// The column type a new target column gets. A MySQL source column keeps
/// its own type; others are named after their kind, with a length or
/// precision carried over when the source declares one: on the type
/// itself, or on the type a domain is built on (a domain over
/// `varchar(10)` is a `VARCHAR(10)`, as the plain `varchar(10)` column
/// of an identical branch would be, keeping the limit the source
/// enforces). A key column (and the branch column) must have a bounded
/// length to be indexed.
pub fn declared_for(col: &Column, in_key: bool) -> String {
    if col.native.dialect == "mysql" {
        let t = &col.native.name;
        let unbounded = ["text", "blob", "json"].iter().any(|s| t.ends_with(s));
        if !(in_key && unbounded) {
            return t.clone();
        }
    }
    let p = params(&col.native.name).or_else(|| col.native.base.as_deref().and_then(params));
    match col.kind {
        ColumnKind::Bool => "TINYINT(1)".into(),
        ColumnKind::Int => "BIGINT".into(),
        ColumnKind::Float => "DOUBLE".into(),
        ColumnKind::Numeric => match p.as_deref() {
            Some([prec, scale]) if *prec <= 65 && *scale <= 30 => {
                format!("DECIMAL({prec},{scale})")
            }
            Some([prec]) if *prec <= 65 => format!("DECIMAL({prec},0)"),
            _ if col.native.name.contains("unsigned") => "DECIMAL(20,0)".into(),
            _ => "DECIMAL(65,30)".into(),
        },
        ColumnKind::Text => match p.as_deref() {
            Some([n]) if *n <= 16_383 && (!in_key || *n <= 768) => format!("VARCHAR({n})"),
            _ if in_key => "VARCHAR(255)".into(),
            _ => "LONGTEXT".into(),
        },
        ColumnKind::Bytes if in_key => "VARBINARY(255)".into(),
        ColumnKind::Bytes => "LONGBLOB".into(),
        ColumnKind::Date => "DATE".into(),
        ColumnKind::Timestamp => "DATETIME(6)".into(),
        // TIMESTAMP stops in 2038; DATETIME(6) holds the UTC time.
        ColumnKind::TimestampTz => "DATETIME(6)".into(),
        ColumnKind::Json => "JSON".into(),
    }
}

/// Can a target column of `have` kind hold values of the source's `col`
/// unchanged? Text holds everything that has a text form; numbers widen.
pub fn target_can_hold(have: ColumnKind, col: &Column) -> bool {
    use ColumnKind as K;
    have == col.kind
        || matches!(
            (have, col.kind),
            (
                K::Text,
                K::Bool
                    | K::Int
                    | K::Numeric
                    | K::Float
                    | K::Json
                    | K::Date
                    | K::Timestamp
                    | K::TimestampTz
            ) | (K::Json, K::Text)
                | (K::Int, K::Bool)
                | (K::Numeric, K::Int | K::Bool)
                | (K::Timestamp, K::TimestampTz)
                | (K::TimestampTz, K::Timestamp)
                | (K::Bytes, K::Text)
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::NativeType;

    #[test]
    fn kinds_follow_the_documented_table() {
        assert_eq!(kind_of("tinyint", "tinyint(1)", false), ColumnKind::Bool);
        assert_eq!(kind_of("tinyint", "tinyint(4)", false), ColumnKind::Int);
        assert_eq!(
            kind_of("bigint", "bigint(20) unsigned", false),
            ColumnKind::Numeric
        );
        assert_eq!(kind_of("int", "int(10) unsigned", false), ColumnKind::Int);
        assert_eq!(kind_of("longtext", "longtext", true), ColumnKind::Json);
        assert_eq!(kind_of("longtext", "longtext", false), ColumnKind::Text);
        assert_eq!(kind_of("enum", "enum('a','b')", false), ColumnKind::Text);
        assert_eq!(
            kind_of("timestamp", "timestamp(6)", false),
            ColumnKind::TimestampTz
        );
        assert_eq!(
            kind_of("mediumblob", "mediumblob", false),
            ColumnKind::Bytes
        );
    }

    #[test]
    fn other_dialects_keep_lengths_and_precisions() {
        let col = |kind, name: &str| Column {
            name: "c".into(),
            kind,
            native: NativeType::new("postgres", name),
            nullable: true,
        };
        assert_eq!(
            declared_for(&col(ColumnKind::Numeric, "numeric(12,2)"), false),
            "DECIMAL(12,2)"
        );
        assert_eq!(
            declared_for(&col(ColumnKind::Numeric, "numeric"), false),
            "DECIMAL(65,30)"
        );
        assert_eq!(
            declared_for(&col(ColumnKind::Text, "character varying(60)"), false),
            "VARCHAR(60)"
        );
        assert_eq!(
            declared_for(&col(ColumnKind::Text, "text"), true),
            "VARCHAR(255)"
        );
        assert_eq!(
            declared_for(&col(ColumnKind::Text, "text"), false),
            "LONGTEXT"
        );
    }

    #[test]
    fn a_domain_is_declared_as_the_type_it_is_built_on() {
        let domain = |kind, base: &str| Column {
            name: "c".into(),
            kind,
            native: NativeType {
                base: Some(base.into()),
                ..NativeType::new("postgres", "public.code")
            },
            nullable: true,
        };
        assert_eq!(
            declared_for(&domain(ColumnKind::Text, "character varying(10)"), false),
            "VARCHAR(10)"
        );
        assert_eq!(
            declared_for(&domain(ColumnKind::Numeric, "numeric(12,2)"), false),
            "DECIMAL(12,2)"
        );
        // An enum is built on text: unbounded, as a text column is.
        assert_eq!(
            declared_for(&domain(ColumnKind::Text, "text"), false),
            "LONGTEXT"
        );
        assert_eq!(
            declared_for(&domain(ColumnKind::Text, "text"), true),
            "VARCHAR(255)"
        );
    }
}
