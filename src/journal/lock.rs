//! The run lock: an exclusive OS lock on `<journal>.lock`, held by a sync for
//! its whole life. Liveness is "somebody holds the lock": a `running` batch with
//! no holder was cut short (power loss, SIGKILL) and is shown as `interrupted`.
//! The lock file's text names the holder so a second run can say who it is.

use super::{JournalError, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Who holds (or last held) the lock.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LockHolder {
    pub batch_id: Option<String>,
    pub pid: Option<u32>,
    pub host: Option<String>,
}

/// A held run lock; released when dropped (or when the process dies).
pub struct RunLock {
    file: File,
    path: PathBuf,
}

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut s = journal.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

fn open_lock_file(path: &Path) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        cause: super::IoCause(source),
    })
}

impl RunLock {
    /// Take the lock. A short grace period covers a reader that probes the
    /// lock at the same instant; a real holder yields `LockHeld`.
    pub fn acquire(journal: &Path) -> Result<RunLock> {
        let path = lock_path(journal);
        let file = open_lock_file(&path)?;
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(JournalError::LockHeld {
                        holder: read_holder(&path),
                        lock_path: path,
                    })
                }
                Err(TryLockError::Error(source)) => {
                    return Err(JournalError::Io {
                        path,
                        cause: super::IoCause(source),
                    });
                }
            }
        }
        let mut lock = RunLock { file, path };
        lock.set_holder(None)?;
        Ok(lock)
    }

    /// Record which batch the holder is running (for the "held by" message).
    pub fn set_holder(&mut self, batch_id: Option<&str>) -> Result<()> {
        let holder = LockHolder {
            batch_id: batch_id.map(str::to_owned),
            pid: Some(std::process::id()),
            host: Some(hostname()),
        };
        let text = serde_json::to_string(&holder).unwrap_or_default();
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            cause: super::IoCause(source),
        };
        self.file.set_len(0).map_err(io)?;
        self.file.seek(SeekFrom::Start(0)).map_err(io)?;
        self.file.write_all(text.as_bytes()).map_err(io)?;
        self.file.flush().map_err(io)?;
        Ok(())
    }
}

/// Is some process holding the run lock of `journal` right now?
pub fn is_held(journal: &Path) -> bool {
    let path = lock_path(journal);
    let Ok(file) = OpenOptions::new().read(true).write(true).open(&path) else {
        return false; // no lock file: nobody ever ran, or it was removed
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => true, // cannot tell: assume alive, change nothing
    }
}

fn read_holder(path: &Path) -> LockHolder {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    serde_json::from_str(&text).unwrap_or_default()
}

/// This machine's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// This boot's id (Linux), so a batch from before a reboot is known dead.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
}
