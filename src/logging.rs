//! Logging: `env_logger` formatting to stderr and, when `[log] file` is set,
//! appended to that file (mode 0600) with timestamps. While progress bars are
//! on screen, stderr lines are printed through them so they do not tear.

use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static BARS: OnceLock<Mutex<Option<indicatif::MultiProgress>>> = OnceLock::new();

/// Route log lines through these bars (None: straight to stderr).
pub fn set_bars(bars: Option<indicatif::MultiProgress>) {
    let slot = BARS.get_or_init(|| Mutex::new(None));
    if let Ok(mut s) = slot.lock() {
        *s = bars;
    }
}

struct Tee {
    file: Option<std::fs::File>,
}

impl Write for Tee {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(f) = self.file.as_mut() {
            let _ = f.write_all(buf);
        }
        let bars = BARS.get().and_then(|s| s.lock().ok().and_then(|b| b.clone()));
        match bars {
            Some(mp) if !mp.is_hidden() => {
                let line = String::from_utf8_lossy(buf).trim_end().to_owned();
                let _ = mp.println(line);
            }
            _ => {
                let _ = std::io::stderr().write_all(buf);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
        std::io::stderr().flush()
    }
}

/// Set up logging once. Level: `RUST_LOG` when set, else info (`-q`: warn,
/// `-v`: debug, `-vv`: trace). Our own lines are at info.
pub fn init(verbose: u8, quiet: bool, file: Option<&Path>) -> Result<(), std::io::Error> {
    let file = match file {
        Some(p) => {
            if let Some(dir) = p.parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let mut opts = std::fs::OpenOptions::new();
            opts.create(true).append(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            Some(opts.open(p)?)
        }
        None => None,
    };
    let level = if quiet {
        log::LevelFilter::Warn
    } else {
        match verbose {
            0 => log::LevelFilter::Info,
            1 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        }
    };
    let mut builder = env_logger::Builder::new();
    builder.filter_level(log::LevelFilter::Warn);
    builder.filter_module("branchsync", level);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    builder
        .format(|f, record| {
            writeln!(
                f,
                "[{} {:<5}] {}",
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
                record.level(),
                record.args()
            )
        })
        .target(env_logger::Target::Pipe(Box::new(Tee { file })));
    // A second init (demo runs sync then status) keeps the first logger.
    let _ = builder.try_init();
    Ok(())
}
