//! Cancellation: SIGINT/SIGTERM stop the run. The first signal stops taking new
//! tables and cancels every in-flight query (their target transactions roll
//! back); a second one exits at once (the journal's liveness check will show
//! the batch `interrupted` on the next read).

use crate::driver::CancelHandle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Shared by the workers of one run.
#[derive(Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    next_id: AtomicU64,
    handles: Mutex<HashMap<u64, CancelHandle>>,
}

/// Unregisters a cancel handle when dropped.
pub struct Registration<'a> {
    cancel: &'a Cancel,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut h) = self.cancel.handles.lock() {
            h.remove(&self.id);
        }
    }
}

impl Cancel {
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Cancel the run: flag it and cancel every registered session.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        let handles: Vec<CancelHandle> = match self.handles.lock() {
            Ok(h) => h.values().cloned().collect(),
            Err(_) => return,
        };
        for h in handles {
            h();
        }
    }

    /// Register a session's cancel handle for the duration of a copy. When the
    /// run is already cancelled the handle fires at once.
    pub fn register(&self, handle: CancelHandle) -> Registration<'_> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut h) = self.handles.lock() {
            h.insert(id, handle.clone());
        }
        if self.is_cancelled() {
            handle();
        }
        Registration { cancel: self, id }
    }

    /// Sleep up to `d`, waking early when cancelled. Returns false if cancelled.
    pub fn sleep(&self, d: std::time::Duration) -> bool {
        let end = std::time::Instant::now() + d;
        while std::time::Instant::now() < end {
            if self.is_cancelled() {
                return false;
            }
            std::thread::sleep(
                std::time::Duration::from_millis(50).min(end - std::time::Instant::now()),
            );
        }
        !self.is_cancelled()
    }
}

static CURRENT: OnceLock<Mutex<Option<Arc<Cancel>>>> = OnceLock::new();
static SIGNALS: AtomicU64 = AtomicU64::new(0);
/// Run when the copies do not stop within [`GRACE`] of a signal (a copy
/// blocked on a link that went silent cannot be cancelled): records the
/// batch `interrupted`; then the process exits 130.
static ON_STUCK: Mutex<Option<Box<dyn Fn() + Send>>> = Mutex::new(None);
/// How long in-flight copies get to roll back after a stop before the
/// process exits anyway.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Set (or clear, with None: the run ended) what to do when the run does not
/// stop in time.
pub fn set_on_stuck(hook: Option<Box<dyn Fn() + Send>>) {
    if let Ok(mut h) = ON_STUCK.lock() {
        *h = hook;
    }
}

/// After [`GRACE`], if the run has not ended: run `first` (when given), then
/// the registered hook, and exit with `code`.
pub fn start_grace_timer(code: i32, first: Option<Box<dyn FnOnce() + Send>>) {
    std::thread::spawn(move || {
        std::thread::sleep(GRACE);
        let hook = ON_STUCK.lock().ok().and_then(|mut h| h.take());
        if let Some(hook) = hook {
            eprintln!(
                "Copies did not stop within {}s of the stop: exiting; the journal records where the batch stands.",
                GRACE.as_secs()
            );
            if let Some(first) = first {
                first();
            }
            hook();
            std::process::exit(code);
        }
    });
}

/// Route SIGINT/SIGTERM to `cancel` (installs the handler once per process).
pub fn install_signal_handler(cancel: Arc<Cancel>) {
    let slot = CURRENT.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            let n = SIGNALS.fetch_add(1, Ordering::SeqCst);
            if n >= 1 {
                eprintln!(
                    "\nSecond interrupt: exiting now. The batch will show as interrupted; resume it with `{}`",
                    crate::hint::cmd("sync-resume-interrupted")
                );
                std::process::exit(130);
            }
            crate::logging::freeze_bars();
            eprintln!("\nInterrupted: stopping, rolling back in-flight tables ({})…", second_signal_hint());
            start_grace_timer(130, None);
            if let Some(slot) = CURRENT.get() {
                if let Ok(c) = slot.lock() {
                    if let Some(c) = c.as_ref() {
                        c.cancel();
                    }
                }
            }
        });
        Mutex::new(None)
    });
    if let Ok(mut s) = slot.lock() {
        *s = Some(cancel);
    }
}

/// How to stop at once: a person at a terminal presses Ctrl+C again; a run
/// under cron or systemd (no terminal) was sent a signal, and another one
/// does the same.
fn second_signal_hint() -> &'static str {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        "Ctrl+C again to exit at once"
    } else {
        "a second SIGINT or SIGTERM exits at once"
    }
}
