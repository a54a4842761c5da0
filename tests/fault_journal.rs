//! Faults of the journal itself: the file cannot grow (full disk), the file
//! is garbage or truncated, the folder is read-only; and of what else a run
//! writes: a read-only log folder, a stdout on a full disk. Each gives a
//! clean error and exit code, leaves a damaged file byte-for-byte as it was,
//! and never loses a row the journal called committed.
//!
//! "Journal full" is provoked with `RLIMIT_FSIZE` on the child (and SIGXFSZ
//! ignored, so writes fail with EFBIG instead of killing it): SQLite's
//! `PRAGMA max_page_count` only lasts for the connection that sets it, and a
//! tiny filesystem needs privileges a test must not assume. The read-only
//! folder is a real `chmod 0555`; when the tests run as root (who ignores
//! permissions) the child drops to `nobody` first.

mod common;

#[path = "fault_journal/folders.rs"]
mod folders;
#[path = "fault_journal/migration_race.rs"]
mod migration_race;

use common::erp::content_hash;
use common::fixture::{code, reliability, Fixture};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};

fn output(mut cmd: Command, what: &str) -> Output {
    let out = cmd.output().unwrap();
    eprintln!(
        "$ branchsync {what}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// No central table was created.
fn central_tables(fx: &Fixture) -> i64 {
    fx.central
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0)
}

/// Every `completed` row of every batch has its data committed in the target.
fn completed_rows_are_in_target(fx: &Fixture) {
    let (batch, _) = fx.latest_batch();
    let mut central = fx.central.client();
    for r in fx.progress(&batch).iter().filter(|r| r.2 == "completed") {
        let db = &fx.branches.iter().find(|(n, _)| *n == r.0).unwrap().1;
        let want = content_hash(&mut db.client(), &r.1, None);
        let branch = (r.1 != "ad_org").then_some(r.0.as_str());
        assert_eq!(
            content_hash(&mut central, &r.1, branch),
            want,
            "{r:?} completed but not in the target"
        );
    }
}

#[test]
fn journal_that_cannot_grow_fails_cleanly_and_loses_nothing() {
    let fx = Fixture::new(2, 1_000);
    fx.write_config();
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 0);
    let batches_before: i64 = fx
        .journal()
        .query_row("SELECT count(*) FROM sync_batches", [], |r| r.get(0))
        .unwrap();

    // Raise the cap until a run gets its batch in and then runs out of room.
    let mut mid_run = None;
    let mut tries = 0;
    for kib in [8u64, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256] {
        tries += 1;
        let limit = kib * 1024;
        let mut cmd = fx.cmd(&["sync-all"]);
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let r = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = output(cmd, &format!("sync-all (file size cap {kib} KiB)"));
        let c = code(&out);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            out.status.code().is_some(),
            "cap {kib} KiB: killed by a signal: {:?}",
            out.status
        );
        assert!(
            !stderr.contains("panicked"),
            "cap {kib} KiB: panic: {stderr}"
        );
        // The file is sound after every failed write.
        let ok: String = fx
            .journal()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok", "cap {kib} KiB");
        let out2 = fx.run(&["sync-status", "--all"]);
        assert_eq!(code(&out2), 0);
        completed_rows_are_in_target(&fx);
        if c == 0 {
            break;
        }
        assert_eq!(c, 2, "cap {kib} KiB: a journal error exits 2: {stderr}");
        assert!(
            stderr.contains(&fx.journal_path().display().to_string()),
            "cap {kib} KiB: the error does not name the journal: {stderr}"
        );
        let batches: i64 = fx
            .journal()
            .query_row("SELECT count(*) FROM sync_batches", [], |r| r.get(0))
            .unwrap();
        if batches > batches_before {
            mid_run = Some((kib, stderr));
            break;
        }
    }
    let (kib, stderr) = mid_run.expect("no cap made the journal fail in the middle of a run");
    eprintln!("journal ran out of room mid-run at a {kib} KiB cap: {stderr}");
    let (batch, status) = fx.latest_batch();
    assert_ne!(status, "completed");
    assert_ne!(
        status, "running",
        "a dead run must not stay running once read"
    );

    // Room again: the batch resumes to completion, nothing lost or doubled.
    let out = fx.run(&["sync-all", "--resume", &batch]);
    assert_eq!(code(&out), 0);
    assert_eq!(fx.latest_batch().1, "completed");
    fx.assert_consolidated();
    let (lost, dup) = fx.lost_and_duplicated();
    assert_eq!((lost, dup), (0, 0));
    reliability(
        "journal cannot grow (RLIMIT_FSIZE, EFBIG) mid-run, then resume",
        tries,
        lost,
        dup,
        &format!("exit 2 naming the journal, integrity ok after each; failed mid-run at a {kib} KiB cap; resume completed"),
    );
}

/// Damaged journal files: every command exits 2 and leaves the bytes alone.
#[test]
fn garbage_or_truncated_journal_exits_2_and_is_left_untouched() {
    let fx = Fixture::new(1, 200);
    fx.write_config();
    // A real journal to truncate.
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 0);
    let real = std::fs::read(fx.journal_path()).unwrap();
    assert!(real.len() > 8192, "journal of {} bytes", real.len());
    let tables_before = central_tables(&fx);

    let mut garbage = vec![0u8; 16 * 1024];
    let mut x: u32 = 0x2545_f491;
    for b in garbage.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut bad_page = real.clone();
    for b in bad_page[4096..8192].iter_mut() {
        *b = 0xA5;
    }
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("random bytes", garbage),
        ("a text file", b"this is not a journal\n".repeat(100)),
        ("zeros", vec![0u8; 8192]),
        ("truncated to 100 bytes", real[..100].to_vec()),
        ("truncated to its first two pages", real[..8192].to_vec()),
        (
            "truncated in the middle of a page",
            real[..real.len() / 2 + 77].to_vec(),
        ),
    ];
    let commands: &[&[&str]] = &[
        &["sync-all"],
        &["sync-status"],
        &["sync-status", "--all", "--json"],
        &["sync-resume-interrupted"],
        &["export", "--latest"],
        &["stats"],
        &["prune", "--older-than", "1d"],
    ];
    let journal = fx.journal_path();
    let side = |suffix: &str| {
        let mut p = journal.clone().into_os_string();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let mut times = 0;
    // Every case runs; the failures are listed together at the end.
    let mut problems = Vec::new();
    for (what, bytes) in &cases {
        for args in commands {
            let _ = std::fs::remove_file(side("-wal"));
            let _ = std::fs::remove_file(side("-shm"));
            std::fs::write(&journal, bytes).unwrap();
            let out = fx.run(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let cmd = args.join(" ");
            if code(&out) != 2 {
                problems.push(format!(
                    "{what}: `{cmd}` exited {} (want 2): {stderr}",
                    code(&out)
                ));
            } else if !stderr.contains(&journal.display().to_string()) {
                problems.push(format!(
                    "{what}: `{cmd}`: the error does not name the journal: {stderr}"
                ));
            }
            if stderr.contains("panicked") {
                problems.push(format!("{what}: `{cmd}` panicked: {stderr}"));
            }
            if &std::fs::read(&journal).unwrap() != bytes {
                problems.push(format!("{what}: `{cmd}` changed the journal file"));
            }
            if side("-wal").exists() && !std::fs::read(side("-wal")).unwrap().is_empty() {
                problems.push(format!(
                    "{what}: `{cmd}` wrote a WAL beside the damaged journal"
                ));
            }
            times += 1;
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {times} runs misbehaved:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(central_tables(&fx), tables_before);

    // A damaged page inside a sound file is only seen by the commands that
    // read it; none of them may write to the file or pass the damage on.
    let mut detected = 0;
    for args in commands {
        let _ = std::fs::remove_file(side("-wal"));
        let _ = std::fs::remove_file(side("-shm"));
        std::fs::write(&journal, &bad_page).unwrap();
        let out = fx.run(args);
        let c = code(&out);
        assert!(
            c == 0 || c == 2,
            "a page overwritten: `{}` exited {c}",
            args.join(" ")
        );
        detected += usize::from(c == 2);
        assert_eq!(
            std::fs::read(&journal).unwrap(),
            bad_page,
            "a page overwritten: `{}` changed the file",
            args.join(" ")
        );
        times += 1;
    }
    assert!(detected > 0, "no command noticed the overwritten page");
    eprintln!(
        "overwritten page: {detected} of {} commands noticed it",
        commands.len()
    );
    reliability(
        "garbage / zeroed / truncated journal file (6 kinds x 7 commands) + one overwritten page",
        times,
        0,
        0,
        &format!(
            "exit 2 naming the file, file byte-identical afterwards; the overwritten page was noticed by {detected} of {} commands (the others do not read it) and never written",
            commands.len()
        ),
    );
}
