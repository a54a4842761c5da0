//! `completions <shell>`: the shell completion script, generated from the
//! same clap definitions as the help, so that it never drifts from the CLI.

use super::{Cli, Global};
use crate::exit::Outcome;
use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Install, for example:\n  bash: branchsync completions bash > /etc/bash_completion.d/branchsync\n  zsh:  branchsync completions zsh > \"${fpath[1]}/_branchsync\"\n  fish: branchsync completions fish > ~/.config/fish/completions/branchsync.fish"
)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    pub shell: Shell,
    /// Reads no config: this hides the global `--config` from this
    /// command's help (it is accepted and ignored, as before).
    #[arg(long = "config", id = "config", hide = true, value_name = "PATH")]
    pub _config: Option<std::path::PathBuf>,
}

impl Args {
    pub fn run(self, _global: &Global) -> anyhow::Result<Outcome> {
        let mut cmd = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut cmd, "branchsync", &mut script);
        super::status::emit(&String::from_utf8_lossy(&script))?;
        Ok(Outcome::Success)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_every_command_and_option() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::Elvish,
            Shell::PowerShell,
        ] {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "branchsync", &mut script);
            let script = String::from_utf8(script).unwrap();
            for word in [
                "sync-all",
                "sync-resume-interrupted",
                "serve",
                "resume",
                "listen",
            ] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
    }
}
