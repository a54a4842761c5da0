//! The schema plan of a batch (docs/TYPES.md, "One central type for every
//! branch"): before any copy, each table of the batch is described at
//! every branch it applies to, selected tonight or not (a branch that
//! cannot be reached counts with the description the journal last
//! recorded), each column's families are joined in the
//! type lattice, and the central table is created or widened once. The
//! copies then find a table that takes every branch, whatever their order,
//! their thread count or which branch answers first, and never add or
//! widen a column themselves. A column without a lossless common type
//! refuses its table before anything is copied.

use super::plan::Job;
pub use super::schema_describe::{describe_all, Described};
use crate::config::{Config, Partitions};
use crate::driver::lattice::{self, Conversion, Family};
use crate::driver::{Column, DriverError, Endpoint, Target, WritePlan};
use crate::journal::Journal;
use std::collections::HashMap;
use std::sync::Mutex;

/// One branch's view of a column.
#[derive(Debug, Clone)]
pub struct BranchType {
    /// The connection, or `central` for the existing central column.
    pub connection: String,
    /// Its type as its database names it (`tinyint(1) (mysql)`).
    pub shown: String,
    pub family: Family,
}

#[derive(Debug, Clone)]
pub struct ColumnPlan {
    pub name: String,
    /// The join of every branch's family (`None` for a refused column).
    pub family: Option<Family>,
    /// The central type it is created or widened as.
    pub type_name: String,
    pub branches: Vec<BranchType>,
    /// The connections whose type widened the column past what the others
    /// would have needed.
    pub forced_by: Vec<String>,
    /// How the values of some connections are converted on the way.
    pub conversions: Vec<(String, Conversion)>,
}

#[derive(Debug, Clone)]
pub struct TablePlan {
    pub table_index: usize,
    /// The central table.
    pub table: String,
    pub columns: Vec<ColumnPlan>,
    /// Why no copy of the table can run (a column without a common type).
    pub refusal: Option<String>,
    /// Branches whose columns the existing central table cannot take
    /// without changing a column's type: their copies fail on their own.
    pub left_out: Vec<String>,
    /// What the plan knows less well (a branch described from the journal).
    pub notes: Vec<String>,
    /// The statements that create or widen the table (run, or to run).
    pub ddl: Vec<String>,
}

pub(super) fn shown(c: &Column) -> String {
    format!("{} ({})", c.native.name, c.native.dialect)
}

/// The target-side write plan of a planned table.
pub fn write_plan<'a>(
    config: &'a Config,
    target: &'a dyn Endpoint,
    table_index: usize,
    connection: &'a str,
    columns: &'a [Column],
) -> WritePlan<'a> {
    let tcfg = &config.tables[table_index];
    let t = config.target.as_ref();
    WritePlan {
        schema: t
            .and_then(|t| t.schema.as_deref())
            .unwrap_or_else(|| target.default_schema()),
        table: tcfg.target_table(),
        columns,
        key: &tcfg.key,
        mode: tcfg.mode,
        cursor: tcfg.cursor.as_deref(),
        branch: tcfg
            .branch_tagged()
            .then_some((t.map(|t| t.branch_column()).unwrap_or("branch"), connection)),
        partition_by_branch: t.and_then(|t| t.partitions).unwrap_or_default()
            == Partitions::PerBranch,
        // The plan only makes the table; no rows go through this plan.
        key_unique_at_source: false,
    }
}

/// Join the descriptions of one table (and the central's existing columns)
/// into its plan. `None` when the target plans nothing.
pub fn plan_table(
    config: &Config,
    target: &mut dyn Target,
    index: usize,
    described: &[(String, Vec<Column>)],
    existing: Option<&[(String, Family)]>,
) -> Option<TablePlan> {
    let planner = target.planner()?;
    let existing = existing.unwrap_or_default();
    // Each branch's families; a branch that would turn an existing central
    // column into another type (a number into text, say) is left out: its
    // copies fail with the type conflict, the others go on.
    let mut left_out = Vec::new();
    let mut branches_fams: Vec<(&str, Vec<(&Column, Family)>)> = Vec::new();
    for (conn, cols) in described {
        let fams: Vec<(&Column, Family)> = cols.iter().map(|c| (c, planner.family(c))).collect();
        let clash = fams.iter().find_map(|(c, f)| {
            let (_, have) = existing.iter().find(|(n, _)| *n == c.name)?;
            match lattice::join(have, f) {
                Ok(j) if lattice::widens_in_place(have, &j) => None,
                _ => Some(format!(
                    "{conn} left out: its column {:?} is {}, which the central's {} cannot take without becoming another type; its copies fail with the type conflict and its fix",
                    c.name,
                    shown(c),
                    planner.type_name(have)
                )),
            }
        });
        match clash {
            Some(why) => left_out.push(why),
            None => branches_fams.push((conn.as_str(), fams)),
        }
    }
    // Column order: the central's, then each branch's new ones, branches
    // by name.
    let mut names: Vec<String> = existing.iter().map(|(n, _)| n.clone()).collect();
    for (_, cols) in &branches_fams {
        for (c, _) in cols {
            if !names.contains(&c.name) {
                names.push(c.name.clone());
            }
        }
    }
    let branch_col = config.target.as_ref().map(|t| t.branch_column());
    let mut columns = Vec::new();
    let mut refusals = Vec::new();
    for name in names {
        if config.tables[index].branch_tagged() && Some(name.as_str()) == branch_col {
            continue;
        }
        let mut branches = Vec::new();
        if let Some((_, f)) = existing.iter().find(|(n, _)| *n == name) {
            branches.push(BranchType {
                connection: "central".into(),
                shown: planner.type_name(f),
                family: f.clone(),
            });
        }
        for (conn, cols) in &branches_fams {
            if let Some((c, f)) = cols.iter().find(|(c, _)| c.name == name) {
                branches.push(BranchType {
                    connection: (*conn).to_owned(),
                    shown: shown(c),
                    family: f.clone(),
                });
            }
        }
        let joined = lattice::fold(branches.iter().map(|b| &b.family));
        let family = match joined {
            Some(Ok(f)) => Some(f),
            Some(Err(_)) | None => {
                refusals.push(refusal(&config.tables[index].model, &name, &branches));
                None
            }
        };
        let forced_by = family
            .as_ref()
            .map(|f| forced_by(f, &branches))
            .unwrap_or_default();
        let conversions = family
            .as_ref()
            .map(|f| {
                branches
                    .iter()
                    .map(|b| (b.connection.clone(), lattice::conversion(&b.family, f)))
                    .filter(|(_, c)| *c != Conversion::None)
                    .collect()
            })
            .unwrap_or_default();
        columns.push(ColumnPlan {
            type_name: family
                .as_ref()
                .map(|f| planner.type_name(f))
                .unwrap_or_default(),
            name,
            family,
            branches,
            forced_by,
            conversions,
        });
    }
    Some(TablePlan {
        table_index: index,
        table: config.tables[index].target_table().to_owned(),
        columns,
        refusal: (!refusals.is_empty()).then(|| refusals.join("; ")),
        left_out,
        notes: Vec::new(),
        ddl: Vec::new(),
    })
}

/// The branches without which the column would be narrower.
fn forced_by(joined: &Family, branches: &[BranchType]) -> Vec<String> {
    if branches.iter().all(|b| b.family == *joined) {
        return Vec::new();
    }
    (0..branches.len())
        .filter(|&i| {
            let others = branches
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, b)| &b.family);
            lattice::fold(others).and_then(Result::ok).as_ref() != Some(joined)
        })
        .map(|i| branches[i].connection.clone())
        .collect()
}

fn refusal(model: &str, column: &str, branches: &[BranchType]) -> String {
    let types: Vec<String> = branches
        .iter()
        .map(|b| format!("{} at {}", b.shown, b.connection))
        .collect();
    format!(
        "column {column:?} has no lossless common type: {}. Make the branches agree on one type for it (or on types a text column holds: anything but bytes and arrays), or remove the [[table]] entry of model {model} from the config",
        types.join(", ")
    )
}

/// Plan every table of `jobs`: describe, join, and (unless `dry_run`)
/// create or widen each central table once (`journal` records what each
/// branch said, unless `dry_run`). A table the target cannot
/// plan ahead (a lock not granted in time, an error) is noted, and its
/// copies prepare it themselves as before. Empty when the target does not
/// plan (its copies prepare each table).
pub fn run(
    config: &Config,
    target_ep: &dyn Endpoint,
    sources: &HashMap<String, Box<dyn Endpoint>>,
    jobs: &[Job],
    journal: Option<&Mutex<Journal>>,
    dry_run: bool,
) -> Result<Vec<TablePlan>, DriverError> {
    if !crate::driver::plans_ahead(target_ep.driver()) {
        return Ok(Vec::new());
    }
    let mut target = target_ep.target()?;
    if target.planner().is_none() {
        return Ok(Vec::new());
    }
    let mut plans = Vec::new();
    for (index, (described, notes)) in describe_all(config, sources, jobs, journal, !dry_run) {
        let Some((first, _)) = described.first() else {
            continue;
        };
        let wp = write_plan(config, target_ep, index, first, &[]);
        let planner = target.planner().expect("checked above");
        // A central that does not answer for one table will not for the
        // next: the plan stops there (the copies prepare their tables).
        let existing = planner.existing(wp.schema, wp.table)?;
        let Some(mut plan) = plan_table(
            config,
            target.as_mut(),
            index,
            &described,
            existing.as_deref(),
        ) else {
            continue;
        };
        plan.notes = notes;
        if plan.refusal.is_none() {
            let columns: Vec<(String, Family)> = plan
                .columns
                .iter()
                .filter_map(|c| Some((c.name.clone(), c.family.clone()?)))
                .collect();
            let planner = target.planner().expect("checked above");
            match planner.apply(&wp, &columns, dry_run) {
                Ok(ddl) => plan.ddl = ddl,
                Err(e) => plan.notes.push(format!(
                    "not planned ahead ({e}): each copy prepares the table"
                )),
            }
        }
        plans.push(plan);
    }
    Ok(plans)
}
