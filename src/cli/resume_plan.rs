//! `sync-resume-interrupted --dry-run`: the batches a resume would take,
//! newest first, and what it would do with each unfinished table (a table a
//! newer batch of the run would copy is closed in the older ones if that
//! copy completes, never copied twice); nothing is written (the journal is
//! only read, no lock is taken).

use crate::config::Config;
use crate::engine::plan::job_for_row;
use crate::engine::resume_run::resumable_batches;
use crate::engine::ResumeOptions;
use crate::exit::Outcome;
use crate::journal::Journal;
use std::collections::HashMap;

pub fn print(config: &Config, how: &ResumeOptions) -> anyhow::Result<Outcome> {
    let journal = Journal::open_read(&config.journal.path)?;
    let ids = resumable_batches(&journal, how)?;
    if ids.is_empty() {
        crate::say!("Dry run: nothing to resume (nothing written).");
        return Ok(Outcome::Success);
    }
    let batches = if ids.len() == 1 { "batch" } else { "batches" };
    crate::say!(
        "Dry run: {} {batches} to resume, newest first (nothing written).",
        ids.len()
    );
    // (connection, table) → the newer batch of this run that would copy it.
    let mut planned: HashMap<(String, String), String> = HashMap::new();
    for id in &ids {
        let Some(batch) = journal.batch(id)? else {
            continue;
        };
        let rows = journal.progress_rows(id, false)?;
        let done = rows.iter().filter(|r| r.status.is_done()).count();
        crate::say!(
            "  {id} ({}, {done}/{} tables done)",
            batch.status,
            rows.len()
        );
        for r in rows.iter().filter(|r| !r.status.is_done()) {
            let (conn, table) = (&r.connection_name, &r.table_name);
            let what = if !how.takes(conn) {
                "not taken (--connection)".to_owned()
            } else if let Some(newer) = journal.completed_later(&batch.started_at, conn, table)? {
                format!("closed: completed by the newer batch {newer}")
            } else if let Some(newer) = planned.get(&(conn.clone(), table.clone())) {
                format!("closed if the newer batch {newer} completes it, else left as it is (a table runs once per run)")
            } else if config.connection(conn).is_none() {
                "closed: the connection is no longer in the config".to_owned()
            } else if job_for_row(config, conn, table, &r.model_name, r.step).is_some() {
                planned.insert((conn.clone(), table.clone()), id.clone());
                format!("would run ({})", r.status)
            } else if let Some(t) = config
                .tables
                .iter()
                .find(|t| t.model.eq_ignore_ascii_case(&r.model_name))
            {
                format!(
                    "would run as {} (the config's table of {} now)",
                    t.target_table(),
                    t.model
                )
            } else {
                "closed: the table is no longer in the config".to_owned()
            };
            crate::say!("    step {}  {conn:<20} {table:<24} {what}", r.step);
        }
    }
    Ok(Outcome::Success)
}
