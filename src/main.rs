use branchsync::{cli, exit};
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(outcome) => exit::to_exit_code(outcome.code()),
        Err(err) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), "error: {err:#}");
            exit::to_exit_code(exit::code_for_error(&err))
        }
    }
}
