//! Making the target table fit the source: create
//! it when missing, add columns new at the source, and refuse type conflicts
//! and vanished key columns with a message naming table, column and types.
//! Runs in its own transaction, serialized per table by an advisory lock so
//! that branches preparing the same table at once do not collide.

use super::compat::{accepts, stored_type};
use super::endpoint::Session;
use super::families;
use super::ident::{quote_ident, quote_list, quote_table};
use super::partition;
use super::schema::{self, DIALECT};
use crate::config::Mode;
use crate::driver::lattice;
use crate::driver::{Column, DriverError, Result, WritePlan};

/// How a type is shown in messages: `numeric(10,0)`, or `INTEGER (sqlite)`.
fn shown(c: &Column) -> String {
    if c.native.dialect == DIALECT {
        match &c.native.base {
            Some(base) => format!("{} (over {base})", c.native.name),
            None => c.native.name.clone(),
        }
    } else {
        format!("{} ({})", c.native.name, c.native.dialect)
    }
}

/// A PostgreSQL array column of the source for a target column that is not
/// an array (docs/TYPES.md: refused, never stored as its text).
fn is_array_into_scalar(c: &Column, target: &str) -> bool {
    c.native.dialect == DIALECT && c.native.name.ends_with("[]") && !target.ends_with("[]")
}

/// The type a new target column gets ([`stored_type`]). Whether the target
/// knows the source's own type is looked up outside any transaction, where a
/// failed lookup cannot abort anything.
fn column_type(session: &mut Session, c: &Column) -> String {
    stored_type(c, |name| {
        session
            .client()
            .query_one("SELECT to_regtype($1) IS NOT NULL", &[&name])
            .map(|r| r.get::<_, bool>(0))
            .unwrap_or(false)
    })
}

/// The fix of a type conflict: the central column becomes the least type
/// holding both (the type lattice), by a cast that keeps every value it
/// holds; without one, the source must change.
fn conflict_fix(table: &str, c: &Column, target: &str) -> String {
    let have = families::of_type(target);
    let want = families::of_column(c, |_| false);
    match lattice::join(&have, &want) {
        Ok(both) => format!(
            "change the target column (ALTER TABLE {table} ALTER COLUMN {} TYPE {} USING {}) or the source",
            quote_ident(&c.name),
            families::type_of(&both),
            families::widen_using(&c.name, &have, &both)
        ),
        Err(_) => format!(
            "no type holds both without loss: change the source column to {target}"
        ),
    }
}

/// Checks what the plan itself must satisfy.
fn check_plan(plan: &WritePlan, named: &str) -> Result<()> {
    for k in plan.key {
        if !plan.columns.iter().any(|c| &c.name == k) {
            return Err(DriverError::schema(format!(
                "{named}: the key column {k:?} is not among the source's columns; fix `key` in the [[table]] entry"
            )));
        }
    }
    if plan.mode != Mode::Full && plan.key.is_empty() {
        return Err(DriverError::schema(format!(
            "{named}: mode {} needs a key to match rows; set `key` in the [[table]] entry or use mode = \"full\"",
            plan.mode.as_str()
        )));
    }
    if plan.mode == Mode::Incremental {
        match plan.cursor {
            Some(c) if plan.columns.iter().any(|col| col.name == c) => {}
            Some(c) => {
                return Err(DriverError::schema(format!(
                    "{named}: the cursor column {c:?} is not among the source's columns; fix `cursor` in the [[table]] entry"
                )))
            }
            None => {
                return Err(DriverError::schema(format!(
                    "{named}: mode incremental needs a cursor column; set `cursor` in the [[table]] entry"
                )))
            }
        }
    }
    Ok(())
}

/// The key the target must be unique on: (branch, key…).
fn conflict_key<'a>(plan: &WritePlan<'a>) -> Vec<&'a str> {
    plan.branch
        .map(|(b, _)| b)
        .into_iter()
        .chain(plan.key.iter().map(String::as_str))
        .collect()
}

pub fn prepare(session: &mut Session, plan: &WritePlan) -> Result<()> {
    let table = quote_table(plan.schema, plan.table);
    let named = format!("{}: table {}.{}", session.server, plan.schema, plan.table);
    let doing = format!("preparing {table}");
    session.check_cancelled(&doing)?;
    check_plan(plan, &named)?;
    let types: Vec<String> = plan
        .columns
        .iter()
        .map(|c| column_type(session, c))
        .collect();
    session.exec("BEGIN", &doing)?;
    let r = prepare_in_tx(session, plan, &types, &table, &named, &doing);
    match r {
        Ok(()) => session.exec("COMMIT", &doing),
        Err(e) => {
            session.rollback();
            Err(e)
        }
    }
}

fn prepare_in_tx(
    session: &mut Session,
    plan: &WritePlan,
    types: &[String],
    table: &str,
    named: &str,
    doing: &str,
) -> Result<()> {
    let lock = format!("{}.{}", plan.schema, plan.table);
    let r = session
        .client()
        .execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock]);
    r.map_err(|e| session.err(&e, doing))?;
    let existing = schema::describe(session.client(), plan.schema, plan.table);
    let existing = existing.map_err(|e| session.err(&e, doing))?;
    let Some(existing) = existing else {
        create(session, plan, types, table, doing)?;
        ensure_partition(session, plan, doing)?;
        return watermark_index(session, plan, table, doing);
    };
    if let Some((b, _)) = plan.branch {
        if existing.column(b).is_none() {
            return Err(DriverError::schema(format!(
                "{named}: the target table has no branch column {b:?}; add it (ALTER TABLE {table} ADD COLUMN {} text) with a primary key over ({}), or drop the table so that it is recreated",
                quote_ident(b),
                conflict_key(plan).join(", ")
            )));
        }
    }
    for k in plan.key {
        if existing.column(k).is_none() {
            return Err(DriverError::schema(format!(
                "{named}: the key column {k:?} is missing at the target; add it back or drop the target table so that it is recreated"
            )));
        }
    }
    let mut added = Vec::new();
    for (c, ty) in plan.columns.iter().zip(types) {
        match existing.column(&c.name) {
            None => added.push(format!(
                "ADD COLUMN IF NOT EXISTS {} {ty}",
                quote_ident(&c.name)
            )),
            Some(t) if !accepts(c, &t.native.name) && is_array_into_scalar(c, &t.native.name) => {
                return Err(DriverError::schema(format!(
                    "{named}, column {:?}: type conflict: the source has an array, {}, but the target has {}, and an array's text ({{\"a\",\"b\"}}) is not the text other branches send (a,b); \
                     make the target column an array (ALTER TABLE {table} ALTER COLUMN {col} TYPE {ty} USING string_to_array({col}, ',')), or have the branch send text (array_to_string({col}, ',') in a view)",
                    c.name,
                    shown(c),
                    t.native.name,
                    col = quote_ident(&c.name)
                )));
            }
            Some(t) if !accepts(c, &t.native.name) => {
                return Err(DriverError::schema(format!(
                    "{named}, column {:?}: type conflict: the source has {} but the target has {}; {}",
                    c.name,
                    shown(c),
                    t.native.name,
                    conflict_fix(table, c, &t.native.name)
                )));
            }
            Some(_) => {}
        }
    }
    if plan.mode != Mode::Full {
        check_unique(session, plan, table, named, doing)?;
    }
    if !added.is_empty() {
        let sql = format!("ALTER TABLE {table} {}", added.join(", "));
        session.exec(&sql, doing)?;
    }
    ensure_partition(session, plan, doing)?;
    watermark_index(session, plan, table, doing)
}

/// A partitioned table gets this branch's partition on its first sync.
pub(super) fn ensure_partition(session: &mut Session, plan: &WritePlan, doing: &str) -> Result<()> {
    let Some((_, branch)) = plan.branch else {
        return Ok(());
    };
    if partition::is_partitioned(session, plan.schema, plan.table, doing)? {
        partition::ensure(session, plan.schema, plan.table, branch, doing)?;
    }
    Ok(())
}

/// Incremental runs read `max(cursor)` of their branch: an index on
/// (branch, cursor) answers that without scanning the table.
pub(super) fn watermark_index(
    session: &mut Session,
    plan: &WritePlan,
    table: &str,
    doing: &str,
) -> Result<()> {
    let (Mode::Incremental, Some(cursor)) = (plan.mode, plan.cursor) else {
        return Ok(());
    };
    let mut name = format!("{}_{cursor}_watermark", plan.table);
    // Identifiers are cut at 63 bytes; cut at a character boundary.
    while name.len() > 63 {
        name.pop();
    }
    let columns: Vec<&str> = plan
        .branch
        .map(|(b, _)| b)
        .into_iter()
        .chain([cursor])
        .collect();
    let sql = format!(
        "CREATE INDEX IF NOT EXISTS {} ON {table} ({})",
        quote_ident(&name),
        quote_list(columns)
    );
    session.exec(&sql, doing)
}

pub(super) fn create(
    session: &mut Session,
    plan: &WritePlan,
    types: &[String],
    table: &str,
    doing: &str,
) -> Result<()> {
    session.exec(&create_sql(plan, types, table), doing)
}

/// The `CREATE TABLE` of [`create`].
pub(super) fn create_sql(plan: &WritePlan, types: &[String], table: &str) -> String {
    let mut defs = Vec::new();
    if let Some((b, _)) = plan.branch {
        // Byte-wise comparison: the key index is cheaper to maintain than
        // under a linguistic collation, and equality means the same.
        defs.push(format!("{} text COLLATE \"C\" NOT NULL", quote_ident(b)));
    }
    for (c, ty) in plan.columns.iter().zip(types) {
        defs.push(format!("{} {ty}", quote_ident(&c.name)));
    }
    if !plan.key.is_empty() {
        defs.push(format!("PRIMARY KEY ({})", quote_list(conflict_key(plan))));
    }
    let partitioned = match plan.branch {
        Some((b, _)) if plan.partition_by_branch => {
            format!(" PARTITION BY LIST ({})", quote_ident(b))
        }
        _ => String::new(),
    };
    format!("CREATE TABLE {table} ({}){partitioned}", defs.join(", "))
}

/// Upserts need a unique index on exactly (branch, key…).
fn check_unique(
    session: &mut Session,
    plan: &WritePlan,
    table: &str,
    named: &str,
    doing: &str,
) -> Result<()> {
    let oid = schema::relation_oid(session.client(), plan.schema, plan.table);
    let Some(oid) = oid.map_err(|e| session.err(&e, doing))? else {
        return Ok(());
    };
    let keys = schema::unique_keys(session.client(), oid).map_err(|e| session.err(&e, doing))?;
    let mut want: Vec<&str> = conflict_key(plan);
    want.sort_unstable();
    let found = keys.iter().any(|k| {
        let mut k: Vec<&str> = k.iter().map(String::as_str).collect();
        k.sort_unstable();
        k == want
    });
    if found {
        Ok(())
    } else {
        Err(DriverError::schema(format!(
            "{named}: mode {} matches rows on ({}) but the target has no primary key or unique index on exactly those columns; add one (ALTER TABLE {table} ADD PRIMARY KEY ({}))",
            plan.mode.as_str(),
            conflict_key(plan).join(", "),
            quote_list(conflict_key(plan))
        )))
    }
}
