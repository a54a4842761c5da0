//! Writing a branch's rows into the central table in one transaction:
//! `full` replaces the branch's slice with one COPY; `upsert` and
//! `incremental` write only new and changed rows, counting rows identical
//! to the target as skipped (see [`super::upsert`]).

use super::copy_sink::CopySink;
use super::ddl;
use super::endpoint::Session;
use super::errors::cancelled;
use super::families;
use super::ident::{quote_ident, quote_list, quote_table};
use super::partition;
use super::plan_ddl;
use super::range_mirror;
use super::schema::{self, DIALECT};
use super::stage;
use super::upsert::Upsert;
use crate::config::Mode;
use crate::driver::checksum::RangeChecksums;
use crate::driver::convert::Converting;
use crate::driver::lattice::Family;
use crate::driver::mirror::Tuning;
use crate::driver::{
    CancelHandle, Chunk, Column, DriverError, Feed, Planner, Result, RowSink, StageState, Target,
    Value, WriteOutcome, WritePlan,
};

pub struct PgTarget {
    session: Session,
}

impl PgTarget {
    pub fn new(session: Session) -> PgTarget {
        PgTarget { session }
    }
}

impl PgTarget {
    fn named(&self, plan: &WritePlan) -> String {
        format!(
            "{}: table {}.{}",
            self.session.server, plan.schema, plan.table
        )
    }

    /// The target's types of the plan's columns.
    fn types(&mut self, plan: &WritePlan, doing: &str, named: &str) -> Result<Vec<String>> {
        let described = schema::describe(self.session.client(), plan.schema, plan.table);
        let target = described
            .map_err(|e| self.session.err(&e, doing))?
            .ok_or_else(|| {
                DriverError::schema(format!(
                    "{named} does not exist at the target (it is created by prepare)"
                ))
            })?;
        let mut types: Vec<String> = Vec::with_capacity(plan.columns.len());
        for c in plan.columns {
            let t = target.column(&c.name).ok_or_else(|| {
                DriverError::schema(format!(
                    "{named}: the column {:?} is missing at the target (it is added by prepare)",
                    c.name
                ))
            })?;
            types.push(t.native.name.clone());
        }
        Ok(types)
    }

    fn write_in_tx(
        &mut self,
        plan: &WritePlan,
        table: &str,
        doing: &str,
        feed: &mut Feed,
    ) -> Result<WriteOutcome> {
        let named = self.named(plan);
        let types = self.types(plan, doing, &named)?;
        let binary_ok = passthrough_fits(plan, &types, &named);
        // Values whose text form is not the central column's (a flag into a
        // number or text, a SET into an array) are converted on the way.
        let conversions = families::conversions(plan.columns, &types);
        let mut converted = |sink: &mut dyn RowSink| feed(&mut Converting::new(sink, &conversions));
        let feed: &mut Feed = &mut converted;
        let cols = quote_list(plan.columns.iter().map(|c| c.name.as_str()));
        let ctx = self.session.ctx();
        let branch = plan.branch.map(|(_, name)| name);
        match plan.mode {
            Mode::Full => {
                let copy = match plan.branch {
                    Some((b, name)) => {
                        let sql = format!("DELETE FROM {table} WHERE {} = $1", quote_ident(b));
                        let r = self.session.client().execute(sql.as_str(), &[&name]);
                        r.map_err(|e| self.session.err(&e, doing))?;
                        format!("COPY {table} ({}, {cols}) FROM STDIN", quote_ident(b))
                    }
                    None => {
                        self.session.exec(&format!("DELETE FROM {table}"), doing)?;
                        format!("COPY {table} ({cols}) FROM STDIN")
                    }
                };
                let client = self.session.client();
                let mut sink = CopySink::new(
                    client,
                    ctx,
                    doing.to_owned(),
                    copy,
                    binary_ok,
                    branch,
                    plan.columns.len(),
                );
                feed(&mut sink)?;
                let processed = sink.finish()?;
                Ok(WriteOutcome {
                    processed,
                    ..WriteOutcome::default()
                })
            }
            Mode::Upsert | Mode::Incremental | Mode::Mirror => Upsert {
                plan,
                table,
                types: &types,
                binary_ok,
                doing,
                named: &named,
            }
            .run(&mut self.session, feed),
        }
    }
}

/// The target's type of each of the plan's columns, and whether the
/// source's raw binary stream fits them (every type exactly the same).
pub(super) fn column_types(
    session: &mut Session,
    plan: &WritePlan,
    doing: &str,
) -> Result<(Vec<String>, bool)> {
    let named = format!("{}: table {}.{}", session.server, plan.schema, plan.table);
    let described = schema::describe(session.client(), plan.schema, plan.table);
    let target = described
        .map_err(|e| session.err(&e, doing))?
        .ok_or_else(|| {
            DriverError::schema(format!(
                "{named} does not exist at the target (it is created by prepare)"
            ))
        })?;
    let mut types = Vec::with_capacity(plan.columns.len());
    for c in plan.columns {
        let t = target.column(&c.name).ok_or_else(|| {
            DriverError::schema(format!(
                "{named}: the column {:?} is missing at the target (it is added by prepare)",
                c.name
            ))
        })?;
        types.push(t.native.name.clone());
    }
    let binary_ok = passthrough_fits(plan, &types, &named);
    Ok((types, binary_ok))
}

/// Does the source's raw stream fit the target table? Only when every
/// column's type is exactly the same; the first column that differs is
/// logged (at `-v`), since its values, and the whole table's, are then
/// decoded and written as text.
fn passthrough_fits(plan: &WritePlan, types: &[String], named: &str) -> bool {
    let differs = plan
        .columns
        .iter()
        .zip(types)
        .find(|(c, t)| c.native.dialect != DIALECT || &c.native.name != *t);
    if let Some((c, t)) = differs {
        log::debug!(
            "{named}: rows decoded, not passed through: column {:?} is {} at the source and {t} here",
            c.name,
            c.native.name
        );
    }
    differs.is_none()
}

impl Planner for PgTarget {
    fn family(&mut self, col: &Column) -> Family {
        let client = self.session.client();
        families::of_column(col, |name| {
            client
                .query_one("SELECT to_regtype($1) IS NOT NULL", &[&name])
                .map(|r| r.get::<_, bool>(0))
                .unwrap_or(false)
        })
    }

    fn type_name(&self, family: &Family) -> String {
        families::type_of(family)
    }

    fn existing(&mut self, schema: &str, table: &str) -> Result<Option<Vec<(String, Family)>>> {
        plan_ddl::existing(&mut self.session, schema, table)
    }

    fn apply(
        &mut self,
        plan: &WritePlan,
        columns: &[(String, Family)],
        dry_run: bool,
    ) -> Result<Vec<String>> {
        plan_ddl::apply(&mut self.session, plan, columns, dry_run)
    }
}

impl Target for PgTarget {
    fn planner(&mut self) -> Option<&mut dyn Planner> {
        Some(self)
    }

    fn prepare(&mut self, plan: &WritePlan) -> Result<()> {
        ddl::prepare(&mut self.session, plan)
    }

    fn watermark(&mut self, plan: &WritePlan) -> Result<Option<Value>> {
        let table = quote_table(plan.schema, plan.table);
        let doing = format!("reading the watermark of {table}");
        let Some(cursor) = plan.cursor else {
            return Err(DriverError::schema(format!(
                "{}: table {}.{}: incremental needs a cursor column; set `cursor` in the [[table]] entry",
                self.session.server, plan.schema, plan.table
            )));
        };
        let exists = schema::relation_oid(self.session.client(), plan.schema, plan.table);
        if exists.map_err(|e| self.session.err(&e, &doing))?.is_none() {
            return Ok(None);
        }
        let max = format!("SELECT max({})::text FROM {table}", quote_ident(cursor));
        let r = match plan.branch {
            Some((b, name)) => {
                let sql = format!("{max} WHERE {} = $1", quote_ident(b));
                self.session.client().query_one(sql.as_str(), &[&name])
            }
            None => self.session.client().query_one(max.as_str(), &[]),
        };
        let row = r.map_err(|e| self.session.err(&e, &doing))?;
        Ok(row.get::<_, Option<String>>(0).map(Value::Text))
    }

    fn write(&mut self, plan: &WritePlan, feed: &mut Feed) -> Result<WriteOutcome> {
        let table = quote_table(plan.schema, plan.table);
        let doing = format!("writing {table}");
        self.session.check_cancelled(&doing)?;
        self.session.exec("BEGIN", &doing)?;
        match self.write_in_tx(plan, &table, &doing, feed) {
            Ok(out) => {
                self.session.exec("COMMIT", &doing)?;
                Ok(out)
            }
            Err(e) => {
                self.session.rollback();
                if self.session.is_cancelled() {
                    return Err(cancelled(&self.session.server, &doing));
                }
                Err(e)
            }
        }
    }

    fn mirror(
        &mut self,
        plan: &WritePlan,
        source: &mut dyn RangeChecksums,
        tuning: &Tuning,
    ) -> Result<WriteOutcome> {
        let table = quote_table(plan.schema, plan.table);
        let doing = format!("mirroring {table}");
        self.session.check_cancelled(&doing)?;
        let before = self.session.link_bytes();
        self.session.exec("BEGIN", &doing)?;
        let named = self.named(plan);
        let r = self.types(plan, &doing, &named).and_then(|types| {
            let upsert = Upsert {
                plan,
                table: &table,
                types: &types,
                binary_ok: false,
                doing: &doing,
                named: &named,
            };
            range_mirror::run(&mut self.session, upsert, source, tuning)
        });
        match r {
            Ok(mut out) => {
                self.session.exec("COMMIT", &doing)?;
                // Both links, from this side's BEGIN to its COMMIT and from
                // the source's snapshot on (its closing ROLLBACK excepted).
                out.link = match (before, self.session.link_bytes(), source.link_bytes()) {
                    (Some(before), Some(now), Some(source)) => Some(now.since(before) + source),
                    _ => None,
                };
                Ok(out)
            }
            Err(e) => {
                self.session.rollback();
                if self.session.is_cancelled() {
                    return Err(cancelled(&self.session.server, &doing));
                }
                Err(e)
            }
        }
    }

    fn cancel_handle(&self) -> CancelHandle {
        self.session.cancel_handle()
    }

    fn copy_bytes_sent(&self) -> Option<u64> {
        Some(self.session.copy_bytes_sent())
    }

    fn layout_note(
        &mut self,
        schema: &str,
        table: &str,
        branch_column: &str,
    ) -> Result<Option<String>> {
        partition::conversion_note(&mut self.session, schema, table, branch_column)
    }

    fn can_stage(&mut self, plan: &WritePlan) -> Result<bool> {
        stage::can_stage(&mut self.session, plan)
    }

    fn stage_open(&mut self, plan: &WritePlan, run: &str) -> Result<StageState> {
        stage::open(&mut self.session, plan, run)
    }

    fn stage_chunk(
        &mut self,
        plan: &WritePlan,
        run: &str,
        chunk: &Chunk,
        feed: &mut Feed,
    ) -> Result<u64> {
        stage::chunk(&mut self.session, plan, run, chunk, feed)
    }

    fn stage_publish(&mut self, plan: &WritePlan, run: &str) -> Result<()> {
        stage::publish(&mut self.session, plan, run)
    }
}
