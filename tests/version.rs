//! `branchsync --version` names the bundled SQLite, and that SQLite is one
//! without the WAL-reset bug (3.51.3 or newer).

use assert_cmd::Command;

#[test]
fn version_names_the_bundled_sqlite_and_it_is_new_enough() {
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let sqlite = branchsync::journal::sqlite_version();
    assert_eq!(
        text.trim(),
        format!(
            "branchsync {} (bundled SQLite {sqlite})",
            env!("CARGO_PKG_VERSION")
        )
    );
    let parts: Vec<u32> = sqlite.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(
        parts[..] >= [3, 51, 3][..],
        "SQLite {sqlite} has the WAL-reset bug; upgrade rusqlite"
    );
}

#[test]
fn help_keeps_global_options_apart_and_sync_table_takes_a_connection_list() {
    let help = |args: &[&str]| {
        let out = Command::cargo_bin("branchsync")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let text = help(&["sync-status", "--help"]);
    let (own, global) = text
        .split_once("Global options:")
        .expect("a Global options heading");
    assert!(
        own.contains("--abandon") && !own.contains("--quiet"),
        "{text}"
    );
    assert!(
        global.contains("--config") && global.contains("--quiet") && global.contains("--verbose"),
        "{text}"
    );
    let text = help(&["sync-table", "--help"]);
    assert!(text.contains("--connection <A,B>"), "{text}");
}

#[test]
fn commands_that_read_no_config_do_not_offer_config_and_cron_resume_takes_sync_all_options() {
    let help = |args: &[&str]| {
        let out = Command::cargo_bin("branchsync")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    for command in ["completions", "man"] {
        let text = help(&[command, "--help"]);
        assert!(!text.contains("--config"), "{command}: {text}");
        assert!(text.contains("--quiet"), "{command}: {text}");
    }
    // Still accepted where it used to be, before or after the command.
    help(&["--config", "nowhere.toml", "completions", "bash"]);
    help(&["completions", "--config", "nowhere.toml", "bash"]);
    let sync_all = help(&["sync-all", "--help"]);
    let resume = help(&["sync-resume-interrupted", "--help"]);
    for option in ["--threads <N>", "--connection <A,B>", "--dry-run"] {
        assert!(sync_all.contains(option), "{sync_all}");
        assert!(resume.contains(option), "{resume}");
    }
    // The manual page of the cron command lists them too.
    let page = help(&["man"]);
    assert!(page.contains("sync\\-resume\\-interrupted"), "{page}");
}
