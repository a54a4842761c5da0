//! Writing the central SQLite file: one `BEGIN IMMEDIATE` transaction per
//! (connection, table), rows inserted through one cached statement, committed
//! at the end or rolled back on any error, so the table is never half-written.
//!
//! `full` deletes the branch's rows (all rows without a branch column) first
//! and inserts every row. `upsert` and `incremental` insert with
//! `ON CONFLICT (branch, key…) DO UPDATE … WHERE <some column IS NOT the new
//! value>`: a row identical to the target changes nothing, and SQLite's
//! change count of 0 makes it `skipped`.

use super::schema::{self, conflict_columns};
use super::session::{quote, Session};
use super::values::{to_value, Bind};
use crate::config::Mode;
use crate::driver::{
    CancelHandle, Column, ColumnKind, DriverError, Feed, Result, RowSink, Target, Value,
    WriteOutcome, WritePlan,
};
use rusqlite::types::ValueRef;
use rusqlite::{CachedStatement, Transaction, TransactionBehavior};

pub struct SqliteTarget {
    session: Session,
}

impl SqliteTarget {
    pub fn new(session: Session) -> Self {
        SqliteTarget { session }
    }
}

impl Target for SqliteTarget {
    fn prepare(&mut self, plan: &WritePlan) -> Result<()> {
        schema::prepare(&self.session, plan)
    }

    /// `max(cursor)` over this branch's rows, typed like the source's cursor
    /// column so the source can compare with it; `None` when there are none.
    fn watermark(&mut self, plan: &WritePlan) -> Result<Option<Value>> {
        let s = &self.session;
        s.check_cancelled()?;
        let table = plan.table;
        let cursor = plan.cursor.ok_or_else(|| {
            DriverError::schema(format!(
                "{}: table {table}: mode incremental needs cursor = \"<column>\" in its [[table]] entry",
                s.label
            ))
        })?;
        let mut sql = format!("SELECT max({}) FROM {}", quote(cursor), quote(table));
        if let Some((branch, _)) = plan.branch {
            sql.push_str(&format!(" WHERE {} = ?1", quote(branch)));
        }
        let raw: rusqlite::types::Value = s
            .with_wait(|c| match plan.branch {
                Some((_, name)) => c.query_row(&sql, [name], |r| r.get(0)),
                None => c.query_row(&sql, [], |r| r.get(0)),
            })
            .map_err(|e| s.error(e, &format!("reading the watermark of table {table}")))?;
        let kind = plan
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(cursor))
            .map_or(ColumnKind::Text, |c| c.kind);
        let value = to_value(kind, ValueRef::from(&raw));
        Ok((!value.is_null()).then_some(value))
    }

    fn write(&mut self, plan: &WritePlan, feed: &mut Feed) -> Result<WriteOutcome> {
        let s = &self.session;
        s.check_cancelled()?;
        let table = plan.table;
        let sql_err = |e: rusqlite::Error| s.error(e, &format!("writing table {table}"));
        let _wait = s.wait_scope();
        let tx =
            Transaction::new_unchecked(&s.conn, TransactionBehavior::Immediate).map_err(sql_err)?;
        if plan.mode == Mode::Full {
            match plan.branch {
                Some((branch, name)) => tx.execute(
                    &format!("DELETE FROM {} WHERE {} = ?1", quote(table), quote(branch)),
                    [name],
                ),
                None => tx.execute(&format!("DELETE FROM {}", quote(table)), []),
            }
            .map_err(sql_err)?;
        }
        // mirror: the keys the source sent, typed like the table's (so they
        // compare equal), to delete the slice's other rows at the end.
        let keys: Vec<String> = plan.key.iter().map(|k| quote(k)).collect();
        let seen = if plan.mode == Mode::Mirror {
            tx.execute_batch(&format!(
                "CREATE TEMP TABLE {SEEN} AS SELECT {} FROM {} WHERE 0",
                keys.join(", "),
                quote(table)
            ))
            .map_err(sql_err)?;
            let params: Vec<String> = (1..=keys.len()).map(|i| format!("?{i}")).collect();
            let sql = format!("INSERT INTO {SEEN} VALUES ({})", params.join(", "));
            Some(tx.prepare_cached(&sql).map_err(sql_err)?)
        } else {
            None
        };
        let mut stmt = tx.prepare_cached(&insert_sql(plan)).map_err(sql_err)?;
        let mut first = 1;
        if let Some((_, name)) = plan.branch {
            stmt.raw_bind_parameter(1, name).map_err(sql_err)?;
            first = 2;
        }
        let key_at = plan
            .key
            .iter()
            .filter_map(|k| {
                plan.columns
                    .iter()
                    .position(|c| c.name.eq_ignore_ascii_case(k))
            })
            .collect();
        let mut sink = InsertSink {
            session: s,
            table,
            columns: plan.columns,
            key_at,
            stmt,
            first,
            count_skips: plan.mode != Mode::Full,
            outcome: WriteOutcome::default(),
            seen,
        };
        feed(&mut sink)?;
        let mut outcome = sink.outcome;
        drop(sink);
        if plan.mode == Mode::Mirror {
            let same: Vec<String> = keys
                .iter()
                .map(|k| format!("s.{k} = {}.{k}", quote(table)))
                .collect();
            let mut sql = format!(
                "DELETE FROM {} WHERE NOT EXISTS (SELECT 1 FROM {SEEN} s WHERE {})",
                quote(table),
                same.join(" AND ")
            );
            outcome.deleted = match plan.branch {
                Some((branch, name)) => {
                    sql.push_str(&format!(" AND {} = ?1", quote(branch)));
                    tx.execute(&sql, [name])
                }
                None => tx.execute(&sql, []),
            }
            .map_err(sql_err)? as u64;
            tx.execute_batch(&format!("DROP TABLE {SEEN}"))
                .map_err(sql_err)?;
        }
        tx.commit().map_err(sql_err)?;
        Ok(outcome)
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.session.cancel_handle()
    }
}

/// The insert (or upsert) of one row: `?1` is the branch when there is one,
/// then the plan's columns in order.
fn insert_sql(plan: &WritePlan) -> String {
    let names: Vec<String> = plan
        .branch
        .map(|(b, _)| b)
        .into_iter()
        .chain(plan.columns.iter().map(|c| c.name.as_str()))
        .map(quote)
        .collect();
    let params: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let table = quote(plan.table);
    let mut sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        names.join(", "),
        params.join(", ")
    );
    if plan.mode == Mode::Full {
        return sql;
    }
    let conflict: Vec<String> = conflict_columns(plan).into_iter().map(quote).collect();
    sql.push_str(&format!(" ON CONFLICT ({}) DO ", conflict.join(", ")));
    let updated: Vec<String> = plan
        .columns
        .iter()
        .filter(|c| !plan.key.iter().any(|k| k.eq_ignore_ascii_case(&c.name)))
        .map(|c| quote(&c.name))
        .collect();
    if updated.is_empty() {
        sql.push_str("NOTHING");
        return sql;
    }
    let set: Vec<String> = updated
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let differs: Vec<String> = updated
        .iter()
        .map(|c| format!("{table}.{c} IS NOT excluded.{c}"))
        .collect();
    // SQLite parses `a OR b OR …` as a tree as deep as the list is long,
    // and refuses trees deeper than 1000: OR groups of 100 keep the widest
    // table SQLite allows (2,000 columns) far within that.
    let groups: Vec<String> = differs
        .chunks(100)
        .map(|g| format!("({})", g.join(" OR ")))
        .collect();
    sql.push_str(&format!(
        "UPDATE SET {} WHERE {}",
        set.join(", "),
        groups.join(" OR ")
    ));
    sql
}

/// The temporary table of the keys a mirror's source sent.
const SEEN: &str = "temp.branchsync_seen";

/// Binds each row to the prepared insert and counts what it changed.
struct InsertSink<'s, 'c> {
    session: &'s Session,
    table: &'s str,
    columns: &'s [Column],
    key_at: Vec<usize>,
    stmt: CachedStatement<'c>,
    /// Parameter number of the first column.
    first: usize,
    count_skips: bool,
    outcome: WriteOutcome,
    /// mirror: records each key sent.
    seen: Option<CachedStatement<'c>>,
}

impl InsertSink<'_, '_> {
    /// `id=42, line=3`, to name a row that failed.
    fn key_text(&self, values: &[Value]) -> String {
        let parts: Vec<String> = self
            .key_at
            .iter()
            .map(|&i| {
                let v = values[i].to_text().unwrap_or_else(|| "NULL".into());
                format!("{}={v}", self.columns[i].name)
            })
            .collect();
        if parts.is_empty() {
            format!("number {}", self.outcome.processed + 1)
        } else {
            format!("with key {}", parts.join(", "))
        }
    }
}

impl RowSink for InsertSink<'_, '_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        self.session.check_cancelled()?;
        if values.len() != self.columns.len() {
            return Err(DriverError::other(format!(
                "{}: table {}: a row has {} values for {} columns",
                self.session.label,
                self.table,
                values.len(),
                self.columns.len()
            )));
        }
        let bound = values
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| self.stmt.raw_bind_parameter(self.first + i, Bind(v)));
        let changed = bound.and_then(|()| self.stmt.raw_execute()).map_err(|e| {
            let what = format!(
                "writing table {}, row {}",
                self.table,
                self.key_text(values)
            );
            self.session.error(e, &what)
        })?;
        if let Some(seen) = self.seen.as_mut() {
            let bound = self
                .key_at
                .iter()
                .enumerate()
                .try_for_each(|(i, &at)| seen.raw_bind_parameter(i + 1, Bind(&values[at])));
            bound.and_then(|()| seen.raw_execute()).map_err(|e| {
                self.session
                    .error(e, &format!("writing table {}", self.table))
            })?;
        }
        self.outcome.processed += 1;
        if self.count_skips && changed == 0 {
            self.outcome.skipped += 1;
        }
        Ok(())
    }
}
