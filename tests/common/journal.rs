//! A site for the journal-reading commands: a folder with a `branchsync.toml`
//! (`[journal]` and whatever else a test adds) and the journal it names,
//! built through the journal API; the real binary run against it; and
//! builders for the journal's batch and progress rows.
#![allow(dead_code)]

use branchsync::journal::{BatchRow, BatchStatus, Journal, ProgressRow, ProgressStatus};
use serde_json::Value;
use std::path::PathBuf;

/// The journal every site's config names (relative: it resolves against
/// the config's folder).
pub const JOURNAL_ONLY: &str = "[journal]\npath = \"storage/journal.db\"\n";

/// The time zone every command of a site runs in (UTC+7, no DST).
pub const TZ: &str = "Asia/Jakarta";

pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    /// A site whose config has nothing but `[journal]`.
    pub fn new() -> Site {
        Site::with_config(JOURNAL_ONLY)
    }

    /// A site whose config is `text` (which names `storage/journal.db`);
    /// the `storage` folder exists.
    pub fn with_config(text: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("storage")).unwrap();
        std::fs::write(dir.path().join("branchsync.toml"), text).unwrap();
        Site { dir }
    }

    /// A file in the site's folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("branchsync.toml")
    }

    pub fn journal_path(&self) -> PathBuf {
        self.path("storage/journal.db")
    }

    pub fn journal(&self) -> Journal {
        Journal::open(&self.journal_path()).unwrap()
    }

    /// The binary, reading this site's config, in [`TZ`], run from another
    /// folder (relative paths resolve against the config's), with no
    /// colour or log settings leaking in from the environment.
    pub fn command(&self) -> std::process::Command {
        use assert_cmd::cargo::CommandCargoExt;
        let mut c = std::process::Command::cargo_bin("branchsync").unwrap();
        c.current_dir(std::env::temp_dir())
            .arg("--config")
            .arg(self.config_path())
            .env("TZ", TZ)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("BRANCHSYNC_CONFIG")
            .env_remove("COLUMNS")
            .env_remove("RUST_LOG");
        c
    }

    /// [`Site::command`] for assertions.
    pub fn cmd(&self) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.command())
    }

    /// The standard output of a run that must succeed.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The standard output of a run that must succeed, parsed as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.stdout(args)).unwrap()
    }
}

/// A batch row with no tables counted and no end (tests set what they need).
pub fn batch(id: &str, status: BatchStatus, started: &str) -> BatchRow {
    BatchRow {
        batch_id: id.into(),
        status,
        total_tables: 0,
        completed_tables: 0,
        failed_tables: 0,
        command_options: "{\"threads\":8}".into(),
        started_at: started.into(),
        completed_at: None,
        duration_seconds: None,
        pid: Some(4242),
        host: Some("backup01".into()),
        boot_id: None,
        heartbeat_at: None,
    }
}

/// A step-2 progress row of `table` (its model name too), nothing counted.
pub fn row(batch_id: &str, connection: &str, table: &str, status: ProgressStatus) -> ProgressRow {
    ProgressRow::new(batch_id, connection, table, status)
}
