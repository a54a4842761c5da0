//! What a sync prints: bars on a terminal, plain log lines for cron.

use assert_cmd::Command;
use std::process::Command as StdCommand;

fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    Command::cargo_bin("branchsync")
        .unwrap()
        .args(["-q", "demo", "--branches", "3", "--rows", "200", "--dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .assert()
        .success();
    dir
}

#[test]
fn without_a_terminal_log_lines_replace_the_bars() {
    let dir = demo_dir();
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(dir.path().join("branchsync.toml"))
        .arg("sync-all")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Created new batch: sync_"), "{stdout}");
    assert!(
        stderr.contains("SyncAll: Starting for c_invoiceline from sqlite_sby"),
        "{stderr}"
    );
    assert!(
        stderr.contains("SyncAll: Completed for c_invoiceline from sqlite_sby (200 records)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "escape codes in a cron mail: {stderr}"
    );
    assert!(!stderr.contains("Overall"), "{stderr}");
    // The log file has the same lines, with timestamps.
    let log = std::fs::read_to_string(dir.path().join("storage/logs/sync.log")).unwrap();
    assert!(
        log.contains("INFO ] SyncAll: Completed for ad_org from sqlite_lmp"),
        "{log}"
    );
}

#[test]
fn on_a_terminal_bars_are_drawn_and_info_lines_stay_in_the_log() {
    if StdCommand::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux `script` is not installed: cannot make a pseudo-terminal");
        return;
    }
    let dir = demo_dir();
    let bin = assert_cmd::cargo::cargo_bin("branchsync");
    let cmdline = format!(
        "{} --config {} sync-all",
        bin.display(),
        dir.path().join("branchsync.toml").display()
    );
    let out = StdCommand::new("script")
        .args(["-qec", &cmdline, "/dev/null"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}", out);
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(tty.contains("Overall"), "no overall bar: {tty}");
    assert!(tty.contains("/16 tables"), "{tty}");
    assert!(
        !tty.contains("SyncAll: Starting for"),
        "info lines tear the bars: {tty}"
    );
    // One line per finished table stays once the bars are gone.
    assert!(
        tty.contains("  ✓ c_invoiceline from sqlite_sby: 200 records"),
        "{tty}"
    );
    // Rates are whole rows per second, never `113,926.8255/s`.
    let fractional_rate = tty.split("/s").any(|before| {
        before.rsplit(' ').next().is_some_and(|w| {
            w.contains('.') && w.chars().last().is_some_and(|c| c.is_ascii_digit())
        })
    });
    assert!(!fractional_rate, "{tty}");
    assert!(
        tty.contains("Batch Summary") || tty.contains("completed"),
        "{tty}"
    );
    let log = std::fs::read_to_string(dir.path().join("storage/logs/sync.log")).unwrap();
    assert_eq!(
        log.matches("SyncAll: Completed for").count(),
        32,
        "two runs of 16 tables: {log}"
    );
}
