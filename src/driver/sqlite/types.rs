//! SQLite's declared types and affinities, mapped to and from the
//! driver-neutral [`ColumnKind`] (the table is in the module documentation of
//! [`super`]), and which target columns can hold which source columns.

use crate::driver::{Column, ColumnKind};

/// SQLite's column affinity (sqlite.org, "Datatypes In SQLite", §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Text,
    /// No conversion at all (declared `BLOB` or no type).
    Blob,
    Real,
    Numeric,
}

impl Affinity {
    /// The affinity SQLite gives a declared type, by its own rules in order.
    pub fn of(declared: &str) -> Affinity {
        let d = declared.to_ascii_uppercase();
        if d.contains("INT") {
            Affinity::Integer
        } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
            Affinity::Text
        } else if d.contains("BLOB") || d.trim().is_empty() {
            Affinity::Blob
        } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Affinity::Integer => "integer",
            Affinity::Text => "text",
            Affinity::Blob => "blob",
            Affinity::Real => "real",
            Affinity::Numeric => "numeric",
        }
    }
}

/// The logical kind of a declared SQLite type. Names that say what the
/// values mean (`BOOLEAN`, `DATETIME`, `JSON`, `DECIMAL`) win over the
/// affinity the name happens to give; the rest follow the affinity.
pub fn kind_of(declared: &str) -> ColumnKind {
    let d = declared.to_ascii_uppercase();
    if d.contains("BOOL") {
        ColumnKind::Bool
    } else if d.contains("TIMESTAMPTZ") || d.contains("WITH TIME ZONE") {
        ColumnKind::TimestampTz
    } else if d.contains("TIMESTAMP") || d.contains("DATETIME") {
        ColumnKind::Timestamp
    } else if d.starts_with("DATE") {
        ColumnKind::Date
    } else if d.contains("JSON") {
        ColumnKind::Json
    } else if d.contains("INT") {
        ColumnKind::Int
    } else if d.contains("DECIMAL") || d.contains("NUMERIC") || d.contains("NUMBER") {
        ColumnKind::Numeric
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") || d.trim().is_empty()
    {
        ColumnKind::Text
    } else if d.contains("BLOB") || d.contains("BYTEA") || d.contains("BINARY") {
        ColumnKind::Bytes
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        ColumnKind::Float
    } else {
        ColumnKind::Numeric
    }
}

/// The declared type for a new target column holding `col`. A column read
/// from SQLite keeps its declared type; others get a name whose kind maps
/// back to `col.kind` and whose affinity stores the values unchanged.
pub fn declared_for(col: &Column) -> String {
    if col.native.dialect == "sqlite" {
        return col.native.name.clone();
    }
    match col.kind {
        ColumnKind::Bool => "BOOLEAN".into(),
        ColumnKind::Int => "INTEGER".into(),
        ColumnKind::Float => "REAL".into(),
        // NUMERIC affinity would round to 15 digits; TEXT affinity keeps
        // the exact decimal. The precision, when the source gives one, is kept.
        ColumnKind::Numeric => match col.native.name.find('(') {
            Some(at) if col.native.name.ends_with(')') => {
                format!("DECIMAL_TEXT{}", &col.native.name[at..])
            }
            _ => "DECIMAL_TEXT".into(),
        },
        ColumnKind::Text => "TEXT".into(),
        ColumnKind::Bytes => "BLOB".into(),
        ColumnKind::Date => "DATE".into(),
        ColumnKind::Timestamp => "TIMESTAMP".into(),
        ColumnKind::TimestampTz => "TIMESTAMPTZ".into(),
        // JSON would have NUMERIC affinity and turn the document `1.0` into 1.
        ColumnKind::Json => "JSON_TEXT".into(),
    }
}

/// Can a target column declared `target` hold the values of `source`
/// without loss? Same kind or (both from SQLite) same affinity always can;
/// otherwise it depends on what the target's affinity converts.
pub fn target_can_hold(target: &str, source: &Column) -> bool {
    let affinity = Affinity::of(target);
    if kind_of(target) == source.kind {
        return true;
    }
    if source.native.dialect == "sqlite" && Affinity::of(&source.native.name) == affinity {
        return true;
    }
    use ColumnKind as K;
    match affinity {
        Affinity::Blob | Affinity::Text => true,
        Affinity::Integer => matches!(source.kind, K::Int | K::Bool),
        Affinity::Real => matches!(source.kind, K::Float),
        // Text such as "007" or "1e3" would be turned into a number.
        Affinity::Numeric => !matches!(source.kind, K::Text | K::Json),
    }
}

/// A human name of a column's type for error messages:
/// `integer (sqlite type "INTEGER")`.
pub fn describe_source_type(col: &Column) -> String {
    format!(
        "{} ({} type {:?})",
        kind_name(col.kind),
        col.native.dialect,
        col.native.name
    )
}

pub fn kind_name(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Bool => "boolean",
        ColumnKind::Int => "integer",
        ColumnKind::Float => "float",
        ColumnKind::Numeric => "numeric",
        ColumnKind::Text => "text",
        ColumnKind::Bytes => "bytes",
        ColumnKind::Date => "date",
        ColumnKind::Timestamp => "timestamp",
        ColumnKind::TimestampTz => "timestamp with time zone",
        ColumnKind::Json => "json",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::NativeType;

    fn col(kind: ColumnKind, dialect: &'static str, name: &str) -> Column {
        Column {
            name: "c".into(),
            kind,
            native: NativeType::new(dialect, name),
            nullable: true,
        }
    }

    #[test]
    fn declared_types_map_to_kinds() {
        use ColumnKind as K;
        for (decl, kind) in [
            ("INTEGER", K::Int),
            ("bigint", K::Int),
            ("REAL", K::Float),
            ("double precision", K::Float),
            ("NUMERIC(10,2)", K::Numeric),
            ("DECIMAL_TEXT(10,2)", K::Numeric),
            ("varchar(60)", K::Text),
            ("TEXT", K::Text),
            ("", K::Text),
            ("BLOB", K::Bytes),
            ("BOOLEAN", K::Bool),
            ("DATE", K::Date),
            ("DATETIME", K::Timestamp),
            ("timestamp", K::Timestamp),
            ("TIMESTAMPTZ", K::TimestampTz),
            ("timestamp with time zone", K::TimestampTz),
            ("JSON", K::Json),
            ("JSON_TEXT", K::Json),
            ("MONEY", K::Numeric),
        ] {
            assert_eq!(kind_of(decl), kind, "declared type {decl:?}");
        }
    }

    #[test]
    fn created_types_keep_values_and_map_back() {
        use ColumnKind as K;
        for kind in [
            K::Bool,
            K::Int,
            K::Float,
            K::Numeric,
            K::Text,
            K::Bytes,
            K::Date,
            K::Timestamp,
            K::TimestampTz,
            K::Json,
        ] {
            let decl = declared_for(&col(kind, "postgres", "x"));
            assert_eq!(kind_of(&decl), kind, "{decl}");
        }
        let numeric = declared_for(&col(K::Numeric, "postgres", "numeric(10,2)"));
        assert_eq!(numeric, "DECIMAL_TEXT(10,2)");
        assert_eq!(Affinity::of(&numeric), Affinity::Text);
        assert_eq!(
            Affinity::of(&declared_for(&col(K::Json, "postgres", "jsonb"))),
            Affinity::Text
        );
        assert_eq!(declared_for(&col(K::Int, "sqlite", "int8")), "int8");
    }

    #[test]
    fn conflicts_are_lossy_combinations_only() {
        use ColumnKind as K;
        assert!(!target_can_hold("INTEGER", &col(K::Text, "sqlite", "TEXT")));
        assert!(!target_can_hold(
            "NUMERIC(10,2)",
            &col(K::Text, "postgres", "text")
        ));
        assert!(!target_can_hold("REAL", &col(K::Int, "sqlite", "INTEGER")));
        assert!(target_can_hold("TEXT", &col(K::Int, "sqlite", "INTEGER")));
        assert!(target_can_hold(
            "BIGINT",
            &col(K::Int, "postgres", "bigint")
        ));
        assert!(target_can_hold(
            "NUMERIC",
            &col(K::Numeric, "postgres", "numeric")
        ));
        assert!(target_can_hold("", &col(K::Bytes, "postgres", "bytea")));
        assert!(target_can_hold(
            "varchar(10)",
            &col(K::Text, "sqlite", "nvarchar")
        ));
    }
}
