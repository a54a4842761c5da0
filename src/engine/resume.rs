//! What a resume does with each unfinished row of a batch, decided against the
//! journal and the *current* config:
//!
//! - A row whose (connection, table) a newer batch has since completed is
//!   closed `skipped` ("completed by the newer batch …"): the target already
//!   holds a copy newer than this batch would make, so it is not copied again.
//!   That is what lets cron finish stale interrupted batches without recopying
//!   millions of rows.
//! - A row whose model the config now maps to another table (a fixed `source`
//!   typo) is renamed to the current table and runs.
//! - A row whose connection or model left the config is closed `skipped` with
//!   the reason, so the batch can end instead of failing at every cron run.
//!
//! The rest run as recorded.

use super::plan::{job_for_row, Job};
use crate::config::Config;
use crate::journal::{BatchRow, Journal, JournalError, ProgressRow};

/// The job for `row` of `batch`, or `None` when it was closed instead.
pub(super) fn job_for_unfinished(
    config: &Config,
    journal: &mut Journal,
    batch: &BatchRow,
    row: &ProgressRow,
) -> Result<Option<Job>, JournalError> {
    let (id, conn, table) = (&batch.batch_id, &row.connection_name, &row.table_name);
    if let Some(newer) = journal.completed_later(&batch.started_at, conn, table)? {
        let why = format!("completed by the newer batch {newer}; not copied again");
        skip_line(row, &why);
        journal.skip_progress(id, conn, table, &why)?;
        return Ok(None);
    }
    if config.connection(conn).is_none() {
        let why = format!(
            "connection {conn} is no longer in the config {}; closed without syncing",
            config.path.display()
        );
        log::warn!("{}: {why}", row.model_name);
        journal.skip_progress(id, conn, table, &why)?;
        return Ok(None);
    }
    if let Some(job) = job_for_row(config, conn, table, &row.model_name, row.step) {
        return Ok(Some(job));
    }
    let current = config
        .tables
        .iter()
        .position(|t| t.model.eq_ignore_ascii_case(&row.model_name));
    if let Some(index) = current {
        let t = &config.tables[index];
        let new_table = t.target_table();
        if journal.retarget_progress(id, conn, table, new_table, &t.model)? {
            log::info!(
                "{}: the config now names its table {new_table} (was {table}); syncing {new_table}",
                t.model
            );
            return Ok(Some(Job {
                step: row.step,
                connection: conn.clone(),
                table_index: index,
                model: t.model.clone(),
                table_name: new_table.to_owned(),
            }));
        }
        let why = format!("replaced by the row for {new_table} in this batch");
        journal.skip_progress(id, conn, table, &why)?;
        return Ok(None);
    }
    let why = format!(
        "table {table} (model {}) is no longer in the config {}; closed without syncing",
        row.model_name,
        config.path.display()
    );
    log::warn!("{}: {why}", row.model_name);
    journal.skip_progress(id, conn, table, &why)?;
    Ok(None)
}

/// `⏭ Skipping …`, the seed's line for a table a resume does not run
/// (silenced by `-q`: cron would mail one line per table).
pub(super) fn skip_line(row: &ProgressRow, why: &str) {
    crate::note!(
        "⏭ Skipping {} from {} ({why})",
        crate::report::format::table_label(&row.table_name, &row.model_name),
        row.connection_name
    );
}

/// A row this run already tried for the newer batch `newer` (its branch
/// still down, or its copy failed): left as it is, not tried twice in a run.
pub(super) fn left_line(row: &ProgressRow, newer: &str) {
    crate::note!(
        "⏭ Leaving {} from {} as it is (tried in this run for the newer batch {newer})",
        crate::report::format::table_label(&row.table_name, &row.model_name),
        row.connection_name
    );
}

/// The seed's resume lines, per connection in plan order:
/// `Processing connection: [pgsql_jkt]`, then
/// `Starting sync for table: c_order from connection: pgsql_jkt` per table.
pub(super) fn announce(jobs: &[Job]) {
    if crate::logging::is_quiet() {
        return;
    }
    let mut connections: Vec<&str> = Vec::new();
    for j in jobs {
        if !connections.contains(&j.connection.as_str()) {
            connections.push(&j.connection);
        }
    }
    for c in connections {
        crate::say!("Processing connection: [{c}]");
        for j in jobs.iter().filter(|j| j.connection == c) {
            crate::say!(
                "Starting sync for table: {} from connection: {c}",
                j.table_name
            );
        }
    }
}
