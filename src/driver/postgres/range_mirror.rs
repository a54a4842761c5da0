//! `mirror` by range checksums at a PostgreSQL target, inside its write
//! transaction: this side's [`PgChecksums`] over the branch's slice (its
//! columns cast to the source's types), and the writes that settle the
//! differences: source rows through the staging table and `INSERT … ON
//! CONFLICT … DO UPDATE`, deletes by key or by whole bucket. The bisection
//! itself is driver-neutral ([`crate::driver::mirror::reconcile`]).

use super::checksum::{PgChecksums, Slice, CANONICAL_SETTINGS};
use super::endpoint::Session;
use super::ident::{quote_ident, quote_literal};
use super::schema::{comparison_type, native_or_kind_type};
use super::text_copy::push_escaped;
use super::upsert::Upsert;
use crate::driver::checksum::{
    BucketSum, Buckets, CanonRow, KeyText, MirrorTarget, Parent, RangeChecksums,
};
use crate::driver::mirror::{reconcile, Tuning};
use crate::driver::{DriverError, Result, WriteOutcome, WritePlan};
use std::io::Write;

/// Fails with a clear error when a target column cannot be read in the
/// source's type (the pair cannot be compared reliably).
pub fn check_comparable(
    session: &mut Session,
    plan: &WritePlan,
    types: &[String],
    named: &str,
) -> Result<()> {
    for (c, t) in plan.columns.iter().zip(types) {
        let src = native_or_kind_type(c);
        let read_as = comparison_type(c);
        if src == t.as_str() || read_as == t.as_str() {
            continue;
        }
        let sql = format!("SELECT NULL::{t}::{read_as}");
        if let Err(e) = session.client().batch_execute(&sql) {
            return Err(DriverError::schema(format!(
                "{named}: mirror cannot compare column {:?}: the source's type is {src}, the target's is {t}, and the target's values cannot be read as {read_as} ({}). Make the types match, or use mode = \"upsert\" or \"full\"",
                c.name,
                e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned())
            )));
        }
    }
    Ok(())
}

/// Runs the whole mirror inside the open write transaction; `upsert`
/// names the plan, the table and the target's types.
pub fn run(
    session: &mut Session,
    upsert: Upsert,
    source: &mut dyn RangeChecksums,
    tuning: &Tuning,
) -> Result<WriteOutcome> {
    let (plan, table, types, doing, named) = (
        upsert.plan,
        upsert.table,
        upsert.types,
        upsert.doing,
        upsert.named,
    );
    if plan.key.is_empty() {
        return Err(DriverError::schema(format!(
            "{named}: mode mirror needs a key; set `key` in the [[table]] entry"
        )));
    }
    if !super::checksum::hashes_rows(session, doing)? {
        return Err(DriverError::schema(format!(
            "{named}: mirror by range checksums needs PostgreSQL 11 or later at the target; upgrade it, or use mode = \"upsert\" or \"full\""
        )));
    }
    session.exec(CANONICAL_SETTINGS, doing)?;
    check_comparable(session, plan, types, named)?;
    let mut filter: Vec<String> = plan
        .branch
        .map(|(b, name)| format!("t.{} = {}", quote_ident(b), quote_literal(name)))
        .into_iter()
        .collect();
    filter.extend(
        plan.key
            .iter()
            .map(|k| format!("t.{} IS NOT NULL", quote_ident(k))),
    );
    let mut slice = Slice::new(
        table.to_owned(),
        filter,
        plan.columns,
        plan.key,
        Some(types),
    )?;
    slice.fixed = plan.branch.map(|(b, _)| b.to_owned()).into_iter().collect();
    let mut side = TargetSide {
        sums: PgChecksums::new(session, slice, format!("{doing} (comparing)")),
        upsert,
        staged: false,
    };
    let counts = reconcile(source, &mut side, tuning)?;
    log::debug!(
        "{named}: mirror: {} source rows, {} levels, {} bucket checksums, {} rows compared, {} written, {} deleted",
        counts.source_rows,
        counts.levels,
        counts.buckets,
        counts.rows_compared,
        counts.written,
        counts.deleted
    );
    Ok(WriteOutcome {
        processed: counts.source_rows,
        skipped: counts.source_rows.saturating_sub(counts.written),
        deleted: counts.deleted,
        link: None,
    })
}

/// The target's side: checksums plus writes, on one session.
struct TargetSide<'s, 'a> {
    sums: PgChecksums<'s>,
    upsert: Upsert<'a>,
    /// The staging table exists (and may hold the previous batch).
    staged: bool,
}

impl RangeChecksums for TargetSide<'_, '_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>> {
        self.sums.checksums(level)
    }

    fn split(&mut self, level: &Buckets, parents: &[Parent]) -> Result<Vec<Vec<KeyText>>> {
        self.sums.split(level, parents)
    }

    fn rows(
        &mut self,
        level: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<()>,
    ) -> Result<()> {
        self.sums.rows(level, each)
    }

    fn key_positions(&self) -> &[usize] {
        self.sums.key_positions()
    }

    fn scans_each_level(&self) -> bool {
        self.sums.scans_each_level()
    }
}

impl MirrorTarget for TargetSide<'_, '_> {
    fn upsert(&mut self, rows: &[Vec<Option<String>>]) -> Result<u64> {
        let session = &mut *self.sums.session;
        let doing = format!("{} (staging the differing rows)", self.upsert.doing);
        if self.staged {
            session.exec(&format!("TRUNCATE {}", self.upsert.stage()), &doing)?;
        } else {
            session.exec(&self.upsert.stage_create()?, &doing)?;
            self.staged = true;
        }
        let sql = format!(
            "COPY {} ({}) FROM STDIN",
            self.upsert.stage(),
            self.upsert.cols()
        );
        let ctx = session.ctx();
        let mut w = session
            .client()
            .copy_in(sql.as_str())
            .map_err(|e| ctx.pg(&e, &doing))?;
        // Sent in pieces of about CHUNK bytes, a long value escaped piece by
        // piece: memory stays near one piece, not the rows' text again.
        const CHUNK: usize = 64 << 10;
        let mut buf = Vec::with_capacity(2 * CHUNK);
        let mut send = |buf: &mut Vec<u8>, at_least: usize| {
            if buf.len() >= at_least {
                w.write_all(buf).map_err(|e| ctx.io(e, &doing))?;
                buf.clear();
            }
            Ok::<_, DriverError>(())
        };
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    buf.push(b'\t');
                }
                match v {
                    None => buf.extend_from_slice(b"\\N"),
                    Some(s) => {
                        for piece in s.as_bytes().chunks(CHUNK) {
                            push_escaped(&mut buf, piece);
                            send(&mut buf, CHUNK)?;
                        }
                    }
                }
            }
            buf.push(b'\n');
            send(&mut buf, CHUNK)?;
        }
        send(&mut buf, 1)?;
        w.finish().map_err(|e| ctx.pg(&e, &doing))?;
        self.upsert.apply_stage(session, false)
    }

    fn delete_keys(&mut self, keys: &[KeyText]) -> Result<u64> {
        self.sums.delete_keys(keys)
    }

    fn delete_buckets(&mut self, level: &Buckets) -> Result<u64> {
        self.sums.delete_buckets(level)
    }
}
