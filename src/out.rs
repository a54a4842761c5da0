//! Printing to stdout without panicking: under cron stdout may be a full disk
//! or a closed pipe, and that must never stop a sync (the journal and the log
//! file are the record; stdout is a courtesy).

/// `println!` that ignores write errors.
#[macro_export]
macro_rules! say {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `say!` for what a run tells as it goes (which batch, what it resumes, its
/// summary when everything completed): silent under `-q`, so that cron mails
/// only what needs a person. Failures and refusals keep `say!` or the log.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        if !$crate::logging::is_quiet() {
            $crate::say!($($arg)*);
        }
    }};
}
