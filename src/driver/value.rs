//! The driver-neutral shape of tables and values, used when rows cross from one
//! kind of database to another (the PostgreSQL binary passthrough skips it).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Logical column types every driver maps to and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Bool,
    Int,
    Float,
    /// Exact decimal, carried as its text form so nothing is rounded.
    Numeric,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
    Json,
}

/// A column type as its own database names it (`numeric(10,0)`,
/// `character varying(60)` from PostgreSQL's `format_type`; the declared type
/// in SQLite), with the dialect that gives it meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeType {
    /// The registry name of the driver (`postgres`, `sqlite`).
    pub dialect: &'static str,
    pub name: String,
    /// What a type of the database's own making is built on, as a type every
    /// server of the dialect has: a domain's base type (`integer`,
    /// `character varying(10)`), `text` for an enum, a composite or an
    /// extension's type, and the same for arrays of them (`text[]`). `None`
    /// for built-in types. A target without `name` stores this instead, and
    /// the compatibility check accepts it (docs/TYPES.md).
    pub base: Option<String>,
}

impl NativeType {
    /// A built-in type of `dialect`.
    pub fn new(dialect: &'static str, name: impl Into<String>) -> NativeType {
        NativeType {
            dialect,
            name: name.into(),
            base: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
    pub native: NativeType,
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableSchema {
    pub columns: Vec<Column>,
    /// Primary-key columns, in key order (empty when none).
    pub primary_key: Vec<String>,
}

impl TableSchema {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Exact decimal text (`"12.50"`).
    Numeric(String),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    /// JSON document text.
    Json(String),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A plain text rendering (reject files, watermarks, diagnostics).
    /// Timestamps use `YYYY-MM-DD HH:MM:SS[.ffffff]`, as PostgreSQL prints them.
    pub fn to_text(&self) -> Option<String> {
        Some(match self {
            Value::Null => return None,
            Value::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Numeric(s) | Value::Text(s) | Value::Json(s) => s.clone(),
            Value::Bytes(b) => {
                let mut s = String::with_capacity(2 + b.len() * 2);
                s.push_str("\\x");
                for byte in b {
                    s.push_str(&format!("{byte:02x}"));
                }
                s
            }
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::Timestamp(t) => t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
            Value::TimestampTz(t) => t.format("%Y-%m-%d %H:%M:%S%.f+00").to_string(),
        })
    }
}
