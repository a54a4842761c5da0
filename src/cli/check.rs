//! `check`: validate the config, then connect to the target and every
//! connection and say, per server, whether it answers, which version it runs,
//! and whether every configured table is there with its key columns. Exit 1
//! on any problem, so it can gate a deployment or a cron job.
//!
//! Servers are checked at the same time, each on its own thread, and the
//! report waits for an answer no longer than `[engine] connect_timeout` (plus
//! a second of grace): a server that has not answered by then is reported
//! unreachable, whatever its driver does.

use super::check_server::{
    connection_expectations, spawn_check, target_expectations, Level, Line, Message,
};
use super::Global;
use crate::config::{redact_url, EngineConfig, ServerConfig};
use crate::exit::Outcome;
use crate::report::{Paint, Tint};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only these connections (comma-separated names); the target is always checked
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub connection: Vec<String>,
}

/// Extra wait past `connect_timeout` before a silent server counts as unreachable.
const GRACE: Duration = Duration::from_secs(1);

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

        // The central tables as the next batch would plan them.
        let opts = crate::engine::SyncOptions {
            connections: self.connection.clone(),
            ..Default::default()
        };
        let jobs = crate::engine::plan::plan(&config, &opts).unwrap_or_default();
        match super::plan_print::compute(&config, &jobs) {
            Ok(Some(plans)) if !plans.is_empty() => {
                crate::say!("\nschema plan of the central tables");
                for line in super::plan_print::render(&plans) {
                    crate::say!("  {}", scrub.apply(&line));
                }
                for p in &plans {
                    if let Some(why) = &p.refusal {
                        problems.push(format!("target: table {} refused: {why}", p.table));
                    }
                    for why in &p.left_out {
                        problems.push(format!("target: table {}: {why}", p.table));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => log::debug!("schema plan: {e}"),
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
        Ok(Message::Reached(Err(why))) => lines.push(Line::new(Level::Bad, why)),
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
