//! Table shapes: reading a table's columns and key (`pragma_table_info`), and
//! making a target table fit what the source sends (create it, add new
//! columns, refuse conflicts), all in one transaction.

use super::session::{quote, Session};
use super::types::{self, Affinity};
use crate::config::Mode;
use crate::driver::{Column, DriverError, NativeType, Result, TableSchema, WritePlan};
use rusqlite::{Connection, Transaction, TransactionBehavior};

/// A table's columns (declared types mapped to kinds) and primary key, or
/// `None` when there is no such table (or view).
pub fn describe(conn: &Connection, table: &str) -> rusqlite::Result<Option<TableSchema>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid",
    )?;
    let mut rows = stmt.query([table])?;
    let mut schema = TableSchema::default();
    let mut key: Vec<(i64, String)> = Vec::new();
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let declared: String = row.get(1)?;
        let not_null: bool = row.get(2)?;
        let pk: i64 = row.get(3)?;
        if pk > 0 {
            key.push((pk, name.clone()));
        }
        schema.columns.push(Column {
            name,
            kind: types::kind_of(&declared),
            native: NativeType::new("sqlite", declared),
            nullable: !not_null,
        });
    }
    if schema.columns.is_empty() {
        return Ok(None);
    }
    key.sort();
    schema.primary_key = key.into_iter().map(|(_, name)| name).collect();
    Ok(Some(schema))
}

/// Create the target table when missing, add the columns new at the source,
/// and fail on a type conflict, a missing key or branch column, or (for
/// upsert and incremental) a missing unique key.
pub fn prepare(session: &Session, plan: &WritePlan) -> Result<()> {
    session.check_cancelled()?;
    let table = plan.table;
    let fail = |message: String| {
        DriverError::schema(format!("{}: table {table}: {message}", session.label))
    };
    check_plan(plan).map_err(fail)?;
    let sql_err = |e: rusqlite::Error| session.error(e, &format!("preparing table {table}"));
    let _wait = session.wait_scope();
    let tx = Transaction::new_unchecked(&session.conn, TransactionBehavior::Immediate)
        .map_err(sql_err)?;
    match describe(&tx, table).map_err(sql_err)? {
        None => {
            tx.execute_batch(&create_table_sql(plan)).map_err(sql_err)?;
            log::info!("{}: created table {table}", session.label);
        }
        Some(existing) => {
            let unique = unique_indexes(&tx, table).map_err(sql_err)?;
            let missing = check_existing(plan, &existing, &unique).map_err(fail)?;
            for col in missing {
                let sql = format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    quote(table),
                    quote(&col.name),
                    declared_type(col)
                );
                tx.execute_batch(&sql).map_err(sql_err)?;
                log::info!(
                    "{}: table {table}: added column {} (new at the source)",
                    session.label,
                    col.name
                );
            }
        }
    }
    tx.commit().map_err(sql_err)
}

/// What the plan itself must satisfy, whatever the target holds.
fn check_plan(plan: &WritePlan) -> Result<(), String> {
    for k in plan.key {
        if !plan.columns.iter().any(|c| c.name.eq_ignore_ascii_case(k)) {
            return Err(format!("key column {k} is not among the source's columns"));
        }
    }
    if plan.mode != Mode::Full && plan.key.is_empty() {
        return Err(format!(
            "mode {} needs a key; set key = [\"<column>\", …] in its [[table]] entry",
            plan.mode.as_str()
        ));
    }
    if let Some((branch, _)) = plan.branch {
        if plan
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(branch))
        {
            return Err(format!(
                "the source has a column named {branch}, like the branch column; set [target] branch_column to another name"
            ));
        }
    }
    Ok(())
}

/// The declared type of a new column: a SQLite type is kept when it is a
/// plain type name, anything else is named after its kind.
fn declared_type(col: &Column) -> String {
    let declared = types::declared_for(col);
    let plain = declared
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " _(),.+-".contains(c));
    if plain {
        declared
    } else {
        let mut by_kind = col.clone();
        by_kind.native.dialect = "";
        types::declared_for(&by_kind)
    }
}

fn create_table_sql(plan: &WritePlan) -> String {
    let is_key = |name: &str| plan.key.iter().any(|k| k.eq_ignore_ascii_case(name));
    let mut defs: Vec<String> = Vec::with_capacity(plan.columns.len() + 2);
    let mut pk: Vec<String> = Vec::with_capacity(plan.key.len() + 1);
    if let Some((branch, _)) = plan.branch {
        defs.push(format!("{} TEXT NOT NULL", quote(branch)));
        pk.push(quote(branch));
    }
    for col in plan.columns {
        let not_null = if is_key(&col.name) { " NOT NULL" } else { "" };
        defs.push(format!(
            "{} {}{not_null}",
            quote(&col.name),
            declared_type(col)
        ));
    }
    if !plan.key.is_empty() {
        pk.extend(plan.key.iter().map(|k| quote(k)));
        defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    }
    format!(
        "CREATE TABLE {} (\n  {}\n)",
        quote(plan.table),
        defs.join(",\n  ")
    )
}

/// Check an existing target table against the plan; returns the source
/// columns the target lacks.
fn check_existing<'p>(
    plan: &WritePlan<'p>,
    existing: &TableSchema,
    unique: &[Vec<String>],
) -> Result<Vec<&'p Column>, String> {
    let find = |name: &str| {
        existing
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    };
    if let Some((branch, _)) = plan.branch {
        if find(branch).is_none() {
            return Err(format!(
                "the target table has no branch column {branch}. Add it (ALTER TABLE … ADD COLUMN {branch} TEXT), or drop the table so it is created again"
            ));
        }
    }
    for k in plan.key {
        if find(k).is_none() {
            return Err(format!(
                "key column {k} is missing at the target. Add it, or drop the table so it is created again"
            ));
        }
    }
    let mut missing = Vec::new();
    for col in plan.columns {
        match find(&col.name) {
            None => missing.push(col),
            Some(have) if !types::target_can_hold(&have.native.name, col) => {
                return Err(format!(
                    "column {}: type conflict: the source has {} but the target column is {:?} ({} affinity), which cannot hold it unchanged. Change one of the two types, or drop the target table so it is created again",
                    col.name,
                    types::describe_source_type(col),
                    have.native.name,
                    Affinity::of(&have.native.name).name()
                ));
            }
            Some(_) => {}
        }
    }
    if plan.mode != Mode::Full && !has_unique_key(plan, existing, unique) {
        let cols = conflict_columns(plan).join(", ");
        return Err(format!(
            "mode {} needs a primary key or unique index on ({cols}) at the target. Add one: CREATE UNIQUE INDEX ON {}({cols})",
            plan.mode.as_str(),
            plan.table
        ));
    }
    Ok(missing)
}

/// `(branch, key…)` or `(key…)`: the columns that identify a target row.
pub fn conflict_columns<'p>(plan: &WritePlan<'p>) -> Vec<&'p str> {
    plan.branch
        .map(|(b, _)| b)
        .into_iter()
        .chain(plan.key.iter().map(String::as_str))
        .collect()
}

fn same_set(a: &[&str], b: &[String]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| b.iter().any(|y| y.eq_ignore_ascii_case(x)))
}

fn has_unique_key(plan: &WritePlan, existing: &TableSchema, unique: &[Vec<String>]) -> bool {
    let wanted = conflict_columns(plan);
    same_set(&wanted, &existing.primary_key) || unique.iter().any(|set| same_set(&wanted, set))
}

/// The column sets of the table's unique indexes (primary key included,
/// unless it is the rowid).
fn unique_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Vec<String>>> {
    let mut stmt = conn.prepare(
        "SELECT il.name, ii.name FROM pragma_index_list(?1) AS il, pragma_index_info(il.name) AS ii \
         WHERE il.\"unique\" = 1 ORDER BY il.seq, ii.seqno",
    )?;
    let mut rows = stmt.query([table])?;
    let mut sets: Vec<(String, Vec<String>)> = Vec::new();
    while let Some(row) = rows.next()? {
        let index: String = row.get(0)?;
        // An expression in the index has no name: the set then matches no key.
        let column: String = row.get::<_, Option<String>>(1)?.unwrap_or_default();
        match sets.last_mut() {
            Some((name, cols)) if *name == index => cols.push(column),
            _ => sets.push((index, vec![column])),
        }
    }
    Ok(sets.into_iter().map(|(_, cols)| cols).collect())
}
