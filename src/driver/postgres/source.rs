//! Reading a branch table: one repeatable-read, read-only snapshot per read;
//! NULL-key rows to the reject sink first; then either the raw binary COPY
//! stream (when the sink takes it) or rows decoded into [`Value`]s, streamed
//! one at a time.

use super::binary_copy::{TupleCounter, BUFFER};
use super::decode::{decode_row, decoded_select};
use super::endpoint::Session;
use super::errors::cancelled;
use super::ident::{quote_ident, quote_list, quote_literal, quote_table};
use super::key_range;
use super::schema::{self, native_or_kind_type, DEFAULT_SCHEMA};
use super::upsert::SORT_OFF;
use crate::driver::checksum::RangeChecksums;
use crate::driver::{
    CancelHandle, ChecksumDialect, Column, DriverError, ReadRequest, RejectSink, Result, RowSink,
    Source, TableSchema, Value,
};
use postgres::fallible_iterator::FallibleIterator;
use std::io::BufRead;

/// Rows between looks at the cancelled flag on the decoded path.
const CANCEL_CHECK_ROWS: u64 = 4096;

pub struct PgSource {
    pub(super) session: Session,
    /// The chunk bounds of the table being copied, when sampled.
    chunks: Option<super::chunk_bounds::ChunkPlan>,
}

impl PgSource {
    pub fn new(session: Session) -> PgSource {
        PgSource {
            session,
            chunks: None,
        }
    }
}

/// `WHERE` conditions of a read: keys present, cursor at or past the
/// watermark.
fn conditions(req: &ReadRequest) -> Result<(Vec<String>, Option<String>)> {
    let keys_present = req
        .key
        .iter()
        .map(|k| format!("{} IS NOT NULL", quote_ident(k)))
        .collect();
    let since = match req.since {
        None | Some((_, Value::Null)) => None,
        Some((cursor, value)) => {
            let col = req.columns.iter().find(|c| c.name == cursor).ok_or_else(|| {
                DriverError::schema(format!(
                    "{}: the cursor column {cursor:?} is not among the columns read; check `cursor` in the [[table]] entry",
                    req.table
                ))
            })?;
            let text = value.to_text().unwrap_or_default();
            Some(format!(
                "{} >= {}::{}",
                quote_ident(cursor),
                quote_literal(&text),
                native_or_kind_type(col)
            ))
        }
    };
    Ok((keys_present, since))
}

fn where_clause(parts: &[String]) -> String {
    if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    }
}

impl PgSource {
    /// Everything a read does inside its snapshot transaction.
    fn read_in_snapshot(
        &mut self,
        req: &ReadRequest,
        table: &str,
        sink: &mut dyn RowSink,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64> {
        let doing = format!("reading {table}");
        let (keys_present, since) = conditions(req)?;
        let nullable_keys = nullable_keys(req);
        // A NULL key is in no range: rejects go with the read of all rows
        // or the first chunk.
        if !nullable_keys.is_empty() && req.range.lower.is_none() {
            self.send_rejects(req, &nullable_keys, table, since.as_deref(), rejects)?;
        }
        let mut parts = keys_present;
        parts.extend(since);
        parts.extend(key_range::conditions(req, &req.range)?);
        let filter = where_clause(&parts);
        let order = if sink.wants_key_order() && !req.key.is_empty() {
            // An index on the key gives the order; a sort of a large table
            // would spill to disk.
            self.session.exec(SORT_OFF, &doing)?;
            format!(
                " ORDER BY {}",
                quote_list(req.key.iter().map(String::as_str))
            )
        } else {
            String::new()
        };
        if sink.raw(super::BINARY_COPY).is_some() {
            let cols = quote_list(req.columns.iter().map(|c| c.name.as_str()));
            let sql = format!(
                "COPY (SELECT {cols} FROM {table}{filter}{order}) TO STDOUT (FORMAT binary)"
            );
            return self.copy_binary(&sql, sink, &doing);
        }
        let sql = format!(
            "SELECT {} FROM {table}{filter}",
            decoded_select(req.columns)
        );
        self.stream_rows(&sql, req.columns, &doing, |values| sink.row(values))
    }

    /// Runs `sql` and hands each decoded row to `each`, one at a time.
    fn stream_rows(
        &mut self,
        sql: &str,
        columns: &[Column],
        doing: &str,
        mut each: impl FnMut(&[Value]) -> Result<()>,
    ) -> Result<u64> {
        let ctx = self.session.ctx();
        let mut rows = self
            .session
            .client()
            .query_raw(sql, std::iter::empty::<i32>())
            .map_err(|e| ctx.pg(&e, doing))?;
        let mut values = Vec::with_capacity(columns.len());
        let mut sent = 0u64;
        let failed = loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => return Ok(sent),
                Err(e) => return Err(ctx.pg(&e, doing)),
            };
            if let Err(e) = decode_row(&row, columns, &mut values) {
                break ctx.pg(&e, doing);
            }
            if let Err(e) = each(&values) {
                break e;
            }
            sent += 1;
            if sent.is_multiple_of(CANCEL_CHECK_ROWS) {
                if let Err(e) = ctx.check_cancelled(doing) {
                    break e;
                }
            }
        };
        // The server would otherwise send the rest of the table first.
        ctx.abort_statement();
        drop(rows);
        self.session.poison();
        Err(failed)
    }

    /// Streams a `COPY … TO STDOUT (FORMAT binary)` into the raw writer of
    /// `sink` (which took [`super::BINARY_COPY`]) in large buffers, counting
    /// tuples on the way (each starts with its field count, which the
    /// framing reads anyway) and telling the sink after each buffer.
    /// Returns the tuple count.
    fn copy_binary(&mut self, sql: &str, sink: &mut dyn RowSink, doing: &str) -> Result<u64> {
        let into_target = format!("{doing} into the target");
        let lost =
            || DriverError::other(format!("{doing}: the target let go of the binary stream"));
        let ctx = self.session.ctx();
        let mut reader = self
            .session
            .client()
            .copy_out(sql)
            .map_err(|e| ctx.pg(&e, doing))?;
        let mut buf = vec![0u8; BUFFER];
        let mut counter = TupleCounter::new();
        // The reader must not be polled again once it has ended.
        let mut ended = false;
        let failed = loop {
            let mut filled = 0;
            while filled < buf.len() && !ended {
                let chunk = match reader.fill_buf() {
                    Ok(chunk) => chunk,
                    Err(e) => return Err(ctx.io(e, doing)),
                };
                if chunk.is_empty() {
                    ended = true;
                    break;
                }
                let n = chunk.len().min(buf.len() - filled);
                buf[filled..filled + n].copy_from_slice(&chunk[..n]);
                reader.consume(n);
                filled += n;
            }
            if filled == 0 {
                break None;
            }
            if let Err(e) = ctx.check_cancelled(doing) {
                break Some(e);
            }
            if let Err(e) = counter.scan(&buf[..filled]) {
                break Some(ctx.io(e, doing));
            }
            let Some(writer) = sink.raw(super::BINARY_COPY) else {
                break Some(lost());
            };
            if let Err(e) = writer.write_all(&buf[..filled]) {
                break Some(ctx.io(e, &into_target));
            }
            sink.raw_rows(counter.tuples());
        };
        if let Some(e) = failed {
            ctx.abort_statement();
            drop(reader);
            self.session.poison();
            return Err(e);
        }
        drop(reader);
        let n = counter.finish().map_err(|e| ctx.io(e, doing))?;
        sink.raw(super::BINARY_COPY)
            .ok_or_else(lost)?
            .flush()
            .map_err(|e| ctx.io(e, &into_target))?;
        Ok(n)
    }

    /// Sends the rows with a NULL in a key column to `rejects`.
    pub(super) fn send_rejects(
        &mut self,
        req: &ReadRequest,
        nullable_keys: &[&str],
        table: &str,
        since: Option<&str>,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64> {
        let any_null = nullable_keys
            .iter()
            .map(|k| format!("{} IS NULL", quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" OR ");
        let mut parts = vec![format!("({any_null})")];
        parts.extend(since.map(str::to_owned));
        let sql = format!(
            "SELECT {} FROM {table}{}",
            decoded_select(req.columns),
            where_clause(&parts)
        );
        let columns = req.columns;
        self.stream_rows(
            &sql,
            columns,
            &format!("reading rows with a NULL key from {table}"),
            |values| {
                let nulls: Vec<&str> = req
                    .key
                    .iter()
                    .filter(|k| {
                        columns
                            .iter()
                            .position(|c| &c.name == *k)
                            .is_none_or(|i| values[i].is_null())
                    })
                    .map(String::as_str)
                    .collect();
                rejects.reject(
                    columns,
                    values,
                    &format!("NULL in key column {}", nulls.join(", ")),
                )
            },
        )
    }
}

impl Source for PgSource {
    fn describe(&mut self, schema: Option<&str>, table: &str) -> Result<Option<TableSchema>> {
        let schema = schema.unwrap_or(DEFAULT_SCHEMA);
        let r = schema::describe(self.session.client(), schema, table);
        r.map_err(|e| {
            self.session
                .err(&e, &format!("describing {}", quote_table(schema, table)))
        })
    }

    fn read(
        &mut self,
        req: &ReadRequest,
        sink: &mut dyn RowSink,
        rejects: &mut dyn RejectSink,
    ) -> Result<u64> {
        let table = quote_table(req.schema.unwrap_or(DEFAULT_SCHEMA), req.table);
        let doing = format!("reading {table}");
        self.session.check_cancelled(&doing)?;
        self.session
            .exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &doing)?;
        match self.read_in_snapshot(req, &table, sink, rejects) {
            Ok(n) => {
                self.session.exec("COMMIT", &doing)?;
                Ok(n)
            }
            Err(e) => {
                self.session.rollback();
                if self.session.is_cancelled() {
                    return Err(cancelled(&self.session.server, &doing));
                }
                Err(self.name_invalid_column(req, &table, e))
            }
        }
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.session.cancel_handle()
    }

    fn range_checksums<'s>(
        &'s mut self,
        req: &ReadRequest,
        dialect: ChecksumDialect,
        rejects: &mut dyn RejectSink,
    ) -> Result<Option<Box<dyn RangeChecksums + 's>>> {
        super::source_checksums::open(self, req, dialect, rejects)
    }

    fn key_bound(
        &mut self,
        req: &ReadRequest,
        after: Option<&[String]>,
        rows: u64,
    ) -> Result<Option<Vec<String>>> {
        if req.key.is_empty() {
            return Ok(None);
        }
        let table = quote_table(req.schema.unwrap_or(DEFAULT_SCHEMA), req.table);
        let doing = format!("finding the next chunk of {table}");
        self.session.check_cancelled(&doing)?;
        super::chunk_bounds::next(
            &mut self.session,
            &mut self.chunks,
            req,
            &table,
            after,
            rows,
            &doing,
        )
    }

    fn estimate_rows(&mut self, schema: Option<&str>, table: &str) -> Option<u64> {
        let schema = schema.unwrap_or(DEFAULT_SCHEMA);
        let row = self
            .session
            .client()
            .query_opt(
                "SELECT c.reltuples::float8 FROM pg_catalog.pg_class c
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&schema, &table],
            )
            .ok()??;
        let n: f64 = row.get(0);
        // -1: never vacuumed or analyzed, so unknown.
        (n >= 0.0).then_some(n as u64)
    }
}

/// The key columns that can hold a NULL (those declared NOT NULL cannot, so
/// their rows need no reject query).
pub(super) fn nullable_keys<'r>(req: &'r ReadRequest) -> Vec<&'r str> {
    req.key
        .iter()
        .filter(|k| {
            req.columns
                .iter()
                .find(|c| &&c.name == k)
                .is_none_or(|c| c.nullable)
        })
        .map(String::as_str)
        .collect()
}
