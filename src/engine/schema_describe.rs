//! What the schema plan knows of each branch's table: its description
//! now, or, for a branch that cannot be reached, the one the journal
//! recorded when it last answered (`table_descriptions`, kept as JSON).

use super::plan::Job;
use crate::config::Config;
use crate::driver::{Column, ColumnKind, DriverError, Endpoint, NativeType};
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
    let mut others: HashMap<String, Box<dyn Endpoint>> = HashMap::new();
    let mut open: HashMap<String, Option<Box<dyn crate::driver::Source>>> = HashMap::new();
    let mut out = BTreeMap::new();
    for (index, mut conns) in by_table {
        conns.sort();
        conns.dedup();
        let tcfg = &config.tables[index];
        let mut described = Vec::new();
        let mut notes = Vec::new();
        for conn in conns {
            if !sources.contains_key(&conn) && !others.contains_key(&conn) {
                let ep = config
                    .connection(&conn)
                    .and_then(|c| crate::driver::open_endpoint(c, &config.engine, 1).ok());
                if let Some(ep) = ep {
                    others.insert(conn.clone(), ep);
                }
            }
            let endpoint = sources.get(&conn).or_else(|| others.get(&conn));
            let source = open
                .entry(conn.clone())
                .or_insert_with(|| endpoint.and_then(|e| e.source().ok()));
            let live = match source {
                Some(s) => s.describe(tcfg.source_schema(), tcfg.source_table()),
                None => Err(DriverError::other("unreachable")),
            };
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
