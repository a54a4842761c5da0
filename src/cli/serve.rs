//! `serve`: the read-only web dashboard over the journal (see `crate::serve`).
//! Like the other reading commands it needs only `[journal]` of the config;
//! `--fleet` also needs `[target]`, whose database holds the journal mirror.

use super::Global;
use crate::exit::Outcome;
use crate::serve::{Auth, Dashboard, FleetView, Server};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on. Any other than loopback needs --token-env
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "IP:PORT")]
    pub listen: String,
    /// Batches the history charts cover
    #[arg(long, default_value_t = crate::report::html::HISTORY_BATCHES, value_name = "N")]
    pub history: usize,
    /// Require this environment variable's value as a token: scripts send
    /// `Authorization: Bearer <token>`, browsers sign in once (a cookie)
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Also show every runner's latest batch from the journal mirror in the
    /// central database, at /fleet (needs [target])
    #[arg(long)]
    pub fleet: bool,
    /// Browsers reach the dashboard over HTTPS through a proxy that ends
    /// TLS: the login cookie is marked Secure (never sent over plain HTTP)
    #[arg(long, requires = "token_env")]
    pub behind_tls: bool,
    /// With --fleet: a runner whose last completed batch is older is stale
    #[arg(long, default_value = "26h", value_name = "DURATION", value_parser = parse_age, requires = "fleet")]
    pub stale: std::time::Duration,
}

fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(s)
}

impl Args {
    pub fn run(self, global: &Global) -> anyhow::Result<Outcome> {
        let config = if self.fleet {
            global.load_config()?
        } else {
            global.load_journal_config()?
        };
        crate::logging::init(global.verbose, global.quiet, None)?;
        // A journal that can never exist is refused now, not on every request.
        crate::journal::check_journal_folder(&config.journal.path)?;
        let auth = self
            .token_env
            .as_deref()
            .map(Auth::from_env)
            .transpose()?
            .map(|a| a.behind_tls(self.behind_tls));
        let fleet = if self.fleet {
            let sink = crate::mirror::open_sink(&config)?
                .ok_or_else(|| crate::mirror::FleetError::NoMirror(config.path.clone()))?;
            Some(FleetView::new(sink, self.stale))
        } else {
            None
        };
        let server = Server::bind(
            &self.listen,
            Dashboard {
                journal: config.journal.path.clone(),
                history: self.history.max(1),
                fleet,
                auth,
            },
        )?;
        let addr = server.addr();
        let mut text = format!(
            "Dashboard: http://{addr}/ (journal {}; read-only{}). Press Ctrl+C to stop.\n",
            config.journal.path.display(),
            if self.token_env.is_some() {
                "; token required"
            } else {
                ""
            }
        );
        if self.fleet {
            text += &format!("Fleet: http://{addr}/fleet\n");
        }
        // One write, and a closed stdout (a reader that took the first line
        // and went away) is no reason to stop serving.
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            log::debug!("serve: cannot print the address: {e}");
        }
        drop(out);
        server.run();
        Ok(Outcome::Success)
    }
}
