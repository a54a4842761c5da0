//! Reading table shapes from `pg_catalog`, and the mapping between
//! PostgreSQL types and the driver-neutral [`ColumnKind`]s.

use super::ident::safe_type_name;
use crate::driver::{Column, ColumnKind, NativeType, TableSchema};
use postgres::Client;

pub const DIALECT: &str = "postgres";

/// The schema used when the config names none.
pub const DEFAULT_SCHEMA: &str = "public";

/// The table's columns (in `attnum` order, types as `format_type` prints
/// them, with the base of types the database made itself: see
/// [`NativeType::base`]) and primary key, or `None` when there is no such
/// table or view.
pub fn describe(
    client: &mut Client,
    schema: &str,
    table: &str,
) -> Result<Option<TableSchema>, postgres::Error> {
    let Some(oid) = relation_oid(client, schema, table)? else {
        return Ok(None);
    };
    let rows = client.query(
        "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atttypid
         FROM pg_catalog.pg_attribute a
         WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attnum",
        &[&oid],
    )?;
    let used: Vec<u32> = rows.iter().map(|r| r.get(3)).collect();
    let catalog = TypeCatalog::load(client, &used)?;
    let columns = rows
        .iter()
        .map(|r| {
            let (base, typname) = catalog.resolve(r.get(3));
            Column {
                name: r.get(0),
                kind: kind_of(&typname),
                native: NativeType {
                    dialect: DIALECT,
                    name: r.get(1),
                    base,
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

/// One `pg_type` row, as far as the type model needs it.
struct TypeRow {
    typname: String,
    /// `b` base, `c` composite, `d` domain, `e` enum, `r` range, `m` multirange.
    typtype: String,
    /// A domain's base type, with the domain's modifier (`numeric(4,0)`).
    domain_base: Option<(u32, String)>,
    /// An array's element type.
    array_of: Option<u32>,
    /// In `pg_catalog`: every server has it.
    builtin: bool,
}

/// The `pg_type` rows of the types a table uses, and of everything they are
/// built on (domain bases, array elements), in one query.
struct TypeCatalog(std::collections::HashMap<u32, TypeRow>);

impl TypeCatalog {
    fn load(client: &mut Client, oids: &[u32]) -> Result<TypeCatalog, postgres::Error> {
        let rows = client.query(
            "WITH RECURSIVE used(oid) AS (
               SELECT unnest($1::oid[])
               UNION
               SELECT CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END
               FROM used JOIN pg_catalog.pg_type t ON t.oid = used.oid
               WHERE t.typtype = 'd' OR (t.typcategory = 'A' AND t.typelem <> 0)
             )
             SELECT t.oid, t.typname::text, t.typtype::text,
                    CASE WHEN t.typtype = 'd' THEN t.typbasetype END,
                    CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END,
                    CASE WHEN t.typtype <> 'd' AND t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem END,
                    n.nspname = 'pg_catalog'
             FROM used JOIN pg_catalog.pg_type t ON t.oid = used.oid
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
            &[&oids],
        )?;
        Ok(TypeCatalog(
            rows.iter()
                .map(|r| {
                    let base: Option<u32> = r.get(3);
                    let shown: Option<String> = r.get(4);
                    (
                        r.get(0),
                        TypeRow {
                            typname: r.get(1),
                            typtype: r.get(2),
                            domain_base: base.zip(shown),
                            array_of: r.get(5),
                            builtin: r.get(6),
                        },
                    )
                })
                .collect(),
        ))
    }

    /// The base of type `oid` (see [`NativeType::base`]) and the `typname`
    /// that decides its [`ColumnKind`].
    fn resolve(&self, oid: u32) -> (Option<String>, String) {
        let Some(t) = self.0.get(&oid) else {
            return (Some("text".into()), "text".into());
        };
        if let Some((base, shown)) = &t.domain_base {
            let (deeper, typname) = self.resolve(*base);
            return (Some(deeper.unwrap_or_else(|| shown.clone())), typname);
        }
        if let Some(elem) = t.array_of {
            let (base, _) = self.resolve(elem);
            return (base.map(|b| format!("{b}[]")), t.typname.clone());
        }
        match t.typtype.as_str() {
            // Enums and composites have a text form every server can hold.
            "e" | "c" => (Some("text".into()), "text".into()),
            // An extension's type (citext, hstore) or a range over one.
            _ if !t.builtin => (Some("text".into()), "text".into()),
            _ => (None, t.typname.clone()),
        }
    }
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
        "int2" | "int4" | "int8" | "oid" => ColumnKind::Int,
        "float4" | "float8" => ColumnKind::Float,
        // money reads as numeric: its text depends on lc_monetary.
        "numeric" | "money" => ColumnKind::Numeric,
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

/// The type a target column is read as when it is compared with the
/// source's: the type the source's is built on (a domain's base, `text` for
/// an enum, a composite or an extension's type), which every server has and
/// whose text is the source type's text; else the source's own type.
pub fn comparison_type(c: &Column) -> &str {
    match &c.native.base {
        Some(b) if c.native.dialect == DIALECT && safe_type_name(b) => b,
        _ => native_or_kind_type(c),
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
        ColumnKind::Numeric
            if c.native.name == "money" || c.native.base.as_deref() == Some("money") =>
        {
            "::numeric::text"
        }
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
            native: NativeType::new(dialect, name),
            nullable: true,
        };
        assert_eq!(native_or_kind_type(&col("postgres", "integer")), "integer");
        assert_eq!(native_or_kind_type(&col("sqlite", "INTEGER")), "bigint");
        assert_eq!(native_or_kind_type(&col("postgres", "int; drop")), "bigint");
    }
}
