//! The schema plan in words, for `check` and `sync-all --dry-run`: each
//! central table and column type, which branch forced each widening, the
//! conversions that apply, and every refusal. Nothing is written: the
//! plan is computed as a batch would, with the statements it would run.

use crate::config::Config;
use crate::driver::lattice::Conversion;
use crate::driver::{open_endpoint, Endpoint};
use crate::engine::plan::Job;
use crate::engine::schema_plan::{self, TablePlan};
use std::collections::HashMap;

/// Compute the plan of `jobs` without writing. `Ok(None)` when the target
/// does not plan ahead (its copies prepare each table).
pub fn compute(config: &Config, jobs: &[Job]) -> anyhow::Result<Option<Vec<TablePlan>>> {
    let target_cfg = config.require_target()?;
    // Opening a session of a target that plans nothing could create it
    // (a SQLite file), and this writes nothing.
    if !crate::driver::plans_ahead(&target_cfg.driver) {
        return Ok(None);
    }
    let target = open_endpoint(target_cfg, &config.engine, 1)?;
    let mut sources: HashMap<String, Box<dyn Endpoint>> = HashMap::new();
    for j in jobs {
        if sources.contains_key(&j.connection) {
            continue;
        }
        if let Some(c) = config.connection(&j.connection) {
            if let Ok(ep) = open_endpoint(c, &config.engine, 1) {
                sources.insert(c.name.clone(), ep);
            }
        }
    }
    // Read only: what the journal last recorded of a branch not reached.
    let journal = crate::journal::Journal::open_read(&config.journal.path)
        .ok()
        .map(std::sync::Mutex::new);
    let plans = schema_plan::run(
        config,
        target.as_ref(),
        &sources,
        jobs,
        journal.as_ref(),
        true,
    )?;
    if plans.is_empty() && target.target()?.planner().is_none() {
        return Ok(None);
    }
    Ok(Some(plans))
}

fn conversion_words(c: Conversion) -> &'static str {
    match c {
        Conversion::None => "as is",
        Conversion::FlagToNumber => "flags as 0/1",
        Conversion::FlagToText => "flags as the text true/false",
        Conversion::SetToArray => "a SET as an array of its labels",
    }
}

/// The plan as lines of text (two-space indented).
pub fn render(plans: &[TablePlan]) -> Vec<String> {
    let mut out = Vec::new();
    for p in plans {
        let what = if let Some(why) = &p.refusal {
            format!("refused, nothing will be copied: {why}")
        } else if p.ddl.iter().any(|d| d.starts_with("CREATE")) {
            "to create".to_owned()
        } else if p.ddl.is_empty() {
            "takes every branch as it is".to_owned()
        } else {
            "to widen".to_owned()
        };
        out.push(format!("table {}: {what}", p.table));
        let width = p.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &p.columns {
            let mut line = format!("  {:<width$}  {}", c.name, c.type_name);
            if c.branches.iter().any(|b| b.family != c.branches[0].family) {
                let all: Vec<String> = c
                    .branches
                    .iter()
                    .map(|b| format!("{} {}", b.connection, b.shown))
                    .collect();
                let by = if c.forced_by.is_empty() {
                    String::new()
                } else {
                    format!("widened by {}; ", c.forced_by.join(", "))
                };
                line.push_str(&format!("  ({by}from {})", all.join(", ")));
            }
            for (conn, conv) in &c.conversions {
                line.push_str(&format!("  [{conn}: {}]", conversion_words(*conv)));
            }
            out.push(line.trim_end().to_owned());
        }
        for n in &p.left_out {
            out.push(format!("  ✗ {n}"));
        }
        for n in &p.notes {
            out.push(format!("  · {n}"));
        }
        for d in &p.ddl {
            out.push(format!("  > {d}"));
        }
    }
    out
}
