//! Table shapes: reading a table's columns and key from
//! `information_schema`, and making a target table fit what the source sends
//! (create it, add new columns, refuse conflicts). MySQL commits DDL
//! implicitly, so each statement stands alone.

use super::session::Session;
use super::types::{declared_for, kind_name, kind_of, target_can_hold};
use super::values::ident;
use crate::config::Mode;
use crate::driver::{Column, DriverError, NativeType, Result, TableSchema, WritePlan};
use mysql::prelude::Queryable;

/// `schema.table` quoted; no schema means the connection's database.
pub fn qualified(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(s) => format!("{}.{}", ident(s), ident(table)),
        None => ident(table),
    }
}

/// A table's columns and primary key, or `None` when it does not exist.
/// `schema` is the database (`None`: the one in the URL).
pub fn describe(s: &mut Session, schema: Option<&str>, table: &str) -> Result<Option<TableSchema>> {
    let doing = format!("describing table {table}");
    type Row = (String, String, String, String);
    let rows: std::result::Result<Vec<Row>, _> = s.conn().exec(
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (schema, table),
    );
    let rows = rows.map_err(|e| s.err(&e, &doing))?;
    if rows.is_empty() {
        return Ok(None);
    }
    // MariaDB's JSON is LONGTEXT CHECK (json_valid(`c`)); MySQL's is JSON.
    let checks: std::result::Result<Vec<String>, _> = s.conn().exec(
        "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
        (schema, table),
    );
    let checks = checks.unwrap_or_default();
    let key: std::result::Result<Vec<String>, _> = s.conn().exec(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
         ORDER BY ORDINAL_POSITION",
        (schema, table),
    );
    let primary_key = key.map_err(|e| s.err(&e, &doing))?;
    let columns = rows
        .into_iter()
        .map(|(name, data_type, column_type, nullable)| {
            let json = checks.iter().any(|c| {
                c.to_ascii_lowercase().replace(' ', "") == format!("json_valid({})", ident(&name))
            });
            Column {
                kind: kind_of(&data_type, &column_type, json),
                native: NativeType::new("mysql", if json { "json".into() } else { column_type }),
                nullable: nullable == "YES",
                name,
            }
        })
        .collect();
    Ok(Some(TableSchema {
        columns,
        primary_key,
    }))
}

/// Create the target table when missing, add the columns new at the
/// source, and fail on a type conflict or a missing key or branch column.
pub fn prepare(s: &mut Session, plan: &WritePlan, schema: Option<&str>) -> Result<()> {
    let table = plan.table;
    s.check_cancelled(&format!("preparing table {table}"))?;
    let name = s.name.clone();
    let fail = |m: String| DriverError::schema(format!("{name}: table {table}: {m}"));
    check_plan(plan).map_err(fail)?;
    let doing = format!("preparing table {table}");
    let target = qualified(schema, table);
    // Sessions of several branches prepare the same table at once: one at a
    // time, so a table is created once and a column added once.
    let lock = format!("branchsync.prepare.{target}");
    let got: Option<Option<i64>> = {
        let r = s.conn().exec_first("SELECT GET_LOCK(?, ?)", (&lock, 600));
        r.map_err(|e| s.err(&e, &doing))?
    };
    if got.flatten() != Some(1) {
        return Err(DriverError::new(
            crate::driver::ErrorKind::Timeout,
            format!("{name}: {doing}: another session held the table's lock for 10 minutes"),
        ));
    }
    let result = prepare_locked(s, plan, schema, &target, &doing).map_err(|e| match e {
        Fail::Plan(m) => fail(m),
        Fail::Driver(e) => e,
    });
    let released = s.conn().exec_drop("DO RELEASE_LOCK(?)", (&lock,));
    result?;
    released.map_err(|e| s.err(&e, &doing))
}

enum Fail {
    Plan(String),
    Driver(DriverError),
}

fn prepare_locked(
    s: &mut Session,
    plan: &WritePlan,
    schema: Option<&str>,
    target: &str,
    doing: &str,
) -> std::result::Result<(), Fail> {
    let table = plan.table;
    match describe(s, schema, table).map_err(Fail::Driver)? {
        None => {
            let sql = create_table_sql(plan, target, s.collation);
            s.exec(&sql, doing).map_err(Fail::Driver)?;
            log::info!("{}: created table {table}", s.name);
        }
        Some(existing) => {
            for col in check_existing(plan, &existing).map_err(Fail::Plan)? {
                let sql = format!(
                    "ALTER TABLE {target} ADD COLUMN {} {}",
                    ident(&col.name),
                    declared_for(col, false)
                );
                s.exec(&sql, doing).map_err(Fail::Driver)?;
                log::info!(
                    "{}: table {table}: added column {} (new at the source)",
                    s.name,
                    col.name
                );
            }
        }
    }
    Ok(())
}

fn check_plan(plan: &WritePlan) -> std::result::Result<(), String> {
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

fn create_table_sql(plan: &WritePlan, target: &str, collation: &str) -> String {
    let is_key = |name: &str| plan.key.iter().any(|k| k.eq_ignore_ascii_case(name));
    let mut defs = Vec::with_capacity(plan.columns.len() + 2);
    let mut pk = Vec::with_capacity(plan.key.len() + 1);
    if let Some((branch, _)) = plan.branch {
        defs.push(format!("{} VARCHAR(255) NOT NULL", ident(branch)));
        pk.push(ident(branch));
    }
    for col in plan.columns {
        let key = is_key(&col.name);
        let null = if key { " NOT NULL" } else { " NULL" };
        defs.push(format!(
            "{} {}{null}",
            ident(&col.name),
            declared_for(col, key)
        ));
    }
    if !plan.key.is_empty() {
        pk.extend(plan.key.iter().map(|k| ident(k)));
        defs.push(format!("PRIMARY KEY ({})", pk.join(", ")));
    } else if let Some((branch, _)) = plan.branch {
        // Full copies delete a branch's rows by this column.
        defs.push(format!("KEY ({})", ident(branch)));
    }
    format!(
        "CREATE TABLE {target} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE={collation}",
        defs.join(",\n  ")
    )
}

fn check_existing<'p>(
    plan: &WritePlan<'p>,
    existing: &TableSchema,
) -> std::result::Result<Vec<&'p Column>, String> {
    let find = |name: &str| {
        existing
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    };
    if let Some((branch, _)) = plan.branch {
        if find(branch).is_none() {
            return Err(format!(
                "the target table has no branch column {branch}. Add it (ALTER TABLE … ADD COLUMN {branch} VARCHAR(255) NOT NULL), or drop the table so it is created again"
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
            Some(have) if !target_can_hold(have.kind, col) => {
                return Err(format!(
                    "column {}: type conflict: the source has {} ({}) but the target column is {} ({}), which cannot hold it unchanged. Change one of the two types, or drop the target table so it is created again",
                    col.name,
                    col.native.name,
                    kind_name(col.kind),
                    have.native.name,
                    kind_name(have.kind)
                ));
            }
            Some(_) => {}
        }
    }
    if plan.mode != Mode::Full {
        let mut wanted: Vec<String> = plan
            .branch
            .map(|(b, _)| b.to_ascii_lowercase())
            .into_iter()
            .collect();
        wanted.extend(plan.key.iter().map(|k| k.to_ascii_lowercase()));
        let mut have: Vec<String> = existing
            .primary_key
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect();
        wanted.sort();
        have.sort();
        if wanted != have {
            return Err(format!(
                "mode {} needs the primary key ({}) at the target, which has ({}). Change the key, or drop the table so it is created again",
                plan.mode.as_str(),
                wanted.join(", "),
                have.join(", ")
            ));
        }
    }
    Ok(missing)
}
