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
