//! Logging: the `log` facade with `env_logger`-style filters (`RUST_LOG`,
//! `-v`/`-q`). Every line goes to the log file (`[log] file`, appended, mode
//! 0600, with timestamps). On stderr: every line without a terminal (cron
//! mail), but only warnings and errors while progress bars are on screen,
//! printed through the bars so that they do not tear them.

use log::{Level, LevelFilter, Log, Metadata, Record};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static BARS: OnceLock<Mutex<Option<indicatif::MultiProgress>>> = OnceLock::new();

/// Route stderr log lines through these bars (None: straight to stderr).
pub fn set_bars(bars: Option<indicatif::MultiProgress>) {
    let slot = BARS.get_or_init(|| Mutex::new(None));
    if let Ok(mut s) = slot.lock() {
        *s = bars;
    }
}

/// Prints `line` above the bars; false when no bars are on screen.
pub fn print_above_bars(line: &str) -> bool {
    match current_bars() {
        Some(mp) => {
            let _ = mp.println(line);
            true
        }
        None => false,
    }
}

/// Stops drawing the bars for good (on Ctrl+C): they stay on screen as
/// they were, and nothing is drawn over what is printed below them; later
/// lines go straight to stderr. (Erasing them is not reliable: the
/// terminal's echo of `^C` moves the cursor the bars count lines from.)
pub fn freeze_bars() {
    let Some(slot) = BARS.get() else {
        return;
    };
    let bars = slot.lock().ok().and_then(|mut b| b.take());
    if let Some(mp) = bars {
        mp.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
}

fn current_bars() -> Option<indicatif::MultiProgress> {
    BARS.get()
        .and_then(|s| s.lock().ok().and_then(|b| b.clone()))
        .filter(|mp| !mp.is_hidden())
}

struct Logger {
    filter: env_filter::Filter,
    /// `-q` quiets the terminal, never the log file.
    stderr_level: LevelFilter,
    file: Option<Mutex<std::fs::File>>,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        self.filter.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if !self.filter.matches(record) {
            return;
        }
        let line = format!(
            "[{} {:<5}] {}",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
            record.level(),
            record.args()
        );
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{line}");
            }
        }
        if record.level() > self.stderr_level {
            return;
        }
        match current_bars() {
            Some(mp) => {
                if record.level() <= Level::Warn {
                    let _ = mp.println(&line);
                }
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{line}");
            }
        }
    }

    fn flush(&self) {
        if let Some(f) = &self.file {
            if let Ok(mut f) = f.lock() {
                let _ = f.flush();
            }
        }
    }
}

/// Set up logging once per process (later calls keep the first logger).
/// Terminal level: info (`-q`: warn, `-v`: debug, `-vv`: trace); the file
/// gets at least info. `RUST_LOG` refines both.
/// `-q` was given: stdout keeps only what the operator must see (summaries,
/// failures), not per-table chatter such as a resume's `⏭ Skipping` lines.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `-q` was given (see [`QUIET`]).
pub fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn init(verbose: u8, quiet: bool, file: Option<&Path>) -> anyhow::Result<()> {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    let file = match file {
        Some(p) => {
            let fail = |e: std::io::Error| {
                anyhow::anyhow!(
                    "cannot open the log file {} (config key [log] file): {e}. Make its folder writable by the user that runs branchsync, or change [log] file",
                    p.display()
                )
            };
            if let Some(dir) = p.parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(fail)?;
                }
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            Some(Mutex::new(opts.open(p).map_err(fail)?))
        }
        None => None,
    };
    let stderr_level = if quiet {
        LevelFilter::Warn
    } else {
        match verbose {
            0 => LevelFilter::Info,
            1 => LevelFilter::Debug,
            _ => LevelFilter::Trace,
        }
    };
    let mut builder = env_filter::Builder::new();
    builder.filter_level(LevelFilter::Warn);
    builder.filter_module("branchsync", stderr_level.max(LevelFilter::Info));
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse(&spec);
    }
    let filter = builder.build();
    let max = filter.filter();
    if log::set_boxed_logger(Box::new(Logger {
        filter,
        stderr_level,
        file,
    }))
    .is_ok()
    {
        log::set_max_level(max);
    }
    Ok(())
}
