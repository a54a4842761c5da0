//! Writing the central MySQL database: one transaction per (connection,
//! table), committed at the end or rolled back on any error. Rows are sent
//! as multi-row `INSERT`s of up to [`BATCH_BYTES`] each, or, for `full`,
//! through `LOAD DATA LOCAL INFILE` when the server takes it (see `load`).
//!
//! `full` deletes the branch's rows (all rows without a branch column) and
//! inserts every row. `upsert` and `incremental` use `INSERT … ON DUPLICATE
//! KEY UPDATE c = VALUES(c)`: MySQL counts an identical row as 0 affected
//! rows, an update as 2 and an insert as 1, and reports the duplicates,
//! from which each batch's skipped rows follow. `mirror` (MySQL has no
//! range checksums, so it always streams) writes like `upsert` and also
//! records every key sent in a temporary table; at the end the slice's rows
//! whose key was not sent are deleted, in the same transaction. `upsert`
//! and `incremental` from a source without a primary key on the key record
//! the keys too, so that a repeated key fails the table, named (`repeats`).

use super::load;
use super::repeats::{self, SEEN};
use super::schema::{self, qualified};
use super::session::Session;
use super::values::{check_width, decode, ident, literal, quoted};
use crate::config::Mode;
use crate::driver::{
    CancelHandle, ColumnKind, DriverError, Feed, Result, RowSink, Target, Value, WriteOutcome,
    WritePlan,
};
use mysql::prelude::Queryable;

/// Statement size at which a batch is sent (well under the 16 MiB default
/// `max_allowed_packet` of MariaDB; MySQL 8's is 64 MiB).
pub const BATCH_BYTES: usize = 2 << 20;

pub struct MysqlTarget {
    session: Session,
}

impl MysqlTarget {
    pub fn new(session: Session) -> Self {
        MysqlTarget { session }
    }
}

/// The plan's schema is the database (empty: the connection's own).
fn database<'p>(plan: &WritePlan<'p>) -> Option<&'p str> {
    Some(plan.schema).filter(|s| !s.is_empty())
}

impl Target for MysqlTarget {
    fn prepare(&mut self, plan: &WritePlan) -> Result<()> {
        schema::prepare(&mut self.session, plan, database(plan))
    }

    fn watermark(&mut self, plan: &WritePlan) -> Result<Option<Value>> {
        let table = plan.table;
        let s = &mut self.session;
        let cursor = plan.cursor.ok_or_else(|| {
            DriverError::schema(format!(
                "{}: table {table}: mode incremental needs cursor = \"<column>\" in its [[table]] entry",
                s.name
            ))
        })?;
        let mut sql = format!(
            "SELECT max({}) FROM {}",
            ident(cursor),
            qualified(database(plan), table)
        );
        if let Some((branch, name)) = plan.branch {
            sql.push_str(&format!(" WHERE {} = ", ident(branch)));
            quoted(&mut sql, name);
        }
        let doing = format!("reading the watermark of table {table}");
        let raw: Option<mysql::Value> =
            s.conn().query_first(&sql).map_err(|e| s.err(&e, &doing))?;
        let kind = plan
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(cursor))
            .map_or(ColumnKind::Text, |c| c.kind);
        let bytes = match &raw {
            Some(mysql::Value::Bytes(b)) => Some(b.as_slice()),
            _ => None,
        };
        let value = decode(kind, bytes)
            .map_err(|e| DriverError::other(format!("{}: {doing}: {e:?}", s.name)))?;
        Ok((!value.is_null()).then_some(value))
    }

    fn write(&mut self, plan: &WritePlan, feed: &mut Feed) -> Result<WriteOutcome> {
        let table = plan.table;
        let doing = format!("writing table {table}");
        let target = qualified(database(plan), table);
        let s = &mut self.session;
        s.check_cancelled(&doing)?;
        s.exec("START TRANSACTION", &doing)?;
        let result = (|| {
            if plan.mode == Mode::Full {
                let mut del = format!("DELETE FROM {target}");
                if let Some((branch, name)) = plan.branch {
                    del.push_str(&format!(" WHERE {} = ", ident(branch)));
                    quoted(&mut del, name);
                }
                s.exec(&del, &doing)?;
            }
            let mirror = plan.mode == Mode::Mirror;
            let recorded = repeats::recorded(plan);
            if recorded {
                repeats::create(s, plan, &target, &doing)?;
            }
            let load = load::statement(plan, &target);
            let mut outcome = if plan.mode == Mode::Full && load::available(s, &load, &doing)? {
                load::load(s, plan, &load, &doing, feed)?
            } else {
                let mut sink = InsertSink::new(s, plan, &target, doing.clone());
                feed(&mut sink)?;
                sink.flush()?;
                sink.outcome
            };
            if mirror {
                let same: Vec<String> = plan
                    .key
                    .iter()
                    .map(|k| format!("s.{0} = t.{0}", ident(k)))
                    .collect();
                let mut sql = format!(
                    "DELETE t FROM {target} t WHERE NOT EXISTS (SELECT 1 FROM {SEEN} s WHERE {})",
                    same.join(" AND ")
                );
                if let Some((branch, name)) = plan.branch {
                    sql.push_str(&format!(" AND t.{} = ", ident(branch)));
                    quoted(&mut sql, name);
                }
                let deleted = {
                    let r = s.conn().query_iter(&sql).map(|r| r.affected_rows());
                    r.map_err(|e| s.err(&e, &doing))?
                };
                outcome.deleted = deleted;
            }
            if recorded {
                s.exec(&format!("DROP TEMPORARY TABLE {SEEN}"), &doing)?;
            }
            Ok(outcome)
        })();
        match result {
            Ok(outcome) => {
                s.exec("COMMIT", &doing)?;
                Ok(outcome)
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
}

/// Collects rows into one multi-row `INSERT` and sends it when it is big
/// enough.
struct InsertSink<'s> {
    session: &'s mut Session,
    plan: &'s WritePlan<'s>,
    /// `INSERT INTO t (cols) VALUES `
    head: String,
    /// ` ON DUPLICATE KEY UPDATE …` (empty for full).
    tail: String,
    /// The (branch,) literal every row starts with.
    branch: String,
    sql: String,
    /// mirror, and keys that may repeat: `INSERT INTO seen VALUES (key…),
    /// …` for the same rows (see `repeats`).
    seen: Option<String>,
    /// mirror: positions of the key columns in a row.
    key_at: Vec<usize>,
    rows: u64,
    doing: String,
    outcome: WriteOutcome,
}

impl<'s> InsertSink<'s> {
    fn new(session: &'s mut Session, plan: &'s WritePlan<'s>, target: &str, doing: String) -> Self {
        let names: Vec<String> = plan
            .branch
            .map(|(b, _)| b)
            .into_iter()
            .chain(plan.columns.iter().map(|c| c.name.as_str()))
            .map(ident)
            .collect();
        let head = format!("INSERT INTO {target} ({}) VALUES ", names.join(", "));
        let mut tail = String::new();
        if plan.mode != Mode::Full {
            let is_key = |n: &str| plan.key.iter().any(|k| k.eq_ignore_ascii_case(n));
            let mut set: Vec<String> = plan
                .columns
                .iter()
                .filter(|c| !is_key(&c.name))
                .map(|c| format!("{0} = VALUES({0})", ident(&c.name)))
                .collect();
            if set.is_empty() {
                // Nothing to update: a no-op assignment keeps duplicates quiet.
                let k = ident(&plan.key[0]);
                set.push(format!("{k} = {k}"));
            }
            tail = format!(" ON DUPLICATE KEY UPDATE {}", set.join(", "));
        }
        let mut branch = String::new();
        if let Some((_, name)) = plan.branch {
            quoted(&mut branch, name);
            branch.push(',');
        }
        InsertSink {
            session,
            plan,
            sql: String::with_capacity(BATCH_BYTES + (64 << 10)),
            head,
            tail,
            branch,
            seen: repeats::recorded(plan).then(String::new),
            key_at: plan
                .key
                .iter()
                .filter_map(|k| {
                    plan.columns
                        .iter()
                        .position(|c| c.name.eq_ignore_ascii_case(k))
                })
                .collect(),
            rows: 0,
            doing,
            outcome: WriteOutcome::default(),
        }
    }

    /// Sends the pending rows.
    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        self.sql.push_str(&self.tail);
        let s = &mut *self.session;
        let counts = {
            let conn = s.conn();
            match conn.query_iter(&self.sql) {
                Ok(r) => {
                    let affected = r.affected_rows();
                    let info = r.info_str().into_owned();
                    drop(r);
                    Ok((affected, info))
                }
                Err(e) => Err(e),
            }
        };
        let (affected, info) = counts.map_err(|e| s.err(&e, &self.doing))?;
        if let Some(seen) = self.seen.as_mut() {
            let r = s.conn().query_drop(seen.as_str());
            r.map_err(|e| match repeats::is_repeat(&e) {
                true => repeats::error(s, self.plan, seen, &e, &self.doing),
                false => s.err(&e, &self.doing),
            })?;
            seen.clear();
        }
        self.outcome.processed += self.rows;
        if self.plan.mode != Mode::Full {
            self.outcome.skipped += skipped(self.rows, affected, &info);
        }
        self.rows = 0;
        self.sql.clear();
        Ok(())
    }
}

/// Rows left unchanged by an `INSERT … ON DUPLICATE KEY UPDATE` of `rows`
/// rows. The affected count is 1 per insert and 2 per changed row (0 for an
/// unchanged one), and the server's info `Duplicates: n` counts the changed
/// rows (without `CLIENT_FOUND_ROWS`, which this driver never sets).
fn skipped(rows: u64, affected: u64, info: &str) -> u64 {
    let updated = info
        .split("Duplicates:")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        // A single-row statement has no info: 2 affected is an update.
        .unwrap_or(u64::from(affected == 2));
    let inserted = affected.saturating_sub(2 * updated);
    rows.saturating_sub(inserted + updated)
}

impl RowSink for InsertSink<'_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        check_width(&self.session.name, self.plan, values)?;
        if self.rows == 0 {
            self.session.check_cancelled(&self.doing)?;
            self.sql.push_str(&self.head);
        } else {
            self.sql.push(',');
        }
        self.sql.push('(');
        self.sql.push_str(&self.branch);
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.sql.push(',');
            }
            literal(&mut self.sql, v).map_err(|m| {
                DriverError::other(format!(
                    "{}: {}: column {}: {m}",
                    self.session.name, self.doing, self.plan.columns[i].name
                ))
            })?;
        }
        self.sql.push(')');
        if let Some(seen) = self.seen.as_mut() {
            seen.push_str(if self.rows == 0 {
                "INSERT INTO `branchsync_seen` VALUES ("
            } else {
                ",("
            });
            for (n, &i) in self.key_at.iter().enumerate() {
                if n > 0 {
                    seen.push(',');
                }
                // Already checked by the row's own literal above.
                let _ = literal(seen, &values[i]);
            }
            seen.push(')');
        }
        self.rows += 1;
        if self.sql.len() >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn skipped_rows_follow_from_the_counts() {
        // 10 rows: 3 inserted, 2 updated, 5 unchanged.
        assert_eq!(
            super::skipped(10, 3 + 2 * 2, "Records: 10  Duplicates: 2  Warnings: 0"),
            5
        );
        assert_eq!(
            super::skipped(4, 4, "Records: 4  Duplicates: 0  Warnings: 0"),
            0
        );
        assert_eq!(
            super::skipped(2, 0, "Records: 2  Duplicates: 0  Warnings: 0"),
            2
        );
        assert_eq!(super::skipped(1, 0, ""), 1);
        assert_eq!(super::skipped(1, 2, ""), 0);
        assert_eq!(super::skipped(1, 1, ""), 0);
    }
}
