//! Commands that only read the journal need only `[journal]`: a broken
//! `[[table]]` entry must not hide the journal from the operator, while the
//! sync commands still refuse it.

use assert_cmd::Command;

#[test]
fn reading_commands_need_only_the_journal_section() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("branchsync.toml");
    std::fs::write(
        &cfg,
        "[journal]\npath = \"j.db\"\n\n[[table]]\nmodel = \"COrder\"\nsource = \"c_order\"\nkey = [\"c_order_id\"]\nmode = \"incremental\"\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::cargo_bin("branchsync")
            .unwrap()
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = run(&["sync-status", "--all", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert_eq!(run(&["stats"]).status.code(), Some(0));
    assert_eq!(
        run(&["prune", "--older-than", "30d", "--dry-run"])
            .status
            .code(),
        Some(0)
    );
    // The sync refuses the broken entry, naming it and the key.
    let out = run(&["sync-all"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cursor"), "{err}");
    // A broken [journal] is still an error with its position.
    std::fs::write(&cfg, "[journal]\npaht = \"j.db\"\n").unwrap();
    let out = run(&["sync-status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":2:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
