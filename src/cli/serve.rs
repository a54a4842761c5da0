//! `serve`: the read-only web dashboard over the journal (see `crate::serve`).
//! Like the other reading commands it needs only `[journal]` of the config.

use super::Global;
use crate::exit::Outcome;
use crate::serve::{Dashboard, Server};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on. Another address than loopback shows the
    /// journal's history to that network: put a proxy with authentication in front
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub listen: String,
    /// Batches the history charts cover
    #[arg(long, default_value_t = crate::report::html::HISTORY_BATCHES, value_name = "N")]
    pub history: usize,
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = global.load_journal_config()?;
        crate::logging::init(global.verbose, global.quiet, None)?;
        let server = Server::bind(
            &self.listen,
            Dashboard {
                journal: config.journal.path.clone(),
                history: self.history.max(1),
            },
        )?;
        let addr = server.addr();
        if !addr.ip().is_loopback() {
            log::warn!(
                "serve: listening on {addr}, not loopback: anyone who reaches this address can read the journal's history"
            );
        }
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Dashboard: http://{addr}/ (journal {}; read-only). Press Ctrl+C to stop.",
            config.journal.path.display()
        )?;
        out.flush()?;
        drop(out);
        server.run();
        Ok(Outcome::Success)
    }
}
