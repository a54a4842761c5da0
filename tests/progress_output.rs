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

/// `-q` is cron's: a run that needs nobody prints nothing at all, a run
/// that failed still says what failed.
#[test]
fn quiet_prints_nothing_on_success_and_the_failures_otherwise() {
    let dir = demo_dir();
    let config = dir.path().join("branchsync.toml");
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("branchsync")
            .unwrap()
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for args in [
        &["-q", "sync-all"][..],
        &["-q", "sync-resume-interrupted"],
        &["-q", "sync-table", "MProduct"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {out}{err}");
        assert_eq!(out, "", "{args:?} printed on stdout");
        assert_eq!(err, "", "{args:?} printed on stderr");
    }
    // A branch file gone: the batch fails, and -q still says so.
    let text = std::fs::read_to_string(&config).unwrap();
    let branch = text
        .lines()
        .find(|l| l.starts_with("url = ") && l.contains("branch"))
        .and_then(|l| l.split('"').nth(1))
        .unwrap()
        .to_owned();
    std::fs::write(&config, text.replacen(&branch, "gone.db", 1)).unwrap();
    let (code, out, _) = run(&["-q", "sync-all"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("failed"), "{out}");
    assert!(out.contains("Resume with: "), "{out}");
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

mod common;
use common::pg::TestDb;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A PostgreSQL branch with one table of `rows` rows (analyzed, so that the
/// source has an estimate) and an empty central, with their config.
struct PgPair {
    dir: tempfile::TempDir,
    _branch: TestDb,
    _central: TestDb,
}

impl PgPair {
    fn new(prefix: &str, rows: i64) -> PgPair {
        let branch = TestDb::create(&format!("{prefix}_b"));
        branch.exec(&format!(
            "CREATE TABLE big (id bigint PRIMARY KEY, name text, amount numeric(12,2));
             INSERT INTO big SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, {rows}) g;
             CREATE VIEW slow AS SELECT g::bigint AS id FROM generate_series(1, 3) g
               CROSS JOIN LATERAL pg_sleep(1);
             ANALYZE big;"
        ));
        let central = TestDb::create(&format!("{prefix}_c"));
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "[journal]\npath = \"{j}\"\n\n[log]\nfile = \"{l}\"\n\n[target]\ndriver = \"postgres\"\nurl = \"{c}\"\n\n\
             [[connection]]\nname = \"pg_src\"\ndriver = \"postgres\"\nurl = \"{b}\"\n\n\
             [[table]]\nmodel = \"Big\"\nsource = \"big\"\nkey = [\"id\"]\nmode = \"full\"\n\n\
             [[table]]\nmodel = \"Slow\"\nsource = \"slow\"\nkey = [\"id\"]\nmode = \"full\"\n",
            j = dir.path().join("journal.db").display(),
            l = dir.path().join("sync.log").display(),
            c = central.url,
            b = branch.url,
        );
        std::fs::write(dir.path().join("branchsync.toml"), config).unwrap();
        PgPair {
            dir,
            _branch: branch,
            _central: central,
        }
    }

    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("branchsync.toml")
    }
}

/// The binary run under a pseudo-terminal (util-linux `script`), its output
/// collected as it comes.
struct Pty {
    child: std::process::Child,
    out: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    /// `None` when `script` is missing.
    fn spawn(args: &str) -> Option<Pty> {
        if StdCommand::new("script").arg("--version").output().is_err() {
            eprintln!("util-linux `script` is not installed: cannot make a pseudo-terminal");
            return None;
        }
        let bin = assert_cmd::cargo::cargo_bin("branchsync");
        let cmdline = format!("stty cols 100; exec {} {args}", bin.display());
        let mut child = StdCommand::new("script")
            .args(["-qec", &cmdline, "/dev/null"])
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Some(Pty { child, out })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits until the output has a line for which `f` holds.
    fn wait_for_line(&self, what: &str, f: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !lines_of(&self.text()).iter().any(|l| f(l)) {
            assert!(Instant::now() < deadline, "no {what}: {}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait(mut self) -> (std::process::ExitStatus, String) {
        let status = self.child.wait().unwrap();
        // The reader thread drains what is left.
        std::thread::sleep(Duration::from_millis(300));
        (status, self.text())
    }
}

/// A bar line of the copy of `big`: rows so far against the estimate, %
/// and ETA.
fn is_big_bar(line: &str) -> bool {
    line.contains("pg_src.big")
        && line.contains("/~")
        && line.contains(" rows")
        && line.contains('%')
        && line.contains("ETA")
        && !line.contains(" 0/~")
}

#[test]
fn a_postgresql_passthrough_bar_shows_rows_percent_and_eta() {
    let pair = PgPair::new("ux_prog_pty", 300_000);
    let args = format!("--config {} sync-all --threads 1", pair.config().display());
    let Some(pty) = Pty::spawn(&args) else {
        return;
    };
    pty.wait_for_line("bar of big with rows, % and ETA", is_big_bar);
    // The overall bar counts rows too (not only tables).
    pty.wait_for_line("overall bar with rows", |l| {
        l.contains("Overall") && l.contains("tables,") && l.contains(" rows")
    });
    let (status, tty) = pty.wait();
    assert!(status.success(), "{tty}");
    assert!(
        tty.contains("  ✓ big from pg_src: 300,000 records"),
        "{tty}"
    );
    // No line of the bars is wider than 80 columns (the terminal has 100;
    // lines are padded to its width).
    for line in lines_of(&tty) {
        let mut starts: Vec<usize> = ["Overall [", "  pg_src."]
            .iter()
            .flat_map(|m| line.match_indices(m).map(|(i, _)| i))
            .collect();
        starts.sort_unstable();
        for (n, at) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(line.len());
            let bar = line[*at..end].trim_end();
            assert!(bar.chars().count() <= 80, "{bar:?} in {tty}");
        }
    }
    assert!(!tty.contains("0/0"), "a bar drawn before its style: {tty}");
    // Once the rows are in, the bar says what the target does meanwhile.
    assert!(
        tty.contains("300,000/~300,000 rows, building indexes…"),
        "{tty}"
    );
}

#[test]
fn ctrl_c_leaves_the_bars_above_the_interrupted_message() {
    let pair = PgPair::new("ux_prog_int", 1_000_000);
    let args = format!("--config {} sync-all --threads 1", pair.config().display());
    let Some(pty) = Pty::spawn(&args) else {
        return;
    };
    pty.wait_for_line("bar of big", is_big_bar);
    let journal = rusqlite::Connection::open(pair.dir.path().join("journal.db")).unwrap();
    let pid: i64 = journal
        .query_row(
            "SELECT pid FROM sync_batches WHERE status = 'running'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    StdCommand::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let (status, tty) = pty.wait();
    assert_eq!(status.code(), Some(130), "{tty}");
    let at = tty
        .find("Interrupted: stopping, rolling back")
        .unwrap_or_else(|| panic!("no interrupt message: {tty}"));
    let after = &tty[at..];
    assert!(
        !after.contains("/~") && !after.contains("Overall ["),
        "bars drawn after the message: {after:?}"
    );
    assert!(after.contains("Cancelled big from pg_src"), "{after}");
}

#[test]
fn without_a_terminal_a_long_copy_logs_a_heartbeat() {
    let pair = PgPair::new("ux_prog_beat", 10);
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(pair.config())
        .args(["sync-all", "--threads", "1", "--tables", "Slow"])
        .env("BRANCHSYNC_HEARTBEAT_SECS", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let beat = stderr
        .lines()
        .find(|l| l.contains("SyncAll: Copying slow from pg_src: "))
        .unwrap_or_else(|| panic!("no heartbeat: {stderr}"));
    assert!(beat.contains("records so far"), "{beat}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    // Off with 0.
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(pair.config())
        .args(["sync-all", "--threads", "1", "--tables", "Slow"])
        .env("BRANCHSYNC_HEARTBEAT_SECS", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("Copying slow"), "{stderr}");
}

/// The lines a terminal shows: split where the text moves the cursor or
/// erases (`\r`, `\n`, any escape sequence but colours), colours removed.
fn lines_of(tty: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut chars = tty.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                let mut end = ' ';
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        end = c;
                        break;
                    }
                }
                if end != 'm' {
                    lines.push(String::new());
                }
            }
            '\r' | '\n' => lines.push(String::new()),
            c => lines.last_mut().unwrap().push(c),
        }
    }
    lines
}
