//! The background sender of a sync: wakes every [`INTERVAL`] (or when asked),
//! sends what the outbox holds, and backs off while the central is away. The
//! copy workers never wait for it; the session asks it for a last pass when a
//! batch ends and waits for that pass at most a few seconds.

use super::{open_sink, runner, send_pending};
use crate::config::Config;
use crate::journal::Journal;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How often the pump looks at the outbox while the central answers.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// The longest pause between attempts while the central does not answer.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Passes asked for by [`Pump::flush`].
    requested: AtomicU64,
    /// (the last request a finished pass covered, did it succeed).
    finished: Mutex<(u64, bool)>,
    cond: Condvar,
}

/// A running background sender; stops when dropped.
pub struct Pump {
    shared: Arc<Shared>,
    thread: std::thread::Thread,
}

impl Pump {
    /// Start sending `journal`'s outbox to the target's mirror; `None` when
    /// there is no mirror to send to.
    pub fn start(config: &Config, journal: &Arc<Mutex<Journal>>) -> Option<Pump> {
        let journal = Arc::downgrade(journal);
        let mut sink = match open_sink(config) {
            Ok(Some(sink)) => sink,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("{e}; the journal is not mirrored in this run");
                return None;
            }
        };
        let runner = runner(config);
        let shared = Arc::new(Shared::default());
        let mine = shared.clone();
        let handle = std::thread::Builder::new()
            .name("branchsync-mirror".into())
            .spawn(move || {
                let mut failures = 0u32;
                loop {
                    let stopping = mine.stop.load(Ordering::SeqCst);
                    let asked = mine.requested.load(Ordering::SeqCst);
                    let ok = match send_pending(sink.as_mut(), &runner, &journal) {
                        Ok(_) => {
                            if failures > 0 {
                                log::info!("journal mirror: the central answers again; caught up");
                            }
                            failures = 0;
                            true
                        }
                        Err(e) => {
                            if failures == 0 {
                                log::warn!(
                                    "{e}; the changes wait in the journal's outbox and are sent when the central answers again"
                                );
                            }
                            failures += 1;
                            false
                        }
                    };
                    *mine.finished.lock().unwrap_or_else(|e| e.into_inner()) = (asked, ok);
                    mine.cond.notify_all();
                    if stopping || journal.strong_count() == 0 {
                        return;
                    }
                    let pause = if failures == 0 {
                        INTERVAL
                    } else {
                        (INTERVAL * 2u32.saturating_pow(failures.min(8))).min(MAX_BACKOFF)
                    };
                    std::thread::park_timeout(pause);
                }
            })
            .ok()?;
        Some(Pump {
            shared,
            thread: handle.thread().clone(),
        })
    }

    /// Ask for a pass now and wait for it, at most `wait`. True when it sent
    /// everything; false when the central did not answer in time (the
    /// changes stay in the outbox).
    pub fn flush(&self, wait: Duration) -> bool {
        let want = self.shared.requested.fetch_add(1, Ordering::SeqCst) + 1;
        self.thread.unpark();
        let deadline = Instant::now() + wait;
        let mut finished = self
            .shared
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while finished.0 < want {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            finished = match self.shared.cond.wait_timeout(finished, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        finished.1
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.thread.unpark();
    }
}
