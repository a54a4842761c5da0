//! `check`: validate the config, then connect to the target and every
//! connection and say, per server, whether it answers, which version it runs,
//! and whether every configured table is there with its key columns. Exit 1
//! on any problem, so it can gate a deployment or a cron job.
//!
//! Servers are checked at the same time, each on its own thread, and the
//! report waits for an answer no longer than `[engine] connect_timeout` (plus
//! a second of grace): a server that has not answered by then is reported
//! unreachable, whatever its driver does.

use super::Global;
use crate::config::{redact_url, Config, EngineConfig, ServerConfig};
use crate::driver::{open_endpoint, ErrorKind, ServerInfo};
use crate::exit::Outcome;
use crate::report::{Paint, Tint};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these connections (comma-separated names); the target is always checked
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub connection: Vec<String>,
}

/// Extra wait past `connect_timeout` before a silent server counts as unreachable.
const GRACE: Duration = Duration::from_secs(1);

/// A table to look up on one server.
#[derive(Debug, Clone)]
struct Expect {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Good,
    Note,
    Bad,
}

#[derive(Debug, Clone)]
struct Line {
    level: Level,
    text: String,
}

impl Line {
    fn new(level: Level, text: impl Into<String>) -> Line {
        Line {
            level,
            text: text.into(),
        }
    }
}

/// What a server's thread reports, in this order: the probe (the
/// `reachable` line, or why not), then the table lines.
enum Message {
    /// The reachable line and a warning about the link, or why it failed.
    Reached(Result<(String, Option<String>), String>),
    Tables(Vec<Line>),
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_config()?;
        crate::logging::init(global.verbose, global.quiet, None)?;
        let target = config.require_target()?.clone();
        for name in &self.connection {
            if config.connection(name).is_none() {
                anyhow::bail!(
                    "--connection {name}: no [[connection]] named {name:?} in {}. Known: {}",
                    config.path.display(),
                    config
                        .connections
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let mut servers = vec![(target.clone(), target_expectations(&config, &target))];
        for c in &config.connections {
            if self.connection.is_empty() || self.connection.contains(&c.name) {
                servers.push((c.clone(), connection_expectations(&config, c)));
            }
        }

        let paint = Paint::for_stdout();
        let scrub = Scrubber::new(servers.iter().map(|(s, _)| s));
        let timeout = config.engine.connect_timeout.0;
        crate::say!(
            "Config {}: valid ({}, {})",
            config.path.display(),
            crate::report::format::count_of(config.connections.len() as i64, "connection"),
            crate::report::format::count_of(config.tables.len() as i64, "table")
        );
        let started = Instant::now();
        let receivers: Vec<Receiver<Message>> = servers
            .iter()
            .map(|(server, expect)| {
                spawn_check(server.clone(), config.engine.clone(), expect.clone())
            })
            .collect();

        let mut problems = Vec::new();
        // The target is first in `servers`.
        for (i, ((server, _), rx)) in servers.iter().zip(receivers).enumerate() {
            let title = if i == 0 {
                "target".to_owned()
            } else {
                format!("connection {}", server.name)
            };
            let url = scrub.apply(&redact_url(&server.url));
            crate::say!("\n{title} ({}) {url}", server.driver);
            let lines = await_report(&rx, started + timeout + GRACE, &config.engine);
            for line in lines {
                let text = scrub.apply(&line.text);
                let (mark, tint) = match line.level {
                    Level::Good => ("✓", Tint::Green),
                    Level::Note => ("·", Tint::Gray),
                    Level::Bad => ("✗", Tint::Red),
                };
                crate::say!("  {} {text}", paint.text(mark, tint));
                if line.level == Level::Bad {
                    problems.push(format!("{}: {text}", server.name));
                }
            }
        }

        crate::say!();
        if problems.is_empty() {
            crate::say!(
                "{} all {} servers reachable, every table found",
                paint.text("✓", Tint::Green),
                servers.len()
            );
            Ok(Outcome::Success)
        } else {
            crate::say!(
                "{} {} problem{} found:",
                paint.text("✗", Tint::Red),
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            for p in &problems {
                crate::say!("  - {p}");
            }
            Ok(Outcome::Failed)
        }
    }
}

/// The lines of one server's report: the probe must arrive by `deadline`,
/// the table lookups within `statement_timeout` after it.
fn await_report(rx: &Receiver<Message>, deadline: Instant, engine: &EngineConfig) -> Vec<Line> {
    let mut lines = Vec::new();
    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(Message::Reached(Ok((info, warning)))) => {
            lines.push(Line::new(Level::Good, info));
            if let Some(w) = warning {
                lines.push(Line::new(Level::Note, format!("warning: {w}")));
            }
            match rx.recv_timeout(engine.statement_timeout.0 + GRACE) {
                Ok(Message::Tables(found)) => lines.extend(found),
                _ => lines.push(Line::new(
                    Level::Bad,
                    format!(
                        "no answer about the tables within statement_timeout {}",
                        fmt_secs(engine.statement_timeout.0)
                    ),
                )),
            }
        }
        Ok(Message::Reached(Err(msg))) => {
            lines.push(Line::new(Level::Bad, format!("unreachable: {msg}")));
        }
        Ok(Message::Tables(_)) | Err(RecvTimeoutError::Disconnected) => {
            lines.push(Line::new(
                Level::Bad,
                "unreachable: the check stopped without an answer",
            ));
        }
        Err(RecvTimeoutError::Timeout) => lines.push(Line::new(
            Level::Bad,
            format!(
                "unreachable: no answer within connect_timeout {}. Check the host, port and firewall, or raise [engine] connect_timeout",
                fmt_secs(engine.connect_timeout.0)
            ),
        )),
    }
    lines
}

/// Tables the target should hold: their target names, key and branch column.
fn target_expectations(config: &Config, target: &ServerConfig) -> Vec<Expect> {
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
fn connection_expectations(config: &Config, conn: &ServerConfig) -> Vec<Expect> {
    config
        .tables
        .iter()
        .filter(|t| t.from.as_deref().is_none_or(|f| f == conn.name))
        .map(|t| {
            let mut columns: Vec<_> = t.key.iter().map(|k| (k.clone(), "key")).collect();
            columns.extend(t.cursor.iter().map(|c| (c.clone(), "cursor")));
            Expect {
                label: t.source.clone(),
                model: t.model.clone(),
                schema: t.source_schema().map(str::to_owned),
                table: t.source_table().to_owned(),
                columns,
                missing_ok: false,
                branch_column: None,
            }
        })
        .collect()
}

/// Check one server on its own thread; the receiver gets [`Message`]s.
fn spawn_check(
    server: ServerConfig,
    engine: EngineConfig,
    expect: Vec<Expect>,
) -> Receiver<Message> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let endpoint = match open_endpoint(&server, &engine, 1) {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(Message::Reached(Err(e.message)));
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
                let _ = tx.send(Message::Reached(Err(e.message)));
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
                "{}: table missing on {}. Create it there, fix `source` of [[table]] {}, or set its `from` to the one connection that has it",
                e.label, server.name, e.model
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

fn fmt_secs(d: Duration) -> String {
    crate::config::format_duration(d)
}

/// Replaces the passwords the config points at (wherever each driver finds
/// them: environment, URL, its password file) with `***` in anything
/// printed, whatever a driver's message carries.
struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    fn new<'a>(servers: impl Iterator<Item = &'a ServerConfig>) -> Scrubber {
        Scrubber {
            secrets: servers
                .filter_map(|s| {
                    let driver = crate::driver::registry::find(&s.driver)?;
                    (driver.password)(s).ok().flatten()
                })
                .filter(|s| s.len() >= 4)
                .collect(),
        }
    }

    fn apply(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| t.replace(s.as_str(), "***"))
    }
}
