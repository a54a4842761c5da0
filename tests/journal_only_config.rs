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

/// A journal path under a file can never hold a journal: every command says
/// so (exit 2, the path and the config key), readers included; a reader
/// must not take it for an empty journal. A missing file in an existing
/// folder still is one.
#[test]
fn a_journal_path_under_a_file_is_an_error_for_readers_and_writers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plain"), "not a folder").unwrap();
    let journal = dir.path().join("plain/journal.db");
    let cfg = dir.path().join("branchsync.toml");
    let config = |path: &str| {
        format!(
            "[journal]\npath = \"{path}\"\n\n\
             [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\nbranch_column = \"branch\"\n\n\
             [[connection]]\nname = \"sqlite_a\"\ndriver = \"sqlite\"\nurl = \"a.db\"\n\n\
             [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n"
        )
    };
    let run = |args: &[&str]| {
        Command::cargo_bin("branchsync")
            .unwrap()
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .env("NO_COLOR", "1")
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let mut problems = Vec::new();
    for path in [journal.to_str().unwrap(), "/etc/passwd/journal.db"] {
        std::fs::write(&cfg, config(path)).unwrap();
        for args in [
            &["sync-status"][..],
            &["sync-status", "--all", "--json"],
            &["stats"],
            &["export", "--latest"],
            &["prune", "--older-than", "30d"],
            &["serve", "--listen", "127.0.0.1:0"],
            &["sync-all"],
            &["sync-table", "MProduct"],
            &["sync-resume-interrupted"],
        ] {
            let out = run(args);
            let err = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2)
                || !err.contains(path)
                || !err.contains("[journal] path")
            {
                problems.push(format!(
                    "{path}: `{}` exited {:?}: {}{err}",
                    args.join(" "),
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout)
                ));
            }
        }
    }
    assert!(!journal.exists());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // A missing journal in an existing folder is an empty journal.
    std::fs::write(&cfg, config("storage/journal.db")).unwrap();
    std::fs::create_dir(dir.path().join("storage")).unwrap();
    let out = run(&["sync-status", "--all", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert!(!dir.path().join("storage/journal.db").exists());
}
