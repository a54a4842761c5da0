//! Reading a branch's SQLite file: describe a table, and stream its rows (one
//! read transaction, so one snapshot) into the engine's sink, rows with a
//! NULL key into the reject sink.

use super::schema;
use super::session::{quote, Session};
use super::values::{to_value, Bind};
use crate::driver::{
    CancelHandle, ReadRequest, RejectSink, Result, RowSink, Source, TableSchema, Value,
};
use rusqlite::{Transaction, TransactionBehavior};

pub struct SqliteSource {
    session: Session,
}

impl SqliteSource {
    pub fn new(session: Session) -> Self {
        SqliteSource { session }
    }
}

impl Source for SqliteSource {
    /// SQLite has no schemas; `_schema` is ignored.
    fn describe(&mut self, _schema: Option<&str>, table: &str) -> Result<Option<TableSchema>> {
        let s = &self.session;
        s.check_cancelled()?;
        s.with_wait(|conn| schema::describe(conn, table))
            .map_err(|e| s.error(e, &format!("describing table {table}")))
    }

    fn read(
        &mut self,
        req: &ReadRequest,
        sink: &mut dyn RowSink,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64> {
        let s = &self.session;
        s.check_cancelled()?;
        let table = req.table;
        let key_at = req.key_positions(&s.label)?;
        let sql_err = |e: rusqlite::Error| s.error(e, &format!("reading table {table}"));
        let _wait = s.wait_scope();
        let tx =
            Transaction::new_unchecked(&s.conn, TransactionBehavior::Deferred).map_err(sql_err)?;
        let mut stmt = tx.prepare(&select_sql(req)).map_err(sql_err)?;
        let mut rows = match req.since {
            Some((_, from)) => stmt.query([Bind(from)]),
            None => stmt.query([]),
        }
        .map_err(sql_err)?;
        let mut values: Vec<Value> = Vec::with_capacity(req.columns.len());
        let mut sent = 0u64;
        while let Some(row) = rows.next().map_err(sql_err)? {
            s.check_cancelled()?;
            values.clear();
            for (i, col) in req.columns.iter().enumerate() {
                values.push(to_value(col.kind, row.get_ref(i).map_err(sql_err)?));
            }
            match key_at.iter().find(|&&i| values[i].is_null()) {
                Some(&i) => {
                    let reason = format!("NULL in key column {}", req.columns[i].name);
                    rejects.reject(req.columns, &values, &reason)?;
                }
                None => {
                    sink.row(&values)?;
                    sent += 1;
                }
            }
        }
        drop(rows);
        drop(stmt);
        tx.commit().map_err(sql_err)?;
        Ok(sent)
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.session.cancel_handle()
    }

    /// The row count from `sqlite_stat1` when `ANALYZE` has run, else
    /// `count(*)` (SQLite counts without decoding rows).
    fn estimate_rows(&mut self, _schema: Option<&str>, table: &str) -> Option<u64> {
        let s = &self.session;
        let analyzed: Option<String> = s
            .with_wait(|c| {
                c.query_row(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = ?1 COLLATE NOCASE LIMIT 1",
                    [table],
                    |r| r.get(0),
                )
            })
            .ok();
        if let Some(n) = analyzed.and_then(|stat| stat.split(' ').next()?.parse().ok()) {
            return Some(n);
        }
        let sql = format!("SELECT count(*) FROM {}", quote(table));
        s.with_wait(|c| c.query_row(&sql, [], |r| r.get::<_, i64>(0)))
            .ok()
            .and_then(|n| u64::try_from(n).ok())
    }
}

fn select_sql(req: &ReadRequest) -> String {
    let cols: Vec<String> = req.columns.iter().map(|c| quote(&c.name)).collect();
    let mut sql = format!("SELECT {} FROM {}", cols.join(", "), quote(req.table));
    if let Some((cursor, _)) = req.since {
        sql.push_str(&format!(" WHERE {} >= ?1", quote(cursor)));
    }
    sql
}
