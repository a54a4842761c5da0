//! Reading a branch's MySQL table: one `START TRANSACTION WITH CONSISTENT
//! SNAPSHOT, READ ONLY` per table, rows streamed from the server one at a
//! time (the client does not buffer a result), decoded by kind into the
//! engine's sink. Rows with a NULL key, with a zero date (`0000-00-00`,
//! which no other database holds) or with a `TINYINT(1)` that is neither 0
//! nor 1 (a boolean would change it), go to the reject sink with their
//! reason.

use super::schema::{self, qualified};
use super::session::Session;
use super::values::{decode_owned, ident, literal, Unreadable};
use crate::driver::{
    CancelHandle, DriverError, ReadRequest, RejectSink, Result, RowSink, Source, TableSchema, Value,
};
use mysql::prelude::Queryable;

pub struct MysqlSource {
    session: Session,
}

impl MysqlSource {
    pub fn new(session: Session) -> Self {
        MysqlSource { session }
    }
}

impl Source for MysqlSource {
    /// `schema` is the database; `None` is the one in the URL.
    fn describe(&mut self, schema: Option<&str>, table: &str) -> Result<Option<TableSchema>> {
        self.session
            .check_cancelled(&format!("describing table {table}"))?;
        schema::describe(&mut self.session, schema, table)
    }

    fn read(
        &mut self,
        req: &ReadRequest,
        sink: &mut dyn RowSink,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64> {
        let table = req.table;
        let doing = format!("reading table {table}");
        let s = &mut self.session;
        s.check_cancelled(&doing)?;
        let key_at = req.key_positions(&s.name)?;
        let sql = select_sql(req, sink.wants_key_order())
            .map_err(|m| DriverError::other(format!("{}: table {table}: {m}", s.name)))?;
        s.exec(
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            &doing,
        )?;
        let sent = stream(s, req, &sql, &key_at, sink, rejects, &doing);
        match sent {
            Ok(n) => {
                s.exec("COMMIT", &doing)?;
                Ok(n)
            }
            Err(e) => {
                s.rollback();
                Err(e)
            }
        }
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.session.cancel_handle()
    }

    /// InnoDB's estimate from `information_schema.TABLES` (no scan).
    fn estimate_rows(&mut self, schema: Option<&str>, table: &str) -> Option<u64> {
        self.session
            .conn()
            .exec_first::<Option<u64>, _, _>(
                "SELECT TABLE_ROWS FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
                (schema, table),
            )
            .ok()
            .flatten()
            .flatten()
    }
}

fn stream(
    s: &mut Session,
    req: &ReadRequest,
    sql: &str,
    key_at: &[usize],
    sink: &mut dyn RowSink,
    rejects: &mut dyn RejectSink,
    doing: &str,
) -> Result<u64> {
    let name = s.name.clone();
    let cancelled = |s: &Session| s.check_cancelled(doing);
    cancelled(s)?;
    let flag = s.cancel_flag();
    let mut result = {
        let r = s.conn().query_iter(sql);
        r.map_err(|e| super::session::error(&name, &e, doing, flag.is_set()))?
    };
    let mut values: Vec<Value> = Vec::with_capacity(req.columns.len());
    let mut sent = 0u64;
    for row in result.by_ref() {
        let row = row.map_err(|e| super::session::error(&name, &e, doing, flag.is_set()))?;
        if flag.is_set() {
            return Err(super::session::cancelled(&name, doing));
        }
        values.clear();
        let mut problem: Option<String> = None;
        let cells = row.unwrap_raw();
        if cells.len() != req.columns.len() {
            return Err(DriverError::other(format!(
                "{name}: {doing}: a row of {} values for {} columns",
                cells.len(),
                req.columns.len()
            )));
        }
        for (cell, col) in cells.into_iter().zip(req.columns.iter()) {
            let raw = match cell {
                Some(mysql::Value::NULL) | None => None,
                Some(mysql::Value::Bytes(b)) => Some(b),
                Some(other) => {
                    return Err(DriverError::other(format!(
                        "{name}: {doing}: column {}: unexpected value {other:?} in a text result",
                        col.name
                    )))
                }
            };
            match decode_owned(col.kind, raw) {
                Ok(v) => values.push(v),
                Err(Unreadable::ZeroDate(z)) => {
                    problem.get_or_insert(format!(
                        "column {} holds the MySQL zero date {z}, which no other database can store; correct the row at the branch (or set it NULL there)",
                        col.name
                    ));
                    values.push(Value::Text(z));
                }
                Err(Unreadable::NotBoolean(n)) => {
                    problem.get_or_insert(format!(
                        "column {} is TINYINT(1), read as a boolean, but holds {n}, which a boolean would change; store 0 or 1 at the branch, or declare the column TINYINT there to copy it as a number",
                        col.name
                    ));
                    values.push(Value::Text(n));
                }
                Err(Unreadable::Bad(why)) => {
                    return Err(DriverError::other(format!(
                        "{name}: {doing}: column {}: {why}",
                        col.name
                    )))
                }
            }
        }
        if problem.is_none() {
            if let Some(&i) = key_at.iter().find(|&&i| values[i].is_null()) {
                problem = Some(format!("NULL in key column {}", req.columns[i].name));
            }
        }
        match problem {
            Some(reason) => rejects.reject(req.columns, &values, &reason)?,
            None => {
                sink.row(&values)?;
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// A column of the select list. The text protocol prints a `FLOAT` with
/// six significant digits (16777216 as `16777200`, 123.456787109375 as
/// `123.457`), so a `FLOAT` is read as the `DOUBLE` holding its exact value.
fn select_item(c: &crate::driver::Column) -> String {
    let float =
        c.native.dialect == "mysql" && c.native.name.to_ascii_lowercase().starts_with("float");
    if float {
        format!("CAST({} AS DOUBLE)", ident(&c.name))
    } else {
        ident(&c.name)
    }
}

/// `SELECT cols FROM t [WHERE cursor >= literal] [ORDER BY key]`. The
/// cursor value is written as a literal: the text protocol streams rows,
/// and a prepared statement's binary rows would be decoded twice.
fn select_sql(req: &ReadRequest, key_order: bool) -> std::result::Result<String, String> {
    let cols: Vec<String> = req.columns.iter().map(select_item).collect();
    let mut sql = format!(
        "SELECT {} FROM {}",
        cols.join(", "),
        qualified(req.schema, req.table)
    );
    if let Some((cursor, from)) = req.since {
        sql.push_str(&format!(" WHERE {} >= ", ident(cursor)));
        literal(&mut sql, from)?;
    }
    if key_order && !req.key.is_empty() {
        let key: Vec<String> = req.key.iter().map(|k| ident(k)).collect();
        sql.push_str(&format!(" ORDER BY {}", key.join(", ")));
    }
    Ok(sql)
}
