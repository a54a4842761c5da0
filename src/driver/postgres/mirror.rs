//! The journal mirror in a PostgreSQL central (the README's "Fleet" section): `sync_batches` and
//! `sync_progress` in the mirror schema, with the seed's columns plus
//! `runner`, so that the seed's SQL runs there as written (with
//! `search_path` set to the schema). Rows are upserted by their journal key,
//! which makes a resent change harmless; a per-runner advisory lock orders
//! two writers of one runner. The connection is its own (not the copy
//! pool's), with short connect, statement and lock timeouts.

use super::endpoint::PgPool;
use super::errors::pg_error;
use super::ident::{quote_ident, quote_literal};
use super::mirror_rows::{batch_cols, batch_from, iso, progress_cols, progress_from};
use crate::config::{DurationStr, EngineConfig, ServerConfig};
use crate::driver::{JournalMirror, Result};
use crate::journal::{parse_ts, BatchRow, FleetRunner, MirrorChange, MirrorChanges, ProgressRow};
use chrono::{DateTime, Utc};
use postgres::Transaction;
use std::time::Duration;

/// The mirror never waits longer than this to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Nor this long for one statement (or a lock).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct PgMirror {
    pool: PgPool,
    schema: String,
    /// Tables known to exist (created or seen) through this mirror.
    ready: bool,
}

impl PgMirror {
    pub fn new(server: &ServerConfig, engine: &EngineConfig, schema: &str) -> Result<PgMirror> {
        let engine = EngineConfig {
            connect_timeout: DurationStr(engine.connect_timeout.0.min(CONNECT_TIMEOUT)),
            statement_timeout: DurationStr(STATEMENT_TIMEOUT),
            ..engine.clone()
        };
        let mut server = server.clone();
        server.name = format!("{} (journal mirror)", server.name);
        Ok(PgMirror {
            pool: PgPool::new(&server, &engine, 1)?,
            schema: schema.to_owned(),
            ready: false,
        })
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(name))
    }

    /// `CREATE … IF NOT EXISTS` races between sessions (the catalog's unique
    /// index); an advisory lock makes concurrent first uses take turns.
    fn create_sql(&self) -> String {
        let (s, b, p) = (
            quote_ident(&self.schema),
            self.table("sync_batches"),
            self.table("sync_progress"),
        );
        let lock = quote_literal(&format!("branchsync mirror {}", self.schema));
        format!(
            "SELECT pg_advisory_xact_lock(hashtext({lock}));
             CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {b} (
                 runner           text NOT NULL,
                 batch_id         text NOT NULL,
                 status           text NOT NULL,
                 total_tables     bigint NOT NULL DEFAULT 0,
                 completed_tables bigint NOT NULL DEFAULT 0,
                 failed_tables    bigint NOT NULL DEFAULT 0,
                 command_options  text NOT NULL DEFAULT '{{}}',
                 started_at       timestamptz NOT NULL,
                 completed_at     timestamptz,
                 duration_seconds double precision,
                 mirrored_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                 PRIMARY KEY (runner, batch_id));
             CREATE INDEX IF NOT EXISTS sync_batches_runner_started ON {b} (runner, started_at);
             CREATE TABLE IF NOT EXISTS {p} (
                 runner            text NOT NULL,
                 batch_id          text NOT NULL,
                 connection_name   text NOT NULL,
                 table_name        text NOT NULL,
                 model_name        text NOT NULL,
                 status            text NOT NULL,
                 records_processed bigint NOT NULL DEFAULT 0,
                 records_skipped   bigint NOT NULL DEFAULT 0,
                 error_message     text,
                 started_at        timestamptz,
                 completed_at      timestamptz,
                 duration_seconds  double precision,
                 retry_count       bigint NOT NULL DEFAULT 0,
                 step              bigint NOT NULL DEFAULT 2,
                 mirrored_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
                 PRIMARY KEY (runner, batch_id, connection_name, table_name));
             ALTER TABLE {p}
                 ADD COLUMN IF NOT EXISTS rows_written  bigint,
                 ADD COLUMN IF NOT EXISTS rows_deleted  bigint,
                 ADD COLUMN IF NOT EXISTS bytes_read    bigint,
                 ADD COLUMN IF NOT EXISTS bytes_written bigint;"
        )
    }

    fn apply(
        &self,
        tx: &mut Transaction,
        runner: &str,
        change: &MirrorChange,
    ) -> std::result::Result<(), postgres::Error> {
        let (b, p) = (self.table("sync_batches"), self.table("sync_progress"));
        match change {
            MirrorChange::Batch { row: Some(r), .. } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {b} (runner, batch_id, status, total_tables, completed_tables, failed_tables,
                                          command_options, started_at, completed_at, duration_seconds)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (runner, batch_id) DO UPDATE SET
                             status = EXCLUDED.status, total_tables = EXCLUDED.total_tables,
                             completed_tables = EXCLUDED.completed_tables, failed_tables = EXCLUDED.failed_tables,
                             command_options = EXCLUDED.command_options, started_at = EXCLUDED.started_at,
                             completed_at = EXCLUDED.completed_at, duration_seconds = EXCLUDED.duration_seconds,
                             mirrored_at = clock_timestamp()"
                    ),
                    &[
                        &runner,
                        &r.batch_id,
                        &r.status.as_str(),
                        &r.total_tables,
                        &r.completed_tables,
                        &r.failed_tables,
                        &r.command_options,
                        &ts(Some(&r.started_at)).unwrap_or_else(Utc::now),
                        &ts(r.completed_at.as_deref()),
                        &r.duration_seconds,
                    ],
                )?;
            }
            MirrorChange::Batch {
                batch_id,
                row: None,
            } => {
                tx.execute(
                    &format!("DELETE FROM {p} WHERE runner = $1 AND batch_id = $2"),
                    &[&runner, batch_id],
                )?;
                tx.execute(
                    &format!("DELETE FROM {b} WHERE runner = $1 AND batch_id = $2"),
                    &[&runner, batch_id],
                )?;
            }
            MirrorChange::Progress { row: Some(r), .. } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {p} (runner, batch_id, connection_name, table_name, model_name, status,
                                          records_processed, records_skipped, error_message, started_at,
                                          completed_at, duration_seconds, retry_count, step,
                                          rows_written, rows_deleted, bytes_read, bytes_written)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                         ON CONFLICT (runner, batch_id, connection_name, table_name) DO UPDATE SET
                             model_name = EXCLUDED.model_name, status = EXCLUDED.status,
                             records_processed = EXCLUDED.records_processed,
                             records_skipped = EXCLUDED.records_skipped, error_message = EXCLUDED.error_message,
                             started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at,
                             duration_seconds = EXCLUDED.duration_seconds, retry_count = EXCLUDED.retry_count,
                             step = EXCLUDED.step, rows_written = EXCLUDED.rows_written,
                             rows_deleted = EXCLUDED.rows_deleted, bytes_read = EXCLUDED.bytes_read,
                             bytes_written = EXCLUDED.bytes_written, mirrored_at = clock_timestamp()"
                    ),
                    &[
                        &runner,
                        &r.batch_id,
                        &r.connection_name,
                        &r.table_name,
                        &r.model_name,
                        &r.status.as_str(),
                        &r.records_processed,
                        &r.records_skipped,
                        &r.error_message,
                        &ts(r.started_at.as_deref()),
                        &ts(r.completed_at.as_deref()),
                        &r.duration_seconds,
                        &r.retry_count,
                        &r.step,
                        &r.rows_written,
                        &r.rows_deleted,
                        &r.bytes_read,
                        &r.bytes_written,
                    ],
                )?;
            }
            MirrorChange::Progress {
                batch_id,
                connection_name,
                table_name,
                row: None,
            } => {
                tx.execute(
                    &format!(
                        "DELETE FROM {p} WHERE runner = $1 AND batch_id = $2 AND connection_name = $3 AND table_name = $4"
                    ),
                    &[&runner, batch_id, connection_name, table_name],
                )?;
            }
        }
        Ok(())
    }

    /// Do the mirror tables exist (a reader must not create them)?
    fn exists(
        &mut self,
        client: &mut postgres::Client,
    ) -> std::result::Result<bool, postgres::Error> {
        if self.ready {
            return Ok(true);
        }
        let table = self.table("sync_progress");
        let row = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])?;
        self.ready = row.get(0);
        Ok(self.ready)
    }
}

fn ts(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(parse_ts)
}

impl JournalMirror for PgMirror {
    fn write(
        &mut self,
        runner: &str,
        read: &mut dyn FnMut() -> Result<MirrorChanges>,
    ) -> Result<usize> {
        let mut session = self.pool.session()?;
        let doing = "writing the journal mirror";
        if !self.ready {
            let sql = format!("BEGIN; {} COMMIT;", self.create_sql());
            if let Err(e) = session.client().batch_execute(&sql) {
                let err = session.err(&e, "creating the journal mirror tables");
                session.rollback();
                return Err(
                    err.context(format!("schema {} ([journal] mirror_schema)", self.schema))
                );
            }
            self.ready = true;
        }
        let name = self.pool.name.clone();
        let pg = |e: postgres::Error| pg_error(&e, &name, doing, false);
        let lock = format!("branchsync mirror {} {runner}", self.schema);
        let mut tx = session.client().transaction().map_err(pg)?;
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&lock])
            .map_err(pg)?;
        // Read only now: a writer that waited for the lock sends the newest rows.
        let changes = read()?;
        for change in &changes.changes {
            self.apply(&mut tx, runner, change).map_err(pg)?;
        }
        tx.commit().map_err(pg)?;
        Ok(changes.changes.len())
    }

    fn fleet(&mut self) -> Result<Vec<FleetRunner>> {
        let mut session = self.pool.session()?;
        let (b, p) = (self.table("sync_batches"), self.table("sync_progress"));
        let doing = "reading the journal mirror";
        let exists = self
            .exists(session.client())
            .map_err(|e| session.err(&e, doing))?;
        if !exists {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {}, runner,
                    (SELECT {} FROM {b} c WHERE c.runner = l.runner AND c.status = 'completed')
             FROM (SELECT DISTINCT ON (runner) * FROM {b}
                   ORDER BY runner, {} ASC, started_at DESC, batch_id DESC) l
             ORDER BY runner",
            batch_cols(),
            iso("max(c.completed_at)"),
            crate::journal::AD_HOC_BATCH_SQL
        );
        let rows = session
            .client()
            .query(&sql, &[])
            .map_err(|e| session.err(&e, doing))?;
        let failed_sql = format!(
            "SELECT {} FROM {p} WHERE runner = $1 AND batch_id = $2 AND status = 'failed' ORDER BY step, connection_name, table_name",
            progress_cols()
        );
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let batch = batch_from(r);
            let runner: String = r.get(9);
            let failed = session
                .client()
                .query(&failed_sql, &[&runner, &batch.batch_id])
                .map_err(|e| session.err(&e, doing))?;
            out.push(FleetRunner {
                last_completed_at: r.get(10),
                failed: failed.iter().map(progress_from).collect(),
                runner,
                batch,
            });
        }
        Ok(out)
    }

    fn batch(
        &mut self,
        runner: &str,
        batch_id: &str,
    ) -> Result<Option<(BatchRow, Vec<ProgressRow>)>> {
        let mut session = self.pool.session()?;
        let (b, p) = (self.table("sync_batches"), self.table("sync_progress"));
        let doing = "reading the journal mirror";
        if !self
            .exists(session.client())
            .map_err(|e| session.err(&e, doing))?
        {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {} FROM {b} WHERE runner = $1 AND batch_id = $2",
            batch_cols()
        );
        let row = session
            .client()
            .query_opt(&sql, &[&runner, &batch_id])
            .map_err(|e| session.err(&e, doing))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {} FROM {p} WHERE runner = $1 AND batch_id = $2 ORDER BY step, connection_name, table_name",
            progress_cols()
        );
        let rows = session
            .client()
            .query(&sql, &[&runner, &batch_id])
            .map_err(|e| session.err(&e, doing))?;
        Ok(Some((
            batch_from(&row),
            rows.iter().map(progress_from).collect(),
        )))
    }
}
