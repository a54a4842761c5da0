//! The check of one server for `check`: the tables it should hold (from
//! the config), and the thread that connects, probes the server and looks
//! each table up, sending what it found back as report lines.

use crate::config::{Config, EngineConfig, ServerConfig};
use crate::driver::{open_endpoint, ErrorKind, ServerInfo};
use std::sync::mpsc::{self, Receiver};

/// A table to look up on one server.
#[derive(Debug, Clone)]
pub(super) struct Expect {
    /// As the config names it (`adempiere.m_product`).
    label: String,
    model: String,
    schema: Option<String>,
    table: String,
    /// Columns that must exist, with their role (`key`, `cursor`, `branch column`).
    columns: Vec<(String, &'static str)>,
    /// The target creates missing tables, so absence is only a note there.
    missing_ok: bool,
    /// Target tables with this branch column: ask for layout advice.
    branch_column: Option<String>,
}

/// How a report line counts: a `Bad` line is a problem (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Good,
    Note,
    Bad,
}

/// One line of a server's report.
#[derive(Debug, Clone)]
pub(super) struct Line {
    pub(super) level: Level,
    pub(super) text: String,
}

impl Line {
    pub(super) fn new(level: Level, text: impl Into<String>) -> Line {
        Line {
            level,
            text: text.into(),
        }
    }
}

/// What a server's thread reports, in this order: the probe (the
/// `reachable` line, or why not), then the table lines.
pub(super) enum Message {
    /// The reachable line and a warning about the link, or why it failed
    /// (labelled: `unreachable: …`, `cannot log in: …`).
    Reached(Result<(String, Option<String>), String>),
    Tables(Vec<Line>),
}

/// Tables the target should hold: their target names, key and branch column.
pub(super) fn target_expectations(config: &Config, target: &ServerConfig) -> Vec<Expect> {
    let mut out: Vec<Expect> = Vec::new();
    for t in &config.tables {
        if out.iter().any(|e| e.table == t.target_table()) {
            continue;
        }
        let mut columns = Vec::new();
        if t.branch_tagged() {
            columns.push((target.branch_column().to_owned(), "branch column"));
        }
        columns.extend(t.key.iter().map(|k| (k.clone(), "key")));
        out.push(Expect {
            label: t.target_table().to_owned(),
            model: t.model.clone(),
            schema: target.schema.clone(),
            table: t.target_table().to_owned(),
            columns,
            missing_ok: true,
            branch_column: t.branch_tagged().then(|| target.branch_column().to_owned()),
        });
    }
    out
}

/// Tables `conn` is read for: every table without `from`, and the
/// single-source tables whose `from` it is.
pub(super) fn connection_expectations(config: &Config, conn: &ServerConfig) -> Vec<Expect> {
    config
        .tables
        .iter()
        .filter(|t| t.from.as_deref().is_none_or(|f| f == conn.name))
        .map(|t| {
            let mut columns: Vec<_> = t.key.iter().map(|k| (k.clone(), "key")).collect();
            columns.extend(t.cursor.iter().map(|c| (c.clone(), "cursor")));
            let at = t.source_at(conn);
            Expect {
                label: at.to_string(),
                model: t.model.clone(),
                schema: at.schema.map(str::to_owned),
                table: at.table.to_owned(),
                columns,
                missing_ok: false,
                branch_column: None,
            }
        })
        .collect()
}

/// Check one server on its own thread; the receiver gets [`Message`]s.
pub(super) fn spawn_check(
    server: ServerConfig,
    engine: EngineConfig,
    expect: Vec<Expect>,
) -> Receiver<Message> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let endpoint = match open_endpoint(&server, &engine, 1) {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(Message::Reached(Err(not_reached(&e))));
                return;
            }
        };
        match endpoint.probe() {
            Ok(info) => {
                let _ = tx.send(Message::Reached(Ok((
                    reached(&server, &info),
                    info.warning,
                ))));
            }
            Err(e) => {
                let _ = tx.send(Message::Reached(Err(not_reached(&e))));
                return;
            }
        }
        let mut present = Vec::new();
        let lines = match endpoint.source() {
            Ok(mut source) => expect
                .iter()
                .map(|e| {
                    let found = source.describe(e.schema.as_deref(), &e.table);
                    if matches!(found, Ok(Some(_))) && e.branch_column.is_some() {
                        present.push(e.clone());
                    }
                    describe_line(&server, e, found)
                })
                .collect(),
            // A target file or database that does not exist yet is created by the first sync.
            Err(err)
                if err.kind == ErrorKind::MissingTable && expect.iter().all(|e| e.missing_ok) =>
            {
                vec![Line::new(
                    Level::Note,
                    "the database holds no tables yet; the first sync creates them",
                )]
            }
            Err(err) => vec![Line::new(
                Level::Bad,
                format!("cannot read the tables: {}", err.message),
            )],
        };
        let mut lines: Vec<Line> = lines;
        lines.extend(layout_notes(endpoint.as_ref(), &server, &present));
        let _ = tx.send(Message::Tables(lines));
    });
    rx
}

/// Why a server was not reached, labelled by what went wrong: a missing
/// secret or a refused login is not a network problem.
fn not_reached(e: &crate::driver::DriverError) -> String {
    match e.kind {
        ErrorKind::Auth => format!("cannot log in: {}", e.message),
        ErrorKind::Connection | ErrorKind::Timeout => format!("unreachable: {}", e.message),
        _ => format!("cannot connect: {}", e.message),
    }
}

/// What converting existing target tables (`expect`, all present) to
/// another layout would gain.
fn layout_notes(
    endpoint: &dyn crate::driver::Endpoint,
    server: &ServerConfig,
    expect: &[Expect],
) -> Vec<Line> {
    let with_branch: Vec<_> = expect
        .iter()
        .filter(|e| e.branch_column.is_some())
        .collect();
    let Some(mut target) = (!with_branch.is_empty())
        .then(|| endpoint.target().ok())
        .flatten()
    else {
        return Vec::new();
    };
    with_branch
        .iter()
        .filter_map(|e| {
            let column = e.branch_column.as_deref().unwrap_or_default();
            target
                .layout_note(
                    server
                        .schema
                        .as_deref()
                        .unwrap_or(endpoint.default_schema()),
                    &e.table,
                    column,
                )
                .ok()
                .flatten()
        })
        .map(|text| Line::new(Level::Note, text))
        .collect()
}

/// One report line for one table.
fn describe_line(
    server: &ServerConfig,
    e: &Expect,
    found: crate::driver::Result<Option<crate::driver::TableSchema>>,
) -> Line {
    match found {
        Ok(Some(schema)) => {
            let roles = |cols: &mut dyn Iterator<Item = &(String, &str)>| {
                cols.map(|(c, role)| format!("{role} {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let missing: Vec<_> = e
                .columns
                .iter()
                .filter(|(c, _)| schema.column(c).is_none())
                .collect();
            if missing.is_empty() {
                let n = schema.columns.len();
                let mut text = format!("{}: {n} column{}", e.label, if n == 1 { "" } else { "s" });
                if !e.columns.is_empty() {
                    text = format!("{text}, {}", roles(&mut e.columns.iter()));
                }
                Line::new(Level::Good, text)
            } else {
                Line::new(
                    Level::Bad,
                    format!(
                        "{}: missing column{} on {}: {}. Add {} to the table, or fix [[table]] {} in the config",
                        e.label,
                        if missing.len() == 1 { "" } else { "s" },
                        server.name,
                        roles(&mut missing.iter().copied()),
                        if missing.len() == 1 { "it" } else { "them" },
                        e.model
                    ),
                )
            }
        }
        Ok(None) if e.missing_ok => Line::new(
            Level::Note,
            format!("{}: not there yet; the first sync creates it", e.label),
        ),
        Ok(None) => Line::new(
            Level::Bad,
            format!(
                "{}: table missing on {}. Create it there, fix `source` of [[table]] {} (or name the table for this connection: sources.{} = \"schema.table\"), or set its `from` to the one connection that has it",
                e.label, server.name, e.model, server.name
            ),
        ),
        Err(err) => Line::new(Level::Bad, format!("{}: {}", e.label, err.message)),
    }
}

/// `✓ reachable` with the version and, for network servers, the TLS state.
fn reached(server: &ServerConfig, info: &ServerInfo) -> String {
    match &info.tls {
        Some(tls) => format!("reachable: {}, TLS {tls}", info.version),
        None if server.url.contains("://") => format!("reachable: {}, no TLS", info.version),
        None => format!("reachable: {}", info.version),
    }
}
