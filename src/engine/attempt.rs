//! One attempt of a job: describe the source table, prepare the target,
//! read the watermark, then copy by range checksums (mirror), into a stage
//! in committed chunks (full), or in one target transaction. The retries
//! around it live in `worker.rs`.

use super::link_bytes::journaled_bytes;
use super::plan::Job;
use super::rejects::RejectWriter;
use super::staged::StagedCopy;
use super::worker::{CountingSink, RunContext};
use crate::config::{Mode, Partitions};
use crate::driver::mirror::Tuning;
use crate::driver::registry::Route;
use crate::driver::{
    negotiate, DriverError, ErrorKind, ReadRequest, RowSink, Value, WriteOutcome, WritePlan,
};
use crate::journal::RowCounts;

impl RunContext<'_> {
    /// One attempt: describe, prepare, (watermark), then stream in one
    /// target transaction, or in committed chunks into a stage that is
    /// published at the end (`progressed` says a chunk was committed).
    pub(super) fn copy_once(
        &self,
        job: &Job,
        progressed: &mut bool,
    ) -> Result<RowCounts, DriverError> {
        let tcfg = job.table(self.config);
        let conn = job.connection.as_str();
        let src_ep = self
            .sources
            .get(conn)
            .ok_or_else(|| DriverError::other(format!("connection {conn} is not configured")))?;
        let mut source = src_ep.source().map_err(|e| name_server(e, conn))?;
        let _src_reg = self.cancel.register(source.cancel_handle());
        let at = self.config.source_of(tcfg, conn);
        let schema = source
            .describe(at.schema, at.table)?
            .ok_or_else(|| {
                DriverError::new(
                    ErrorKind::MissingTable,
                    format!(
                        "table {at} not found at connection {conn}. Create it there, name it for this connection in the [[table]] entry for model {} (sources.{conn} = \"schema.table\", or schema = \"…\" in its [[connection]]), or remove/adjust that entry",
                        tcfg.model
                    ),
                )
            })?;
        for k in &tcfg.key {
            if schema.column(k).is_none() {
                return Err(DriverError::schema(format!(
                    "key column {k} of table {at} is missing at connection {conn}; fix the [[table]] key of model {} or the source table",
                    tcfg.model
                )));
            }
        }
        if let Some(c) = &tcfg.cursor {
            if schema.column(c).is_none() {
                return Err(DriverError::schema(format!(
                    "cursor column {c} of table {at} is missing at connection {conn}"
                )));
            }
        }
        let branch_col = self
            .config
            .target
            .as_ref()
            .map(|t| t.branch_column())
            .unwrap_or("branch");
        let target_schema = self
            .config
            .target
            .as_ref()
            .and_then(|t| t.schema.as_deref())
            .unwrap_or_else(|| self.target.default_schema());
        let plan = WritePlan {
            schema: target_schema,
            table: tcfg.target_table(),
            columns: &schema.columns,
            key: &tcfg.key,
            mode: tcfg.mode,
            cursor: tcfg.cursor.as_deref(),
            branch: tcfg.branch_tagged().then_some((branch_col, conn)),
            partition_by_branch: self
                .config
                .target
                .as_ref()
                .and_then(|t| t.partitions)
                .unwrap_or_default()
                == Partitions::PerBranch,
            key_unique_at_source: same_columns(&schema.primary_key, &tcfg.key),
        };
        let mut target = self.target.target().map_err(|e| name_server(e, "target"))?;
        let _tgt_reg = self.cancel.register(target.cancel_handle());
        target.prepare(&plan)?;
        let watermark: Option<Value> = if tcfg.mode == Mode::Incremental {
            target.watermark(&plan)?
        } else {
            None
        };
        // The estimate only sizes the bars; without bars (cron) it is not
        // asked for (for SQLite it may read the whole table). An
        // incremental copy reads only what changed: the journal's count of
        // its last run says more than the size of the table.
        let estimate = if self.progress.has_bars() && tcfg.mode != Mode::Incremental {
            source.estimate_rows(at.schema, at.table)
        } else {
            None
        };
        let key = (conn.to_owned(), job.table_name.clone());
        let bar =
            self.progress
                .start_job(&key, &format!("{conn}.{}", tcfg.target_table()), estimate);
        let live = self.live.start(conn, &job.table_name);
        let req = ReadRequest {
            schema: at.schema,
            table: at.table,
            columns: &schema.columns,
            key: &tcfg.key,
            since: match (&tcfg.cursor, &watermark) {
                (Some(c), Some(w)) if !w.is_null() => Some((c.as_str(), w)),
                _ => None,
            },
            range: Default::default(),
        };
        let mut rejects = RejectWriter::new(
            &self.config.storage_dir(),
            self.batch_id,
            conn,
            tcfg.target_table(),
        );
        let pairing = negotiate(&src_ep.capabilities(), &self.target.capabilities());
        log::debug!(
            "{}: {} from {conn}: {}",
            self.log_prefix,
            job.table_name,
            Route::of(&pairing, tcfg.mode).describe(tcfg.mode)
        );
        // mirror: by range checksums when both ends compute the same kind,
        // else through the write below (the target deletes unseen keys).
        let mirrored = match (tcfg.mode, pairing.checksums) {
            (Mode::Mirror, Some(dialect)) => {
                match source.range_checksums(&req, dialect, &mut rejects) {
                    Ok(Some(mut side)) => {
                        let tuning = Tuning {
                            factor: self.config.engine.mirror_factor,
                            leaf_rows: self.config.engine.mirror_leaf_rows,
                            ..Tuning::default()
                        };
                        let r = target.mirror(&plan, &mut *side, &tuning);
                        if let Ok(o) = &r {
                            bar.add_rows(o.processed);
                            live.add_rows(o.processed);
                        }
                        Some(r)
                    }
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                }
            }
            _ => None,
        };
        let staged = mirrored.is_none() && tcfg.mode == Mode::Full && target.can_stage(&plan)?;
        let outcome: Result<WriteOutcome, DriverError> = match mirrored {
            Some(outcome) => outcome,
            None if staged => {
                let job = StagedCopy {
                    conn,
                    table: tcfg.target_table(),
                    plan: &plan,
                    req: &req,
                    bar: &bar,
                    live: &live,
                };
                self.staged_copy(
                    &job,
                    source.as_mut(),
                    target.as_mut(),
                    &mut rejects,
                    progressed,
                )
            }
            None => {
                let mut feed = |sink: &mut dyn RowSink| {
                    let mut counting = CountingSink::new(sink, &bar, &live);
                    let n = source.read(&req, &mut counting, &mut rejects);
                    counting.flush();
                    bar.phase("committing");
                    n
                };
                target.write(&plan, &mut feed)
            }
        };
        let (bytes_read, bytes_written) = match &outcome {
            Ok(o) => journaled_bytes(o, tcfg.mode, staged, &bar.link, || target.copy_bytes_sent()),
            Err(_) => (None, None),
        };
        bar.finish(self.progress, &key);
        rejects.finish()?;
        let outcome = outcome?;
        if rejects.count > 0 {
            log::warn!(
                "{}: {} rows of {} from {conn} were rejected (a NULL key, or a value no target can hold); reasons and rows in {}",
                self.log_prefix,
                rejects.count,
                tcfg.target_table(),
                rejects.path().display()
            );
        }
        Ok(RowCounts {
            processed: outcome.processed + rejects.count,
            skipped: outcome.skipped + rejects.count,
            written: outcome.processed.saturating_sub(outcome.skipped),
            deleted: outcome.deleted,
            bytes_read,
            bytes_written,
        })
    }
}

/// Do two lists name the same columns, in any order (ignoring ASCII case)?
fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|x| b.iter().any(|y| x.eq_ignore_ascii_case(y)))
}

/// Errors from opening a session name their server; drivers usually do, so
/// the name is added only when missing.
fn name_server(e: DriverError, server: &str) -> DriverError {
    if e.message.contains(server) {
        e
    } else {
        e.context(server)
    }
}
