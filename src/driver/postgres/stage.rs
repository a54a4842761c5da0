//! A `full` refresh of one branch's slice of a partitioned table, by swap:
//! the new rows go into a fresh stage table (created in the same
//! transaction as the first COPY, so the COPY can `FREEZE`), with the CHECK
//! constraint that lets ATTACH skip its validation scan and no index until
//! every chunk is in; then the primary key is built, and one short
//! transaction detaches yesterday's partition, drops it and attaches the
//! stage in its place. Readers of the parent see yesterday's slice until that
//! commit and today's after it; other branches' partitions are not touched.
//!
//! The publish takes an exclusive lock on the parent for a few catalog
//! updates. It asks with a short `lock_timeout` and tries again after a
//! pause, so that it never queues behind a long report query (which would
//! make every later reader queue behind it).
//!
//! The stage carries a mark in its table comment, committed with each
//! chunk: the run it belongs to, the chunks and rows in it, the upper key
//! bound of the last chunk and whether every chunk is in. A resume of the
//! same run goes on from there; a stage of any other run is dropped. The
//! stage's name is fixed per (table, branch), so whatever a failure leaves
//! behind is found and removed by the next run.

use super::copy_sink::CopySink;
use super::endpoint::Session;
use super::errors::cancelled;
use super::ident::{quote_ident, quote_list, quote_literal, quote_table};
use super::partition::{self, partition_name, stage_name};
use super::target::column_types;
use crate::config::Mode;
use crate::driver::{Chunk, DriverError, ErrorKind, Feed, Result, StageState, WritePlan};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// What the stage's comment starts with.
const MARK: &str = "branchsync stage ";
/// How long the publish waits for each lock before it lets readers through
/// and tries again.
const LOCK_TIMEOUT: &str = "100ms";
/// How long the publish keeps trying while other sessions hold the parent.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(600);
/// SQLSTATE lock_not_available: `lock_timeout` ran out.
const LOCK_NOT_AVAILABLE: &str = "55P03";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Mark {
    run: String,
    chunks: u32,
    rows: u64,
    last: Option<Vec<String>>,
    loaded: bool,
}

/// Names of one refresh: the parent, the stage, the branch.
struct Names<'a> {
    schema: &'a str,
    parent: &'a str,
    branch_column: &'a str,
    branch: &'a str,
    stage: String,
}

impl<'a> Names<'a> {
    fn of(plan: &WritePlan<'a>) -> Result<Names<'a>> {
        let (branch_column, branch) = plan.branch.ok_or_else(|| {
            DriverError::other(format!(
                "table {}: only branch-tagged tables are staged",
                plan.table
            ))
        })?;
        Ok(Names {
            schema: plan.schema,
            parent: plan.table,
            branch_column,
            branch,
            stage: stage_name(plan.table, branch),
        })
    }

    fn parent_q(&self) -> String {
        quote_table(self.schema, self.parent)
    }

    fn stage_q(&self) -> String {
        quote_table(self.schema, &self.stage)
    }
}

pub fn can_stage(session: &mut Session, plan: &WritePlan) -> Result<bool> {
    if plan.mode != Mode::Full || plan.branch.is_none() {
        return Ok(false);
    }
    let doing = format!("inspecting {}", quote_table(plan.schema, plan.table));
    partition::is_partitioned(session, plan.schema, plan.table, &doing)
}

/// The stage's mark: `None` when there is no stage, `Some(None)` when
/// there is one without a readable mark.
fn read_mark(session: &mut Session, n: &Names, doing: &str) -> Result<Option<Option<Mark>>> {
    let r = session.client().query_opt(
        "SELECT pg_catalog.obj_description(c.oid, 'pg_class') FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2",
        &[&n.schema, &n.stage],
    );
    let row = r.map_err(|e| session.err(&e, doing))?;
    Ok(row.map(|r| {
        r.get::<_, Option<String>>(0)
            .and_then(|c| c.strip_prefix(MARK).map(str::to_owned))
            .and_then(|json| serde_json::from_str(&json).ok())
    }))
}

pub fn open(session: &mut Session, plan: &WritePlan, run: &str) -> Result<StageState> {
    let n = Names::of(plan)?;
    let doing = format!("opening the stage {}", n.stage_q());
    session.check_cancelled(&doing)?;
    match read_mark(session, &n, &doing)? {
        Some(Some(m)) if m.run == run => {
            return Ok(StageState {
                chunks: m.chunks,
                rows: m.rows,
                last: m.last,
                loaded: m.loaded,
            })
        }
        // Left by another run (a failed or abandoned one): not ours to finish.
        Some(_) => session.exec(&format!("DROP TABLE IF EXISTS {}", n.stage_q()), &doing)?,
        None => {}
    }
    Ok(StageState::default())
}

pub fn chunk(
    session: &mut Session,
    plan: &WritePlan,
    run: &str,
    chunk: &Chunk,
    feed: &mut Feed,
) -> Result<u64> {
    let n = Names::of(plan)?;
    let doing = format!("loading chunk {} into {}", chunk.number, n.stage_q());
    session.check_cancelled(&doing)?;
    session.exec("BEGIN", &doing)?;
    match chunk_in_tx(session, plan, &n, run, chunk, feed, &doing) {
        Ok(rows) => {
            session.exec("COMMIT", &doing)?;
            Ok(rows)
        }
        Err(e) => {
            session.rollback();
            if session.is_cancelled() {
                return Err(cancelled(&session.server, &doing));
            }
            Err(e)
        }
    }
}

fn chunk_in_tx(
    session: &mut Session,
    plan: &WritePlan,
    n: &Names,
    run: &str,
    chunk: &Chunk,
    feed: &mut Feed,
    doing: &str,
) -> Result<u64> {
    let (types, binary_ok) = column_types(session, plan, doing)?;
    let conversions = super::families::conversions(plan.columns, &types);
    let stage = n.stage_q();
    let mut mark = if chunk.number == 1 {
        let create = format!(
            "DROP TABLE IF EXISTS {stage}; CREATE TABLE {stage} (LIKE {} INCLUDING DEFAULTS, CONSTRAINT branchsync_branch {})",
            n.parent_q(),
            partition::check_constraint(n.branch_column, n.branch)
        );
        session.exec(&create, doing)?;
        Mark {
            run: run.to_owned(),
            chunks: 0,
            rows: 0,
            last: None,
            loaded: false,
        }
    } else {
        let m = read_mark(session, n, doing)?.flatten();
        match m {
            Some(m) if m.run == run && m.chunks + 1 == chunk.number && !m.loaded => m,
            _ => {
                return Err(DriverError::new(
                    ErrorKind::Connection,
                    format!(
                        "{}: {doing}: the stage no longer holds chunks 1 to {} of this run (was it dropped?); the copy starts again from its first chunk",
                        session.server,
                        chunk.number - 1
                    ),
                ))
            }
        }
    };
    let cols = quote_list(plan.columns.iter().map(|c| c.name.as_str()));
    let copy = format!(
        "COPY {stage} ({}, {cols}) FROM STDIN",
        quote_ident(n.branch_column)
    );
    let ctx = session.ctx();
    let sink = CopySink::new(
        session.client(),
        ctx,
        doing.to_owned(),
        copy,
        binary_ok,
        Some(n.branch),
        plan.columns.len(),
    );
    // Created in this transaction: the rows can land frozen.
    let mut sink = if chunk.number == 1 {
        sink.freeze()
    } else {
        sink
    };
    if super::families::any(&conversions) {
        feed(&mut crate::driver::convert::Converting::new(
            &mut sink,
            &conversions,
        ))?;
    } else {
        feed(&mut sink)?;
    }
    let rows = sink.finish()?;
    mark.chunks = chunk.number;
    mark.rows += rows;
    mark.last = chunk.range.upper.map(<[String]>::to_vec);
    mark.loaded = chunk.range.upper.is_none();
    let json = serde_json::to_string(&mark).unwrap_or_default();
    session.exec(
        &format!(
            "COMMENT ON TABLE {stage} IS {}",
            quote_literal(&format!("{MARK}{json}"))
        ),
        doing,
    )?;
    Ok(rows)
}

/// The primary key columns of `schema.table`, in index order.
fn primary_key(
    session: &mut Session,
    schema: &str,
    table: &str,
    doing: &str,
) -> Result<Vec<String>> {
    let r = session.client().query(
        "SELECT a.attname::text FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary
         ORDER BY k.ord",
        &[&schema, &table],
    );
    let rows = r.map_err(|e| session.err(&e, doing))?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

pub fn publish(session: &mut Session, plan: &WritePlan, run: &str) -> Result<()> {
    let n = Names::of(plan)?;
    let stage = n.stage_q();
    let doing = format!(
        "publishing {stage} as {}'s slice of {}",
        n.branch,
        n.parent_q()
    );
    session.check_cancelled(&doing)?;
    session.exec("BEGIN", &doing)?;
    match build_key(session, &n, run, &doing) {
        Ok(()) => session.exec("COMMIT", &doing)?,
        Err(e) => {
            session.rollback();
            return Err(e);
        }
    }
    let started = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        session.check_cancelled(&doing)?;
        session.exec("BEGIN", &doing)?;
        match swap(session, &n, &doing) {
            Ok(()) => return session.exec("COMMIT", &doing),
            Err(Swap::Busy(e)) => {
                session.rollback();
                if started.elapsed() > PUBLISH_PATIENCE {
                    return Err(DriverError::other(format!(
                        "{}: {doing}: other sessions held {} for over {}s ({e}); the new slice stays staged and is published when the batch is resumed",
                        session.server,
                        n.parent_q(),
                        PUBLISH_PATIENCE.as_secs()
                    )));
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(1));
            }
            Err(Swap::Failed(e)) => {
                session.rollback();
                if session.is_cancelled() {
                    return Err(cancelled(&session.server, &doing));
                }
                return Err(e);
            }
        }
    }
}

/// Checks the stage is this run's and loaded, then builds the parent's
/// primary key on it (one sort instead of one insertion per row) unless it
/// is there. The stage is locked first: a session of an earlier attempt
/// whose client died may still be finishing a statement on it.
/// The parent's key is matched by ATTACH; any other index of the parent is
/// built by ATTACH itself.
fn build_key(session: &mut Session, n: &Names, run: &str, doing: &str) -> Result<()> {
    match read_mark(session, n, doing)?.flatten() {
        Some(m) if m.run == run && m.loaded => {}
        _ => {
            return Err(DriverError::new(
                ErrorKind::Connection,
                format!(
                    "{}: {doing}: the stage is missing or not fully loaded; the copy starts again from its first chunk",
                    session.server
                ),
            ))
        }
    }
    let stage = n.stage_q();
    session.exec(
        &format!("LOCK TABLE {stage} IN ACCESS EXCLUSIVE MODE"),
        doing,
    )?;
    let key = primary_key(session, n.schema, n.parent, doing)?;
    if !key.is_empty() && primary_key(session, n.schema, &n.stage, doing)?.is_empty() {
        let sql = format!(
            "ALTER TABLE {stage} ADD PRIMARY KEY ({})",
            quote_list(key.iter().map(String::as_str))
        );
        session.exec(&sql, doing)?;
    }
    Ok(())
}

/// The stage's primary-key index and the name it takes once the stage is
/// the partition `name`: `<name>_pkey`, when that name is free or belongs
/// to an index of `old` (dropped in the same swap). `None` when the stage
/// has no key or its index already has that name.
fn key_index_rename(
    session: &mut Session,
    n: &Names,
    old: Option<&str>,
    name: &str,
    doing: &str,
) -> Result<Option<(String, String)>> {
    let wanted = partition::fit(&format!("{name}_pkey"));
    let r = session.client().query_opt(
        "SELECT ic.relname::text,
                (SELECT t.relname::text FROM pg_catalog.pg_class w
                 LEFT JOIN pg_catalog.pg_index wi ON wi.indexrelid = w.oid
                 LEFT JOIN pg_catalog.pg_class t ON t.oid = wi.indrelid
                 WHERE w.relnamespace = n.oid AND w.relname = $3),
                EXISTS (SELECT 1 FROM pg_catalog.pg_class w
                        WHERE w.relnamespace = n.oid AND w.relname = $3)
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND c.relname = $2 AND i.indisprimary",
        &[&n.schema, &n.stage, &wanted],
    );
    let Some(row) = r.map_err(|e| session.err(&e, doing))? else {
        return Ok(None);
    };
    let (index, holder, taken): (String, Option<String>, bool) =
        (row.get(0), row.get(1), row.get(2));
    let free = !taken || (holder.is_some() && holder.as_deref() == old);
    Ok((index != wanted && free).then_some((index, wanted)))
}

enum Swap {
    /// A lock was not granted within `lock_timeout`.
    Busy(String),
    Failed(DriverError),
}

/// Detach and drop the branch's old partition, attach the stage in its
/// place under the partition's name.
fn swap(session: &mut Session, n: &Names, doing: &str) -> std::result::Result<(), Swap> {
    let parent = n.parent_q();
    let old =
        partition::find(session, n.schema, n.parent, n.branch, doing).map_err(Swap::Failed)?;
    let name = partition_name(n.parent, n.branch);
    let mut sql = format!("SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';");
    if let Some(old) = &old {
        let old = quote_table(n.schema, old);
        sql.push_str(&format!(
            "ALTER TABLE {parent} DETACH PARTITION {old}; DROP TABLE {old};"
        ));
    }
    // The stage's key index is named after the stage (`…__next_pkey`, or
    // `…__next_pkey1` while last night's still holds that name): it takes
    // the partition's name, as if the partition had been created as such.
    if let Some((index, wanted)) =
        key_index_rename(session, n, old.as_deref(), &name, doing).map_err(Swap::Failed)?
    {
        sql.push_str(&format!(
            "ALTER INDEX {} RENAME TO {};",
            quote_table(n.schema, &index),
            quote_ident(&wanted)
        ));
    }
    sql.push_str(&format!(
        "ALTER TABLE {} RENAME TO {}; ALTER TABLE {parent} ATTACH PARTITION {} {}; COMMENT ON TABLE {} IS NULL;",
        n.stage_q(),
        quote_ident(&name),
        quote_table(n.schema, &name),
        partition::bound(n.branch),
        quote_table(n.schema, &name),
    ));
    match session.client().batch_execute(&sql) {
        Ok(()) => Ok(()),
        Err(e) if e.code().is_some_and(|c| c.code() == LOCK_NOT_AVAILABLE) => {
            Err(Swap::Busy(e.to_string()))
        }
        Err(e) => Err(Swap::Failed(session.err(&e, doing))),
    }
}
