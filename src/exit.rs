//! Exit codes (cron depends on them): 0 completed, 1 finished with failed
//! tables, 2 usage/config/journal error (nothing ran), 3 the journal lock is
//! held by another sync, 130 interrupted.

use crate::journal::JournalError;
use std::process::ExitCode;

/// How a command that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The batch finished with failed tables.
    Failed,
    /// SIGINT/SIGTERM.
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Interrupted => 130,
        }
    }
}

/// The exit code for an error that stopped a command before it ran.
pub fn code_for_error(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(JournalError::LockHeld { .. }) = cause.downcast_ref::<JournalError>() {
            return 3;
        }
    }
    2
}

pub fn to_exit_code(code: u8) -> ExitCode {
    ExitCode::from(code)
}
