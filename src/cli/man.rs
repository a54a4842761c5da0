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
                super::status::emit(&String::from_utf8_lossy(&page))?;
            }
        }
        Ok(Outcome::Success)
    }
}

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
        let serve = std::fs::read_to_string(dir.path().join("branchsync-serve.1")).unwrap();
        assert!(serve.contains("\\-\\-listen"), "{serve}");
    }
}
