//! Which (connection, table) pairs a batch holds, in which step, from the
//! config and the command's selection. Unknown names are errors before
//! anything runs.

use crate::config::{Config, TableConfig};
use crate::journal::NewProgress;
use serde::{Deserialize, Serialize};

/// The options of a sync command, stored with the batch (`command_options`)
/// so that a resume runs the same selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncOptions {
    /// Only these connections (empty: all).
    pub connections: Vec<String>,
    /// Only these models or tables (empty: all).
    pub tables: Vec<String>,
    pub skip_step1: bool,
    /// Parallel table copies (None: `engine.threads`).
    pub threads: Option<usize>,
    pub dry_run: bool,
    /// The command that made the batch (`sync-all`, `sync-table`).
    pub command: String,
}

/// One unit of work: a table from a connection.
#[derive(Debug, Clone)]
pub struct Job {
    pub step: i64,
    pub connection: String,
    /// Index into `config.tables`.
    pub table_index: usize,
    pub model: String,
    /// The journal's `table_name`: the target table.
    pub table_name: String,
}

impl Job {
    pub fn table<'c>(&self, config: &'c Config) -> &'c TableConfig {
        &config.tables[self.table_index]
    }

    pub fn new_progress(&self) -> NewProgress {
        NewProgress {
            connection_name: self.connection.clone(),
            table_name: self.table_name.clone(),
            model_name: self.model.clone(),
            step: self.step,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("unknown connection {name:?} in --connection; configured connections: {known}")]
    UnknownConnection { name: String, known: String },
    #[error("unknown model or table {name:?}; configured: {known}")]
    UnknownTable { name: String, known: String },
    #[error("nothing to sync: the selection matches no (connection, table) pair. Check --connection/--tables and the [[table]] from keys")]
    Empty,
}

/// Build the jobs of a new batch: step 1 (single-source tables) then step 2
/// (every other table from every selected connection), connections
/// interleaved so parallel copies spread over the branches.
pub fn plan(config: &Config, opts: &SyncOptions) -> Result<Vec<Job>, PlanError> {
    check_connections(config, &opts.connections)?;
    let mut selected_tables = Vec::new();
    for name in &opts.tables {
        match config.tables.iter().position(|t| {
            t.model.eq_ignore_ascii_case(name)
                || t.target_table() == name
                || t.source_table() == name
                || t.source == *name
        }) {
            Some(i) => selected_tables.push(i),
            None => {
                return Err(PlanError::UnknownTable {
                    name: name.clone(),
                    known: config
                        .tables
                        .iter()
                        .map(|t| format!("{} ({})", t.model, t.target_table()))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        }
    }
    let conn_selected =
        |c: &str| opts.connections.is_empty() || opts.connections.iter().any(|s| s == c);
    let table_selected = |i: usize| selected_tables.is_empty() || selected_tables.contains(&i);

    let mut jobs = Vec::new();
    if !opts.skip_step1 {
        for (i, t) in config.tables.iter().enumerate() {
            if let Some(from) = &t.from {
                if table_selected(i) && conn_selected(from) {
                    jobs.push(Job {
                        step: 1,
                        connection: from.clone(),
                        table_index: i,
                        model: t.model.clone(),
                        table_name: t.target_table().to_owned(),
                    });
                }
            }
        }
    }
    // Step 2, interleaved: table-major for each connection round.
    for (i, t) in config.tables.iter().enumerate() {
        if t.from.is_some() || !table_selected(i) {
            continue;
        }
        for c in &config.connections {
            if conn_selected(&c.name) {
                jobs.push(Job {
                    step: 2,
                    connection: c.name.clone(),
                    table_index: i,
                    model: t.model.clone(),
                    table_name: t.target_table().to_owned(),
                });
            }
        }
    }
    if jobs.is_empty() {
        return Err(PlanError::Empty);
    }
    Ok(jobs)
}

/// Every name given to `--connection` is a configured connection.
pub fn check_connections(config: &Config, names: &[String]) -> Result<(), PlanError> {
    for name in names {
        if config.connection(name).is_none() {
            return Err(PlanError::UnknownConnection {
                name: name.clone(),
                known: config
                    .connections
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

/// The job for an existing progress row of a resumed batch; `None` when the
/// config no longer has that table or connection.
pub fn job_for_row(
    config: &Config,
    connection: &str,
    table_name: &str,
    model: &str,
    step: i64,
) -> Option<Job> {
    config.connection(connection)?;
    let table_index = config
        .tables
        .iter()
        .position(|t| t.target_table() == table_name && t.model == model)
        .or_else(|| {
            config
                .tables
                .iter()
                .position(|t| t.target_table() == table_name)
        })?;
    Some(Job {
        step,
        connection: connection.to_owned(),
        table_index,
        model: model.to_owned(),
        table_name: table_name.to_owned(),
    })
}
