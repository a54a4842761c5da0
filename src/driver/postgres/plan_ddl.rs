//! The schema plan at a PostgreSQL central: create each table once, or add
//! and widen its columns, so that it holds every branch of the batch before
//! any copy starts. One transaction per table, under the same advisory lock
//! as a copy's own preparation and a short `lock_timeout`, so that a plan
//! never waits long behind a reader and never runs while a copy adds a
//! column or publishes a staged slice of the same table.

use super::ddl;
use super::endpoint::Session;
use super::families::{of_type, planned_column, type_of, widen_using};
use super::ident::{quote_ident, quote_table};
use super::schema;
use crate::driver::lattice::Family;
use crate::driver::{Column, Result, WritePlan};

/// How long the plan waits for a lock on a central table before it gives
/// up (and the batch fails, naming the table, to be run again).
const LOCK_TIMEOUT: &str = "10s";

/// The families of the existing table's columns.
pub fn existing(
    session: &mut Session,
    schema_name: &str,
    table: &str,
) -> Result<Option<Vec<(String, Family)>>> {
    let doing = format!("describing {}", quote_table(schema_name, table));
    let d = schema::describe(session.client(), schema_name, table);
    let d = d.map_err(|e| session.err(&e, &doing))?;
    Ok(d.map(|d| {
        d.columns
            .iter()
            .map(|c| (c.name.clone(), of_type(&c.native.name)))
            .collect()
    }))
}

pub fn apply(
    session: &mut Session,
    plan: &WritePlan,
    columns: &[(String, Family)],
    dry_run: bool,
) -> Result<Vec<String>> {
    let table = quote_table(plan.schema, plan.table);
    let doing = format!("planning {table}");
    session.check_cancelled(&doing)?;
    if dry_run {
        let existing = existing(session, plan.schema, plan.table)?;
        return Ok(statements(plan, columns, existing.as_deref(), &table));
    }
    session.exec("BEGIN", &doing)?;
    let r = apply_in_tx(session, plan, columns, &table, &doing);
    match r {
        Ok(done) => {
            session.exec("COMMIT", &doing)?;
            Ok(done)
        }
        Err(e) => {
            session.rollback();
            Err(e)
        }
    }
}

fn apply_in_tx(
    session: &mut Session,
    plan: &WritePlan,
    columns: &[(String, Family)],
    table: &str,
    doing: &str,
) -> Result<Vec<String>> {
    session.exec(&format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"), doing)?;
    let lock = format!("{}.{}", plan.schema, plan.table);
    let r = session
        .client()
        .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock]);
    r.map_err(|e| session.err(&e, doing))?;
    let existing = existing(session, plan.schema, plan.table)?;
    if existing.is_none() {
        let cols: Vec<Column> = columns.iter().map(|(n, f)| planned_column(n, f)).collect();
        let types: Vec<String> = columns.iter().map(|(_, f)| type_of(f)).collect();
        let created = WritePlan {
            columns: &cols,
            ..plan.clone()
        };
        ddl::create(session, &created, &types, table, doing)?;
        ddl::ensure_partition(session, plan, doing)?;
        ddl::watermark_index(session, plan, table, doing)?;
        return Ok(statements(plan, columns, None, table));
    }
    let sql = statements(plan, columns, existing.as_deref(), table);
    for s in &sql {
        session.exec(s, doing)?;
    }
    Ok(sql)
}

/// The statements that make the table hold `columns`: a `CREATE TABLE`
/// ([`ddl::create`] runs the same), or one `ALTER TABLE` adding the
/// missing columns and widening the others.
fn statements(
    plan: &WritePlan,
    columns: &[(String, Family)],
    existing: Option<&[(String, Family)]>,
    table: &str,
) -> Vec<String> {
    let Some(existing) = existing else {
        let cols: Vec<Column> = columns.iter().map(|(n, f)| planned_column(n, f)).collect();
        let types: Vec<String> = columns.iter().map(|(_, f)| type_of(f)).collect();
        let created = WritePlan {
            columns: &cols,
            ..plan.clone()
        };
        return vec![ddl::create_sql(&created, &types, table)];
    };
    let mut changes = Vec::new();
    for (name, want) in columns {
        match existing.iter().find(|(n, _)| n == name) {
            None => changes.push(format!(
                "ADD COLUMN IF NOT EXISTS {} {}",
                quote_ident(name),
                type_of(want)
            )),
            Some((_, have)) if have != want => changes.push(format!(
                "ALTER COLUMN {} TYPE {} USING {}",
                quote_ident(name),
                type_of(want),
                widen_using(name, have, want)
            )),
            Some(_) => {}
        }
    }
    if changes.is_empty() {
        Vec::new()
    } else {
        vec![format!("ALTER TABLE {table} {}", changes.join(", "))]
    }
}
