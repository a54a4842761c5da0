//! Live figures of the copies in flight: rows so far and when each copy
//! started, so that the dashboard can show a
//! running table's rows and rate instead of `N/A`. They change thousands of
//! times a second, so they stay out of the journal (whose rows change only
//! when a table's state does): a side file next to it,
//! `<storage>/live/<batch_id>.json`, rewritten atomically (temp file and
//! rename) about once a second while the batch runs and removed at its end.
//! Figures a reader cannot get (no file, a torn or old one) are simply not
//! shown; nothing depends on them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A file older than this belongs to a run that is gone.
const STALE_AFTER_SECONDS: i64 = 30;

/// The counters of one copy in flight.
#[derive(Debug)]
pub struct LiveTable {
    rows: AtomicU64,
    started_at: String,
}

impl LiveTable {
    pub fn add_rows(&self, n: u64) {
        self.rows.fetch_add(n, Ordering::Relaxed);
    }
}

/// The copies in flight of one batch and the file they are written to.
#[derive(Debug)]
pub struct LiveBoard {
    path: PathBuf,
    tables: Mutex<BTreeMap<(String, String), Arc<LiveTable>>>,
}

/// One copy as the side file carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveFigure {
    pub connection: String,
    pub table: String,
    pub rows: u64,
    /// UTC ISO-8601, when this attempt started streaming.
    pub started_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LiveFigures {
    /// UTC ISO-8601, when the file was written.
    pub written_at: String,
    pub tables: Vec<LiveFigure>,
}

impl LiveFigures {
    /// The figure of `conn.table`, if it is being copied.
    pub fn get(&self, conn: &str, table: &str) -> Option<&LiveFigure> {
        self.tables
            .iter()
            .find(|f| f.connection == conn && f.table == table)
    }
}

/// Where the live figures of `batch_id` are kept (`storage` is the
/// journal's folder).
pub fn path(storage: &Path, batch_id: &str) -> PathBuf {
    storage.join("live").join(format!("{batch_id}.json"))
}

/// The live figures of a running batch; empty when there are none (or the
/// file is older than a running batch would leave it).
pub fn read(storage: &Path, batch_id: &str) -> LiveFigures {
    let Ok(text) = std::fs::read_to_string(path(storage, batch_id)) else {
        return LiveFigures::default();
    };
    let figures: LiveFigures = serde_json::from_str(&text).unwrap_or_default();
    let fresh = crate::journal::parse_ts(&figures.written_at)
        .is_some_and(|t| (chrono::Utc::now() - t).num_seconds() < STALE_AFTER_SECONDS);
    if fresh {
        figures
    } else {
        LiveFigures::default()
    }
}

impl LiveBoard {
    pub fn new(storage: &Path, batch_id: &str) -> LiveBoard {
        LiveBoard {
            path: path(storage, batch_id),
            tables: Mutex::new(BTreeMap::new()),
        }
    }

    /// A copy of `conn.table` starts (again): its counters, from zero.
    pub fn start(&self, conn: &str, table: &str) -> Arc<LiveTable> {
        let t = Arc::new(LiveTable {
            rows: AtomicU64::new(0),
            started_at: crate::journal::now_utc(),
        });
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((conn.to_owned(), table.to_owned()), Arc::clone(&t));
        t
    }

    /// The copy of `conn.table` ended, however.
    pub fn end(&self, conn: &str, table: &str) {
        self.tables
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(conn.to_owned(), table.to_owned()));
    }

    fn snapshot(&self) -> LiveFigures {
        let tables = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        LiveFigures {
            written_at: crate::journal::now_utc(),
            tables: tables
                .iter()
                .map(|((c, t), l)| LiveFigure {
                    connection: c.clone(),
                    table: t.clone(),
                    rows: l.rows.load(Ordering::Relaxed),
                    started_at: l.started_at.clone(),
                })
                .collect(),
        }
    }

    /// Write the figures now (temp file, then rename). A failure is only
    /// logged: the figures are a courtesy to the dashboard.
    pub fn write(&self) {
        let text = match serde_json::to_string(&self.snapshot()) {
            Ok(t) => t,
            Err(_) => return,
        };
        let tmp = self.path.with_extension("json.tmp");
        let result = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = result {
            log::debug!("live figures: cannot write {}: {e}", self.path.display());
        }
    }

    /// The batch ended: its figures go.
    pub fn remove(&self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = std::fs::remove_file(self.path.with_extension("json.tmp"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_figures_are_read_back_and_removed_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let id = "sync_20261126084522_AbCd1234";
        let board = LiveBoard::new(dir.path(), id);
        let t = board.start("lmp", "c_order");
        t.add_rows(4096);
        t.add_rows(10);
        board.start("jkt", "m_product").add_rows(7);
        board.write();
        let read = read(dir.path(), id);
        assert_eq!(read.get("lmp", "c_order").unwrap().rows, 4106);
        assert_eq!(read.get("jkt", "m_product").unwrap().rows, 7);
        board.end("lmp", "c_order");
        board.write();
        assert!(super::read(dir.path(), id).get("lmp", "c_order").is_none());
        board.remove();
        assert!(super::read(dir.path(), id).tables.is_empty());
        assert!(!path(dir.path(), id).exists());
    }
}
