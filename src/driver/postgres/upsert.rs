//! `upsert` and `incremental` writes, inside the target's write transaction.
//!
//! The general path COPYs every source row into a temporary staging table
//! and merges it with one `INSERT … ON CONFLICT … DO UPDATE … WHERE … IS
//! DISTINCT FROM`. When the raw binary stream fits the target (same types)
//! and the key can be ordered in binary (integers, numeric, dates,
//! timestamps, uuid), an upsert into a slice that already has rows merges
//! the key-ordered source and target streams in the tool instead, and only
//! the rows that differ reach the staging table and the `INSERT`.
//!
//! `incremental` keeps the general path: the source sends only rows at or
//! past the watermark, which are new or changed but for the few at the
//! watermark itself, so there is little for a merge to skip.

use super::binary_key::KeyLayout;
use super::copy_sink::CopySink;
use super::diff_spool::DiffSpool;
use super::duplicates;
use super::endpoint::Session;
use super::ident::{quote_ident, quote_list, quote_literal};
use super::merge_sink::{MergeSink, Merged, StagePlan};
use crate::config::Mode;
use crate::driver::{DriverError, Feed, Result, WriteOutcome, WritePlan};
use std::io::Write;

/// The staging table (temporary: one per session, dropped at commit).
const STAGE: &str = "branchsync_stage";

/// Prefer index order to sorting, for the rest of the transaction.
pub const SORT_OFF: &str = "SET LOCAL enable_sort = off";
/// Back to the configured planner setting.
pub const SORT_DEFAULT: &str = "SET LOCAL enable_sort TO DEFAULT";

/// Types without an equality operator are compared as text.
fn compare_as_text(target_type: &str) -> bool {
    let base = target_type.trim_end_matches("[]");
    matches!(
        base,
        "json" | "xml" | "point" | "line" | "lseg" | "box" | "path" | "polygon" | "circle"
    )
}

/// One upsert or incremental write: the plan, the target table (quoted),
/// the target's types of the plan's columns, and what the write is doing.
pub struct Upsert<'a> {
    pub plan: &'a WritePlan<'a>,
    pub table: &'a str,
    pub types: &'a [String],
    pub binary_ok: bool,
    pub doing: &'a str,
    pub named: &'a str,
}

impl Upsert<'_> {
    pub fn cols(&self) -> String {
        quote_list(self.plan.columns.iter().map(|c| c.name.as_str()))
    }

    pub fn stage(&self) -> String {
        format!("pg_temp.{}", quote_ident(STAGE))
    }

    pub fn stage_create(&self) -> Result<String> {
        let mut defs = Vec::with_capacity(self.types.len());
        for (c, t) in self.plan.columns.iter().zip(self.types) {
            if !super::ident::safe_type_name(t) {
                return Err(DriverError::schema(format!(
                    "{}: column {:?} has a type name that cannot be used: {t:?}",
                    self.named, c.name
                )));
            }
            defs.push(format!("{} {t}", quote_ident(&c.name)));
        }
        Ok(format!(
            "CREATE TEMP TABLE {} ({}) ON COMMIT DROP",
            quote_ident(STAGE),
            defs.join(", ")
        ))
    }

    /// The merge's key layout, when this write can merge streams.
    fn layout(&self) -> Option<KeyLayout> {
        if self.plan.mode != Mode::Upsert || !self.binary_ok {
            return None;
        }
        let columns: Vec<(&str, &str)> = self
            .plan
            .columns
            .iter()
            .zip(self.types)
            .map(|(c, t)| (c.name.as_str(), t.as_str()))
            .collect();
        KeyLayout::new(&columns, self.plan.key)
    }

    /// The `WHERE` of the slice: this branch's rows (or the whole table).
    fn slice_filter(&self) -> String {
        match self.plan.branch {
            Some((b, name)) => format!(" WHERE {} = {}", quote_ident(b), quote_literal(name)),
            None => String::new(),
        }
    }

    /// Writes what `feed` sends; returns the outcome.
    pub fn run(&self, session: &mut Session, feed: &mut Feed) -> Result<WriteOutcome> {
        if self.plan.key.is_empty() {
            return Err(DriverError::schema(format!(
                "{}: mode {} needs a key; set `key` in the [[table]] entry",
                self.named,
                self.plan.mode.as_str()
            )));
        }
        let create = self.stage_create()?;
        match self.layout() {
            Some(layout) if self.slice_has_rows(session)? => {
                self.run_merged(session, feed, layout, create)
            }
            _ => self.run_staged(session, feed, &create),
        }
    }

    /// Does the slice hold any row (else everything is new: no merge)?
    fn slice_has_rows(&self, session: &mut Session) -> Result<bool> {
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM {}{})",
            self.table,
            self.slice_filter()
        );
        let r = session.client().query_one(sql.as_str(), &[]);
        Ok(r.map_err(|e| session.err(&e, self.doing))?.get(0))
    }

    /// Every source row through the staging table.
    fn run_staged(
        &self,
        session: &mut Session,
        feed: &mut Feed,
        create: &str,
    ) -> Result<WriteOutcome> {
        session.exec(create, self.doing)?;
        let copy = format!("COPY {} ({}) FROM STDIN", self.stage(), self.cols());
        let ctx = session.ctx();
        let mut sink = CopySink::new(
            session.client(),
            ctx,
            self.doing.to_owned(),
            copy,
            self.binary_ok,
            None,
            self.plan.columns.len(),
        );
        feed(&mut sink)?;
        let staged = sink.finish()?;
        let deleted = if self.plan.mode == Mode::Mirror {
            self.delete_unseen(session)?
        } else {
            0
        };
        let written = self.apply_stage(session, true)?;
        Ok(WriteOutcome {
            processed: staged,
            skipped: staged.saturating_sub(written),
            deleted,
            link: None,
        })
    }

    /// The source's stream merged with the target's; only differing rows
    /// are staged.
    fn run_merged(
        &self,
        session: &mut Session,
        feed: &mut Feed,
        layout: KeyLayout,
        create: String,
    ) -> Result<WriteOutcome> {
        let order = quote_list(self.plan.key.iter().map(String::as_str));
        let target_copy = format!(
            "COPY (SELECT {} FROM {}{} ORDER BY {order}) TO STDOUT (FORMAT binary)",
            self.cols(),
            self.table,
            self.slice_filter()
        );
        // The key index gives the rows in order; a table loaded since its
        // last ANALYZE can look small enough to the planner for a sort,
        // which spills to disk on a large slice.
        session.exec(SORT_OFF, self.doing)?;
        let stage = StagePlan {
            create: create.clone(),
            copy: format!("COPY {} ({}) FROM STDIN", self.stage(), self.cols()),
            columns: self.plan.columns.len(),
        };
        let ctx = session.ctx();
        let mut sink = MergeSink::new(
            session.client(),
            ctx.clone(),
            self.doing.to_owned(),
            layout,
            target_copy,
            stage,
        );
        let merged = feed(&mut sink).and_then(|_| sink.finish());
        let stream_open = sink.stream_open();
        drop(sink);
        let merged = match merged {
            Ok(m) => m,
            Err(e) => {
                if stream_open {
                    // Stop the target's stream rather than wait for its end
                    // before the rollback; keep the connection from the pool
                    // (a late cancel must not hit the next user).
                    ctx.abort_statement();
                    session.poison();
                }
                return Err(e);
            }
        };
        session.exec(SORT_DEFAULT, self.doing)?;
        match merged {
            Merged::Nothing => Ok(WriteOutcome::default()),
            Merged::Staged(staged) => {
                let written = self.apply_stage(session, true)?;
                Ok(WriteOutcome {
                    processed: staged,
                    skipped: staged.saturating_sub(written),
                    ..WriteOutcome::default()
                })
            }
            Merged::Diff { counts, spool } => {
                log::debug!(
                    "{}: merged {} source rows with {} target rows: {} identical, {} to write ({} bytes{})",
                    self.named,
                    counts.source,
                    counts.target,
                    counts.identical,
                    counts.differing,
                    spool.bytes(),
                    if spool.spilled() {
                        ", spooled to a temporary file"
                    } else {
                        ""
                    }
                );
                let written = if spool.tuples() == 0 {
                    0
                } else {
                    session.exec(&create, self.doing)?;
                    self.load_spool(session, spool)?;
                    self.apply_stage(session, true)?
                };
                Ok(WriteOutcome {
                    processed: counts.source,
                    skipped: counts.source.saturating_sub(written),
                    ..WriteOutcome::default()
                })
            }
        }
    }

    /// Loads the differing tuples into the staging table.
    fn load_spool(&self, session: &mut Session, spool: DiffSpool) -> Result<u64> {
        let sql = format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            self.stage(),
            self.cols()
        );
        let doing = format!("{} (staging the changed rows)", self.doing);
        let ctx = session.ctx();
        let mut writer = session
            .client()
            .copy_in(sql.as_str())
            .map_err(|e| ctx.pg(&e, &doing))?;
        let r = spool.copy_to(&mut writer);
        if let Err(e) = r.and_then(|_| writer.flush()) {
            return Err(ctx.io(e, &doing));
        }
        ctx.check_cancelled(&doing)?;
        writer.finish().map_err(|e| ctx.pg(&e, &doing))
    }

    /// `mirror` without range checksums: deletes the slice's rows whose key
    /// the source did not send (all of them are in the staging table).
    fn delete_unseen(&self, session: &mut Session) -> Result<u64> {
        let same_key = self
            .plan
            .key
            .iter()
            .map(|k| format!("s.{0} = t.{0}", quote_ident(k)))
            .collect::<Vec<_>>()
            .join(" AND ");
        let slice = match self.plan.branch {
            Some((b, name)) => format!("t.{} = {} AND ", quote_ident(b), quote_literal(name)),
            None => String::new(),
        };
        let sql = format!(
            "DELETE FROM {} AS t WHERE {slice}NOT EXISTS (SELECT 1 FROM {} s WHERE {same_key})",
            self.table,
            self.stage()
        );
        let r = session.client().execute(sql.as_str(), &[]);
        r.map_err(|e| {
            session.err(
                &e,
                &format!("{} (deleting rows gone at the source)", self.doing),
            )
        })
    }

    /// Inserts new and updates changed rows from the staging table; returns
    /// the rows written. `only_changed = false` (mirror, which staged only
    /// rows whose text differs) updates even rows the type calls equal to
    /// the target's (`-0` and `0`).
    pub fn apply_stage(&self, session: &mut Session, only_changed: bool) -> Result<u64> {
        let plan = self.plan;
        let cols = self.cols();
        let stage = self.stage();
        let key: Vec<&str> = plan
            .branch
            .map(|(b, _)| b)
            .into_iter()
            .chain(plan.key.iter().map(String::as_str))
            .collect();
        let rest: Vec<(&str, &str)> = plan
            .columns
            .iter()
            .zip(self.types)
            .filter(|(c, _)| !plan.key.contains(&c.name))
            .map(|(c, t)| (c.name.as_str(), t.as_str()))
            .collect();
        let action = if rest.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            let set = rest
                .iter()
                .map(|(c, _)| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ");
            let side = |alias: &str| {
                rest.iter()
                    .map(|(c, t)| {
                        let cast = if compare_as_text(t) { "::text" } else { "" };
                        format!("{alias}.{}{cast}", quote_ident(c))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            if only_changed {
                format!(
                    "DO UPDATE SET {set} WHERE ({}) IS DISTINCT FROM ({})",
                    side("t"),
                    side("EXCLUDED")
                )
            } else {
                format!("DO UPDATE SET {set}")
            }
        };
        let conflict = quote_list(key);
        let table = self.table;
        let doing = format!("{} (merging the staged rows)", self.doing);
        session.exec(&format!("SAVEPOINT {}", duplicates::SAVEPOINT), &doing)?;
        let r = match plan.branch {
            Some((b, name)) => {
                let sql = format!(
                    "INSERT INTO {table} AS t ({}, {cols}) SELECT $1, {cols} FROM {stage} ON CONFLICT ({conflict}) {action}",
                    quote_ident(b)
                );
                session.client().execute(sql.as_str(), &[&name])
            }
            None => {
                let sql = format!(
                    "INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({conflict}) {action}"
                );
                session.client().execute(sql.as_str(), &[])
            }
        };
        match r {
            Ok(written) => {
                let release = format!("RELEASE SAVEPOINT {}", duplicates::SAVEPOINT);
                session.exec(&release, &doing)?;
                Ok(written)
            }
            Err(e) if duplicates::is_repeated_key(&e) => Err(duplicates::error(
                session,
                &e,
                &doing,
                self.named,
                &stage,
                plan.key,
                plan.branch.map(|(_, name)| name),
            )),
            Err(e) => Err(session.err(&e, &doing)),
        }
    }
}
