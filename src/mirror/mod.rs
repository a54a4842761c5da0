//! The journal mirrored into the central database, so that one
//! query answers "did every branch office sync last night?".
//!
//! The local journal stays the source of truth. Its triggers queue every
//! change in an outbox (see `journal/mirror.rs`); this module sends the
//! queued rows to the target's [`JournalMirror`] when the target offers one
//! (PostgreSQL). A sync sends them from a background [`Pump`], never from a
//! copy worker: the mirror's own connection has short timeouts, a failure is
//! a warning and never the run's outcome, and what could not be sent stays in
//! the outbox for the next command that reaches the central.

mod pump;

pub use pump::Pump;

use crate::config::Config;
use crate::driver::{open_endpoint, DriverError, JournalMirror};
use crate::journal::{hostname, FleetRunner, Journal, JournalError, MirrorChanges};
use std::sync::{Arc, Mutex, Weak};

/// Changes sent per central transaction.
const CHUNK: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("journal mirror: {0}")]
    Driver(#[from] DriverError),
    #[error("journal mirror: {0}")]
    Journal(#[from] JournalError),
}

/// This machine's name in the fleet: `[journal] runner`, or the host name.
pub fn runner(config: &Config) -> String {
    config
        .journal
        .runner
        .clone()
        .filter(|r| !r.trim().is_empty())
        .unwrap_or_else(hostname)
}

/// The target's journal mirror, when mirroring is on (`[journal] mirror`)
/// and the target's driver offers one. Nothing connects yet.
pub fn open_sink(config: &Config) -> Result<Option<Box<dyn JournalMirror>>, MirrorError> {
    let Some(target) = config.target.as_ref().filter(|_| config.journal.mirror) else {
        return Ok(None);
    };
    let endpoint = open_endpoint(target, &config.engine, 1)?;
    Ok(endpoint.journal_mirror(config.journal.mirror_schema())?)
}

/// Send everything the outbox holds, chunk by chunk; returns how many
/// changes went out. The journal is held (and locked) only while it is read
/// or the sent changes are dropped from the outbox: the sender never keeps
/// alive a journal that its owner has closed (closing it checkpoints the
/// WAL), and stops when it is gone.
pub fn send_pending(
    sink: &mut dyn JournalMirror,
    runner: &str,
    journal: &Weak<Mutex<Journal>>,
) -> Result<usize, MirrorError> {
    let mut sent = 0;
    loop {
        let mut upto = None;
        let mut journal_error = None;
        let written = sink.write(runner, &mut || {
            let Some(journal) = journal.upgrade() else {
                return Ok(MirrorChanges::default());
            };
            let pending = journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .mirror_pending(CHUNK);
            match pending {
                Ok(changes) => {
                    upto = Some(changes.upto);
                    Ok(changes)
                }
                Err(e) => {
                    let msg = e.to_string();
                    journal_error = Some(e);
                    Err(DriverError::other(msg))
                }
            }
        });
        if let Some(e) = journal_error {
            return Err(e.into());
        }
        let n = written?;
        if n == 0 {
            return Ok(sent);
        }
        if let (Some(upto), Some(journal)) = (upto, journal.upgrade()) {
            journal
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .mirror_sent(upto)?;
        }
        sent += n;
        if n < CHUNK {
            return Ok(sent);
        }
    }
}

/// For a command that reaches the central (`sync-status --fleet`, `serve
/// --fleet`): send what the outbox holds. A failure is logged, not returned:
/// the outbox keeps the changes for the next try.
pub fn catch_up(config: &Config, sink: &mut dyn JournalMirror, journal: Journal) -> Journal {
    let journal = Arc::new(Mutex::new(journal));
    match send_pending(sink, &runner(config), &Arc::downgrade(&journal)) {
        Ok(0) => {}
        Ok(n) => log::info!("journal mirror: caught up, {n} changes sent"),
        Err(e) => log::warn!(
            "{e}; the changes wait in the journal's outbox and are sent by the next command that reaches the central"
        ),
    }
    let journal = Arc::try_unwrap(journal).unwrap_or_else(|_| unreachable!("the only owner"));
    journal.into_inner().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the fleet view reads the journal mirror in the central database, and the target of {0} has none: it needs a PostgreSQL [target] and [journal] mirror = true (the default)")]
    NoMirror(std::path::PathBuf),
    #[error(transparent)]
    Mirror(#[from] MirrorError),
}

/// The fleet as the central's mirror holds it, after this journal's pending
/// changes were sent (so this runner's own state is current).
pub fn fleet(config: &Config, journal: Journal) -> Result<Vec<FleetRunner>, FleetError> {
    let mut sink = open_sink(config)?.ok_or_else(|| FleetError::NoMirror(config.path.clone()))?;
    drop(catch_up(config, sink.as_mut(), journal));
    Ok(sink.fleet().map_err(MirrorError::from)?)
}
