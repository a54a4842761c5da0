//! Folders and streams the run writes to: a read-only journal folder (new
//! and existing journal), a read-only log folder, a stdout on a full disk.
//! Modes are real (`chmod 0555`); as root, who ignores them, the child drops
//! to `nobody` first.

use super::common::fixture::{code, reliability, Fixture};
use super::{central_tables, output};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `cmd` as `nobody` when the tests run as root (root ignores modes).
fn unprivileged(cmd: &mut Command) {
    if unsafe { libc::geteuid() } == 0 {
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_nobody(p: &Path) {
    if unsafe { libc::geteuid() } == 0 {
        std::os::unix::fs::chown(p, Some(65534), Some(65534)).unwrap();
    }
}

#[test]
fn read_only_journal_folder_is_a_clear_error() {
    let fx = Fixture::new(1, 100);
    fx.write_config();
    let storage = fx.dir.path().join("storage");
    let logs = storage.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    chmod(fx.dir.path(), 0o755);
    chmod(&logs, 0o777);
    chmod(&storage, 0o555);
    let journal = fx.journal_path();
    let mut problems = Vec::new();
    let mut judge = |what: &str, out: &Output| {
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        if code(out) != 2 {
            problems.push(format!("{what}: exit {} (want 2): {stderr}", code(out)));
        }
        if stderr.contains("panicked") {
            problems.push(format!("{what}: panic: {stderr}"));
        }
        if !stderr.contains(&storage.display().to_string()) {
            problems.push(format!(
                "{what}: the error names neither the journal nor its folder: {stderr}"
            ));
        }
        if !(stderr.contains("writable") || stderr.contains("chmod")) {
            problems.push(format!("{what}: the error gives no fix: {stderr}"));
        }
    };

    // No journal yet, and it cannot be created.
    let mut cmd = fx.cmd(&["sync-all"]);
    unprivileged(&mut cmd);
    let out = output(cmd, "sync-all (read-only journal folder, no journal)");
    judge("new journal in a read-only folder", &out);
    assert!(!journal.exists());
    assert_eq!(central_tables(&fx), 0, "nothing may run without a journal");

    // A journal that exists (owned by the user) in a folder that became
    // read-only: the WAL and lock files beside it cannot be created.
    chmod(&storage, 0o755);
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 0);
    for entry in std::fs::read_dir(&storage).unwrap() {
        chown_nobody(&entry.unwrap().path());
    }
    chown_nobody(&logs.join("sync.log"));
    let before = std::fs::read(&journal).unwrap();
    let tables_before = central_tables(&fx);
    chmod(&storage, 0o555);
    let mut cmd = fx.cmd(&["sync-all"]);
    unprivileged(&mut cmd);
    let out = output(cmd, "sync-all (read-only journal folder, journal exists)");
    chmod(&storage, 0o755);
    judge("existing journal in a read-only folder", &out);
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the journal changed"
    );
    assert_eq!(central_tables(&fx), tables_before);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    reliability(
        "read-only journal folder (new journal; existing journal)",
        2,
        0,
        0,
        "exit 2 naming the folder and the fix",
    );
}

#[test]
fn read_only_log_folder_is_a_clear_error() {
    let fx = Fixture::new(1, 100);
    fx.write_config();
    let logs = fx.dir.path().join("storage/logs");
    std::fs::create_dir_all(&logs).unwrap();
    chmod(fx.dir.path(), 0o755);
    chmod(&fx.dir.path().join("storage"), 0o777);
    chmod(&logs, 0o555);
    let mut cmd = fx.cmd(&["sync-all"]);
    unprivileged(&mut cmd);
    let out = output(cmd, "sync-all (read-only log folder)");
    chmod(&logs, 0o755);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains("sync.log"),
        "the error does not name the log file: {stderr}"
    );
    assert_eq!(central_tables(&fx), 0);
    reliability(
        "read-only log folder",
        1,
        0,
        0,
        "exit 2 naming the log file",
    );
}

/// Cron redirects stdout to a file; when that disk is full the sync must
/// still run (or stop with a §2 code), not panic half-way through a batch.
#[test]
fn stdout_on_a_full_disk_does_not_break_the_run() {
    let fx = Fixture::new(1, 200);
    fx.write_config();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut cmd = fx.cmd(&["sync-all"]);
    cmd.stdout(std::process::Stdio::from(full));
    let out = output(cmd, "sync-all > /dev/full");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let panic = stderr
        .lines()
        .skip_while(|l| !l.contains("panicked"))
        .nth(1);
    assert!(
        panic.is_none(),
        "sync-all panicked (exit {}) when stdout is full: {}",
        code(&out),
        panic.unwrap_or_default()
    );
    assert!(matches!(code(&out), 0..=2), "exit {}: {stderr}", code(&out));
    if code(&out) == 0 {
        assert_eq!(fx.latest_batch().1, "completed");
        fx.assert_consolidated();
    }
    reliability(
        "stdout on a full disk (/dev/full)",
        1,
        0,
        0,
        "no panic, a §2 exit code",
    );
}

/// A journal that belongs to another user with mode 0600 (made by root, run
/// as `nobody`): the error says whose file it is and what to do, not that a
/// folder should be writable, for readers and writers alike.
#[test]
fn a_journal_of_another_user_names_its_owner() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED a_journal_of_another_user_names_its_owner: needs root to own the journal and run as nobody");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("storage");
    std::fs::create_dir(&storage).unwrap();
    chmod(dir.path(), 0o755);
    chmod(&storage, 0o755);
    let journal = storage.join("journal.db");
    drop(branchsync::journal::Journal::open(&journal).unwrap());
    for entry in std::fs::read_dir(&storage).unwrap() {
        chmod(&entry.unwrap().path(), 0o600);
    }
    let config = dir.path().join("branchsync.toml");
    std::fs::write(
        &config,
        "[journal]\npath = \"storage/journal.db\"\n\n\
         [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\nbranch_column = \"branch\"\n\n\
         [[connection]]\nname = \"sqlite_a\"\ndriver = \"sqlite\"\nurl = \"a.db\"\n\n\
         [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n",
    )
    .unwrap();
    chmod(&config, 0o644);
    let before = std::fs::read(&journal).unwrap();
    let mut problems = Vec::new();
    for args in [
        &["sync-status"][..],
        &["sync-status", "--all", "--json"],
        &["stats"],
        &["sync-all"],
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_branchsync"));
        cmd.arg("--config").arg(&config).args(args);
        cmd.env_remove("RUST_LOG").env("NO_COLOR", "1");
        unprivileged(&mut cmd);
        let out = output(cmd, &format!("{} (as nobody)", args.join(" ")));
        let err = String::from_utf8_lossy(&out.stderr);
        let wanted = [
            journal.to_str().unwrap(),
            "belongs to user root",
            "mode 0600",
            "runs as user nobody",
            "chown nobody",
        ];
        if code(&out) != 2 || wanted.iter().any(|w| !err.contains(w)) || err.contains("folder") {
            problems.push(format!("`{}` exited {}: {err}", args.join(" "), code(&out)));
        }
    }
    assert_eq!(
        std::fs::read(&journal).unwrap(),
        before,
        "the journal changed"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
