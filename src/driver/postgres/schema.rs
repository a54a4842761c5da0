//! Reading table shapes from `pg_catalog`, and the mapping between
//! PostgreSQL types and the driver-neutral [`ColumnKind`]s.

use super::ident::safe_type_name;
use crate::driver::{Column, ColumnKind, NativeType, TableSchema};
use postgres::Client;

pub const DIALECT: &str = "postgres";

/// The schema used when the config names none.
pub const DEFAULT_SCHEMA: &str = "public";

/// The table's columns (in `attnum` order, types as `format_type` prints
/// them) and primary key, or `None` when there is no such table or view.
pub fn describe(
    client: &mut Client,
    schema: &str,
    table: &str,
) -> Result<Option<TableSchema>, postgres::Error> {
    let Some(oid) = relation_oid(client, schema, table)? else {
        return Ok(None);
    };
    let rows = client.query(
        "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, bt.typname::text
         FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
         JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&oid],
    )?;
    let columns = rows
        .iter()
        .map(|r| {
            let base: String = r.get(3);
            Column {
                name: r.get(0),
                kind: kind_of(&base),
                native: NativeType {
                    dialect: DIALECT,
                    name: r.get(1),
                },
                nullable: !r.get::<_, bool>(2),
            }
        })
        .collect();
    let primary_key = client
        .query(
            "SELECT a.attname::text
             FROM pg_catalog.pg_index i
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1 AND i.indisprimary
             ORDER BY k.ord",
            &[&oid],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(Some(TableSchema {
        columns,
        primary_key,
    }))
}

/// The oid of a table, view or foreign table.
pub fn relation_oid(
    client: &mut Client,
    schema: &str,
    table: &str,
) -> Result<Option<u32>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT c.oid FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            &[&schema, &table],
        )?
        .map(|r| r.get(0)))
}

/// The column sets of the table's unique indexes that an `ON CONFLICT`
/// can use (no predicate, no expressions).
pub fn unique_keys(client: &mut Client, oid: u32) -> Result<Vec<Vec<String>>, postgres::Error> {
    Ok(client
        .query(
            "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) AS k(attnum)
                          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)
             FROM pg_catalog.pg_index i
             WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL",
            &[&oid],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The kind of a (base) type, by its `typname`.
pub fn kind_of(typname: &str) -> ColumnKind {
    match typname {
        "bool" => ColumnKind::Bool,
        "int2" | "int4" | "int8" => ColumnKind::Int,
        "float4" | "float8" => ColumnKind::Float,
        "numeric" => ColumnKind::Numeric,
        "bytea" => ColumnKind::Bytes,
        "date" => ColumnKind::Date,
        "timestamp" => ColumnKind::Timestamp,
        "timestamptz" => ColumnKind::TimestampTz,
        "json" | "jsonb" => ColumnKind::Json,
        _ => ColumnKind::Text,
    }
}

/// The PostgreSQL type that holds every value of `kind`.
pub fn kind_type(kind: ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Bool => "boolean",
        ColumnKind::Int => "bigint",
        ColumnKind::Float => "double precision",
        ColumnKind::Numeric => "numeric",
        ColumnKind::Text => "text",
        ColumnKind::Bytes => "bytea",
        ColumnKind::Date => "date",
        ColumnKind::Timestamp => "timestamp without time zone",
        ColumnKind::TimestampTz => "timestamp with time zone",
        ColumnKind::Json => "jsonb",
    }
}

/// The column's own PostgreSQL type when it has one that is safe to write
/// into SQL, else the type for its kind.
pub fn native_or_kind_type(c: &Column) -> &str {
    if c.native.dialect == DIALECT && safe_type_name(&c.native.name) {
        &c.native.name
    } else {
        kind_type(c.kind)
    }
}

/// The cast that makes a column decodable as its kind's Rust type (numeric
/// and json as text, so nothing is rounded or re-encoded).
pub fn decode_cast(c: &Column) -> &'static str {
    match c.kind {
        ColumnKind::Bool => "::boolean",
        ColumnKind::Int => "::int8",
        ColumnKind::Float => "::float8",
        ColumnKind::Numeric | ColumnKind::Json => "::text",
        // `::text` would strip the padding of character(n).
        ColumnKind::Text
            if c.native.name.starts_with("character(") || c.native.name == "character" =>
        {
            "::bpchar"
        }
        ColumnKind::Text => "::text",
        ColumnKind::Bytes => "::bytea",
        ColumnKind::Date => "::date",
        ColumnKind::Timestamp => "::timestamp",
        ColumnKind::TimestampTz => "::timestamptz",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of("int4"), ColumnKind::Int);
        assert_eq!(kind_of("numeric"), ColumnKind::Numeric);
        assert_eq!(kind_of("uuid"), ColumnKind::Text);
        assert_eq!(kind_of("jsonb"), ColumnKind::Json);
        assert_eq!(kind_of("timestamptz"), ColumnKind::TimestampTz);
        assert_eq!(kind_type(ColumnKind::Json), "jsonb");
    }

    #[test]
    fn native_types_are_used_only_when_safe() {
        let col = |dialect: &'static str, name: &str| Column {
            name: "c".into(),
            kind: ColumnKind::Int,
            native: NativeType {
                dialect,
                name: name.into(),
            },
            nullable: true,
        };
        assert_eq!(native_or_kind_type(&col("postgres", "integer")), "integer");
        assert_eq!(native_or_kind_type(&col("sqlite", "INTEGER")), "bigint");
        assert_eq!(native_or_kind_type(&col("postgres", "int; drop")), "bigint");
    }
}
