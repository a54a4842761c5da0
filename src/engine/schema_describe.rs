//! What the schema plan knows of each branch's table: its description
//! now, or, for a branch that cannot be reached, the one the journal
//! recorded when it last answered (`table_descriptions`, kept as JSON).

use super::plan::Job;
use crate::config::Config;
use crate::driver::{
    open_endpoint, Column, ColumnKind, DriverError, Endpoint, NativeType, TableSchema,
};
use crate::journal::Journal;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// A description as the journal keeps it.
fn to_json(s: &crate::driver::TableSchema) -> String {
    let columns: Vec<serde_json::Value> = s
        .columns
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "kind": format!("{:?}", c.kind),
                "dialect": c.native.dialect,
                "type": c.native.name,
                "base": c.native.base,
                "nullable": c.nullable,
            })
        })
        .collect();
    serde_json::json!({ "columns": columns, "primary_key": s.primary_key }).to_string()
}

fn from_json(text: &str) -> Option<Vec<Column>> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let kind = |k: &str| {
        Some(match k {
            "Bool" => ColumnKind::Bool,
            "Int" => ColumnKind::Int,
            "Float" => ColumnKind::Float,
            "Numeric" => ColumnKind::Numeric,
            "Text" => ColumnKind::Text,
            "Bytes" => ColumnKind::Bytes,
            "Date" => ColumnKind::Date,
            "Timestamp" => ColumnKind::Timestamp,
            "TimestampTz" => ColumnKind::TimestampTz,
            "Json" => ColumnKind::Json,
            _ => return None,
        })
    };
    v["columns"]
        .as_array()?
        .iter()
        .map(|c| {
            let dialect = match c["dialect"].as_str()? {
                "postgres" => "postgres",
                "mysql" => "mysql",
                "sqlite" => "sqlite",
                _ => "",
            };
            Some(Column {
                name: c["name"].as_str()?.to_owned(),
                kind: kind(c["kind"].as_str()?)?,
                native: NativeType {
                    dialect,
                    name: c["type"].as_str()?.to_owned(),
                    base: c["base"].as_str().map(str::to_owned),
                },
                nullable: c["nullable"].as_bool().unwrap_or(true),
            })
        })
        .collect()
}

/// Each branch's columns of one table (connections by name), and notes on
/// branches described from the journal or not at all.
pub type Described = (Vec<(String, Vec<Column>)>, Vec<String>);

/// Describe every table of `jobs` at each of its connections, in the order
/// of their names (never the config's or the answers'). `journal`, when
/// given, stands in for a branch that cannot be reached, and records each
/// description when `record`.
pub fn describe_all(
    config: &Config,
    sources: &HashMap<String, Box<dyn Endpoint>>,
    jobs: &[Job],
    journal: Option<&Mutex<Journal>>,
    record: bool,
) -> BTreeMap<usize, Described> {
    // Every connection the table applies to, not only tonight's: the
    // central's shape is the fleet's, whichever branches a batch selects.
    let fleet = super::plan::plan(config, &super::SyncOptions::default()).unwrap_or_default();
    let mut by_table: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for j in jobs {
        by_table
            .entry(j.table_index)
            .or_default()
            .push(j.connection.clone());
    }
    for j in &fleet {
        if let Some(conns) = by_table.get_mut(&j.table_index) {
            conns.push(j.connection.clone());
        }
    }
    for conns in by_table.values_mut() {
        conns.sort();
        conns.dedup();
    }
    let answers = describe_each(config, sources, &by_table);
    let mut out = BTreeMap::new();
    for (index, conns) in by_table {
        let tcfg = &config.tables[index];
        let mut described = Vec::new();
        let mut notes = Vec::new();
        for conn in conns {
            let live = answers
                .get(&(conn.clone(), index))
                .cloned()
                .unwrap_or_else(|| Err("not described".into()));
            let lock = || journal.map(|j| j.lock().unwrap_or_else(|e| e.into_inner()));
            match live {
                Ok(Some(schema)) => {
                    if let Some(mut j) = lock().filter(|_| record) {
                        let r = j.record_description(&conn, tcfg.target_table(), &to_json(&schema));
                        if let Err(e) = r {
                            log::debug!("journal: {e}");
                        }
                    }
                    described.push((conn, schema.columns));
                }
                // Missing at the branch: its copy says so.
                Ok(None) => {}
                Err(e) => {
                    let last = lock()
                        .and_then(|j| j.last_description(&conn, tcfg.target_table()).ok())
                        .flatten();
                    match last.and_then(|(d, at)| from_json(&d).map(|c| (c, at))) {
                        Some((columns, at)) => {
                            notes.push(format!(
                                "{conn} not reached ({e}): planned with its description of {at}"
                            ));
                            described.push((conn, columns));
                        }
                        None => notes.push(format!(
                            "{conn} not reached ({e}) and never described: planned without it"
                        )),
                    }
                }
            }
        }
        out.insert(index, (described, notes));
    }
    out
}

/// What one connection answered for one table.
type Answer = Result<Option<TableSchema>, String>;

/// Describe the tables at each connection, connections at the same time
/// (one session each), so that a slow or unreachable branch costs its
/// timeout once, not once per branch.
fn describe_each(
    config: &Config,
    sources: &HashMap<String, Box<dyn Endpoint>>,
    by_table: &BTreeMap<usize, Vec<String>>,
) -> HashMap<(String, usize), Answer> {
    let mut by_conn: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, conns) in by_table {
        for c in conns {
            by_conn.entry(c.as_str()).or_default().push(*index);
        }
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = by_conn
            .into_iter()
            .map(|(conn, tables)| {
                scope.spawn(move || {
                    let answer = |i: usize, a: Answer| ((conn.to_owned(), i), a);
                    let opened;
                    let endpoint = match sources.get(conn) {
                        Some(e) => Ok(e),
                        None => {
                            opened = config
                                .connection(conn)
                                .ok_or_else(|| DriverError::other("not configured"))
                                .and_then(|c| open_endpoint(c, &config.engine, 1));
                            opened
                                .as_ref()
                                .map_err(|e| DriverError::other(e.to_string()))
                        }
                    };
                    let source = endpoint.and_then(|e| e.source());
                    let mut source = match source {
                        Ok(s) => s,
                        Err(e) => {
                            return tables
                                .iter()
                                .map(|i| answer(*i, Err(e.to_string())))
                                .collect::<Vec<_>>()
                        }
                    };
                    tables
                        .iter()
                        .map(|i| {
                            let t = &config.tables[*i];
                            let at = config.source_of(t, conn);
                            let d = source.describe(at.schema, at.table);
                            answer(*i, d.map_err(|e| e.to_string()))
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
