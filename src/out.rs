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
