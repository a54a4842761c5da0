//! `man`: the manual page (roff), generated from the clap definitions — one
//! page for branchsync on stdout, or with `--dir` one page per command
//! (`branchsync.1`, `branchsync-sync-all.1`, …) for packaging.

use super::{Cli, Global};
use crate::exit::Outcome;
use anyhow::Context;
use clap::CommandFactory;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(after_help = "Read it with: branchsync man | man -l -")]
pub struct Args {
    /// Write branchsync.1 and one page per command into this folder instead
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Reads no config: this hides the global `--config` from this
    /// command's help (it is accepted and ignored, as before).
    #[arg(long = "config", id = "config", hide = true, value_name = "PATH")]
    pub _config: Option<std::path::PathBuf>,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        let cmd = Cli::command();
        match &self.dir {
            Some(dir) => {
                let written = write_pages(cmd, dir)?;
                super::status::emit(&format!(
                    "Wrote {written} manual pages to {}\n",
                    dir.display()
                ))?;
            }
            None => {
                let mut page = Vec::new();
                clap_mangen::Man::new(cmd).render(&mut page)?;
                page.extend_from_slice(MAIN_PAGE_SECTIONS.as_bytes());
                super::status::emit(&String::from_utf8_lossy(&page))?;
            }
        }
        Ok(Outcome::Success)
    }
}

/// What the main page says beyond the options: the exit codes cron acts
/// on, the files branchsync reads and writes, and a crontab to start from.
const MAIN_PAGE_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Everything completed (or, for sync\-resume\-interrupted, nothing to do).
.TP
\fB1\fR
The batch finished with failed tables; the others completed. See sync\-status \-\-failed.
.TP
\fB2\fR
Usage, config or journal error: nothing ran.
.TP
\fB3\fR
Another sync holds the journal lock (sync\-resume\-interrupted treats this as nothing to do and exits 0).
.TP
\fB130\fR
Interrupted by SIGINT or SIGTERM: in\-flight tables rolled back; resume with sync\-all \-\-resume=ID.
.SH FILES
.TP
\fI./branchsync.toml\fR
The config, unless \fB\-\-config\fR or \fB$BRANCHSYNC_CONFIG\fR names another. Relative paths in it resolve against its folder.
.TP
\fIstorage/sync\-journal.db\fR
The journal ([journal] path): every batch and table copy, SQLite in WAL mode, mode 0600. A lock file \fIsync\-journal.db.lock\fR beside it is held by the running sync.
.TP
\fIstorage/rejects/BATCH_ID/\fR
Rows refused (a NULL key, a value that does not convert), one CSV file per connection and table.
.TP
\fIstorage/logs/sync.log\fR
The log ([log] file), when configured.
.TP
\fI~/.pgpass\fR
PostgreSQL passwords, when a connection gives none (refused if group or world readable).
.SH EXAMPLES
A crontab: the nightly sync, an hourly resume of whatever a power cut or dead link left behind, and a daily clean\-up of batches older than three months (mo is 30 days; m is minutes). With \fB\-q\fR, a run that needs nobody prints nothing, so cron mails only problems.
.PP
.nf
0 1 * * *   branchsync \-\-config /etc/branchsync/branchsync.toml \-q sync\-all
30 * * * *  branchsync \-\-config /etc/branchsync/branchsync.toml \-q sync\-resume\-interrupted
15 3 * * *  branchsync \-\-config /etc/branchsync/branchsync.toml \-q prune \-\-older\-than 3mo
.fi
.PP
After a power cut: \fBbranchsync sync\-status \-\-latest\fR shows which tables finished, \fBbranchsync sync\-all \-\-resume=ID\fR finishes the rest.
"#;

/// `branchsync.1` and `branchsync-<command>.1` for every command; how many.
fn write_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dir).with_context(|| {
        format!(
            "cannot create the folder {} for the manual pages; check the path and its permissions",
            dir.display()
        )
    })?;
    clap_mangen::generate_to(cmd, dir)
        .with_context(|| format!("cannot write the manual pages into {}", dir.display()))?;
    let main = dir.join("branchsync.1");
    let mut page = std::fs::read_to_string(&main)
        .with_context(|| format!("cannot read back {}", main.display()))?;
    page.push_str(MAIN_PAGE_SECTIONS);
    std::fs::write(&main, page).with_context(|| format!("cannot write {}", main.display()))?;
    let written = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("branchsync") && name.ends_with(".1")
        })
        .count();
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_page_per_command_and_the_main_page_lists_them() {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut page)
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(".TH branchsync 1"));
        assert!(page.contains("sync\\-resume\\-interrupted"));
        let dir = tempfile::tempdir().unwrap();
        let commands = Cli::command().get_subcommands().count();
        assert_eq!(
            write_pages(Cli::command(), dir.path()).unwrap(),
            commands + 1
        );
        let main = std::fs::read_to_string(dir.path().join("branchsync.1")).unwrap();
        for section in [".SH \"EXIT STATUS\"", ".SH FILES", ".SH EXAMPLES"] {
            assert!(
                page.contains(section) || main.contains(section),
                "{section}"
            );
            assert_eq!(main.matches(section).count(), 1, "{section} in {main}");
        }
        assert!(main.contains("sync\\-resume\\-interrupted\n15 3"), "{main}");
        let serve = std::fs::read_to_string(dir.path().join("branchsync-serve.1")).unwrap();
        assert!(serve.contains("\\-\\-listen"), "{serve}");
    }
}
