//! Secrets and file safety: a sentinel password given
//! through `password_env`, through `.pgpass` and even inside a URL must appear
//! in no output, log, journal, report or reject file, on success, on refused
//! and unreachable servers, and on a panic. An unsafe `.pgpass` is refused.
//! The journal, its side files, the lock and the log are created 0600
//! whatever the umask. Sources are read in read-only transactions: a write
//! attempted inside the source session fails.

mod common;

use common::fixture::{code, reliability, wait_until, Fixture};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

const SENTINEL: &str = "Sntl-7Qx2-pw-b3f9e1";

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn occurrences(hay: &[u8], needle: &str) -> usize {
    let n = needle.as_bytes();
    hay.windows(n.len()).filter(|w| *w == n).count()
}

/// Collects everything the tool showed or wrote, to be searched for the sentinel.
#[derive(Default)]
struct Exposure {
    places: Vec<(String, Vec<u8>)>,
    /// Runs of the binary whose output was collected.
    runs: usize,
}

impl Exposure {
    fn output(&mut self, what: &str, out: &Output) {
        self.runs += 1;
        self.places
            .push((format!("{what}: stdout"), out.stdout.clone()));
        self.places
            .push((format!("{what}: stderr"), out.stderr.clone()));
    }

    /// Every file the tool wrote beside its journal (journal, WAL, lock,
    /// log, rejects, reports) and the extra files given.
    fn files(&mut self, fx: &Fixture, extra: &[PathBuf]) {
        let mut all = files_under(&fx.dir.path().join("storage"));
        all.extend(extra.iter().cloned());
        for f in all {
            if let Ok(bytes) = std::fs::read(&f) {
                self.places.push((f.display().to_string(), bytes));
            }
        }
    }

    /// Fails on any occurrence; returns (runs, places searched).
    fn assert_clean(&self) -> (usize, usize) {
        let leaks: Vec<String> = self
            .places
            .iter()
            .filter(|(_, b)| occurrences(b, SENTINEL) > 0)
            .map(|(w, b)| {
                format!(
                    "{w} ({}x): {}",
                    occurrences(b, SENTINEL),
                    String::from_utf8_lossy(b)
                )
            })
            .collect();
        assert!(
            leaks.is_empty(),
            "the password leaked into:\n{}",
            leaks.join("\n---\n")
        );
        (self.runs, self.places.len())
    }
}

fn run_env(fx: &Fixture, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = fx.cmd(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    eprintln!(
        "$ branchsync {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Adds `line` after the `driver = "postgres"` line of every server.
fn add_to_every_server(fx: &Fixture, line: &str) {
    fx.rewrite_config(|s| {
        s.replace(
            "driver = \"postgres\"\n",
            &format!("driver = \"postgres\"\n{line}\n"),
        )
    });
}

/// The commands an operator runs, in the order they would run them.
fn operator_session(fx: &Fixture, env: &[(&str, &str)], seen: &mut Exposure) -> Vec<PathBuf> {
    let runs: &[&[&str]] = &[
        &["sync-all"],
        &["-vv", "sync-all", "--dry-run"],
        &["-vv", "check"],
        &["sync-status", "--latest"],
        &["sync-status", "--all", "--json"],
        &["sync-status", "--failed", "--json"],
        &["export", "--latest"],
        &["stats"],
        &["-vv", "sync-resume-interrupted"],
    ];
    for args in runs {
        let out = run_env(fx, args, env);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("panicked"),
            "{args:?}"
        );
        seen.output(&args.join(" "), &out);
    }
    let json = fx.dir.path().join("report.json");
    let out = run_env(
        fx,
        &[
            "export",
            "--latest",
            "--format",
            "json",
            "--output",
            json.to_str().unwrap(),
        ],
        env,
    );
    seen.output("export --format json", &out);
    vec![json]
}

#[test]
fn password_env_and_url_passwords_appear_nowhere() {
    let mut fx = Fixture::new(1, 300);
    let db0 = fx.branches[0].1.name.clone();
    fx.extra.push((
        "pgsql_down".into(),
        "postgres://root@127.0.0.1:1/nowhere".into(),
    ));
    fx.extra.push((
        "pgsql_norole".into(),
        common::pg::url_with_db(
            &common::pg::server_url().replacen("root@", "bs_nobody_at_all@", 1),
            &db0,
        ),
    ));
    // A password written into a URL (discouraged, but people do it).
    fx.extra.push((
        "pgsql_urlpw".into(),
        format!("postgres://root:{SENTINEL}@127.0.0.1:1/nowhere"),
    ));
    fx.write_config();
    add_to_every_server(&fx, "password_env = \"BS_SENTINEL_PW\"");
    let env = [("BS_SENTINEL_PW", SENTINEL), ("RUST_LOG", "debug")];
    let mut seen = Exposure::default();
    let extra = operator_session(&fx, &env, &mut seen);
    let (batch, status) = fx.latest_batch();
    assert_eq!(
        status, "failed",
        "the unreachable and refused connections fail"
    );
    assert!(fx
        .progress(&batch)
        .iter()
        .any(|r| r.0 == "pgsql_b0" && r.2 == "completed"));

    // A panic: stdout is a full device, so the first println! fails.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = fx
        .cmd(&["-vv", "sync-status", "--all"])
        .env("BS_SENTINEL_PW", SENTINEL)
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    eprintln!(
        "stdout on /dev/full: exit {:?}: {stderr}",
        out.status.code()
    );
    seen.output("sync-status with stdout on /dev/full", &out);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = fx
        .cmd(&["sync-all", "--connection", "pgsql_urlpw"])
        .env("BS_SENTINEL_PW", SENTINEL)
        .stdout(Stdio::from(full))
        .output()
        .unwrap();
    eprintln!(
        "sync-all with stdout on /dev/full: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    seen.output("sync-all with stdout on /dev/full", &out);

    seen.files(&fx, &extra);
    let (runs, places) = seen.assert_clean();
    reliability(
        "sentinel password via password_env and inside a URL (success, unreachable, unknown role, panic on a full stdout); runs of the binary",
        runs,
        0,
        0,
        &format!("0 occurrences in {places} outputs and files (stdout, stderr, log, journal, lock, reports)"),
    );
}

#[test]
fn pgpass_passwords_appear_nowhere_and_an_unsafe_pgpass_is_refused() {
    let mut fx = Fixture::new(1, 200);
    fx.extra.push((
        "pgsql_down".into(),
        "postgres://root@127.0.0.1:1/nowhere".into(),
    ));
    fx.write_config();
    let pgpass = fx.dir.path().join("pgpass");
    std::fs::write(&pgpass, format!("# test\n*:*:*:*:{SENTINEL}\n")).unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let pgpass_s = pgpass.to_str().unwrap().to_owned();
    let env = [("PGPASSFILE", pgpass_s.as_str()), ("RUST_LOG", "debug")];
    let mut seen = Exposure::default();
    let extra = operator_session(&fx, &env, &mut seen);
    assert_eq!(fx.latest_batch().1, "failed", "pgsql_down fails");
    seen.files(&fx, &extra);
    let (runs, places) = seen.assert_clean();

    // Group/world bits: refused, saying which file and how to fix it.
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
    let fx2 = Fixture::new(1, 10);
    fx2.write_config();
    let mut seen2 = Exposure::default();
    for args in [&["sync-all"][..], &["check"][..]] {
        let out = run_env(&fx2, args, &env);
        seen2.output(&args.join(" "), &out);
        assert_ne!(code(&out), 0, "{args:?} with an unsafe .pgpass");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains(&pgpass_s) && all.contains("0600"),
            "{args:?}: {all}"
        );
    }
    let tables: i64 = fx2
        .central
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "a refused .pgpass still connected");
    seen2.files(&fx2, &[]);
    let (runs2, places2) = seen2.assert_clean();
    reliability(
        "sentinel password via .pgpass (PGPASSFILE), success and unreachable; runs of the binary",
        runs,
        0,
        0,
        &format!("0 occurrences in {places} outputs and files"),
    );
    reliability(
        ".pgpass with mode 0644 (sync-all, check)",
        runs2,
        0,
        0,
        &format!("refused naming the file and chmod 0600; nothing connected; 0 occurrences in {places2} outputs and files"),
    );
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn journal_side_files_lock_and_log_are_private_whatever_the_umask() {
    let mut fx = Fixture::new(1, 60_000);
    fx.engine = fx.engine.replace("threads = 2", "threads = 1");
    fx.write_config();
    let mut cmd = fx.cmd(&["sync-all"]);
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = fx.journal_path();
    let side = |s: &str| PathBuf::from(format!("{}{s}", journal.display()));
    // While the run holds the journal open: its WAL and shared memory exist.
    let mut live: Vec<(PathBuf, u32)> = Vec::new();
    wait_until(
        "the journal's WAL, shared memory and lock",
        Duration::from_secs(30),
        || {
            live = [side("-wal"), side("-shm"), side(".lock"), journal.clone()]
                .into_iter()
                .filter_map(|p| {
                    let m = std::fs::metadata(&p).ok()?.permissions().mode() & 0o777;
                    Some((p, m))
                })
                .collect();
            live.len() == 4
        },
    );
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let log = fx.dir.path().join("storage/logs/sync.log");
    for (p, m) in live
        .iter()
        .cloned()
        .chain([(journal.clone(), mode(&journal)), (log.clone(), mode(&log))])
    {
        assert_eq!(m, 0o600, "{} is {m:04o} under umask 0", p.display());
    }
    reliability(
        "file modes under umask 0 (journal, -wal, -shm, lock, log)",
        live.len() + 2,
        0,
        0,
        "all 0600",
    );
}

#[test]
fn a_write_inside_the_source_session_fails() {
    let fx = Fixture::new(1, 50);
    // A view whose every row calls a function that writes: reading it in a
    // writable session would fill audit_log.
    fx.branches[0].1.exec(
        "CREATE TABLE audit_log (at timestamptz DEFAULT now(), what text);
         CREATE FUNCTION log_read() RETURNS integer LANGUAGE plpgsql VOLATILE AS
           $$ BEGIN INSERT INTO audit_log (what) VALUES ('read'); RETURN 1; END $$;
         CREATE VIEW v_product_read AS SELECT m_product_id, name, log_read() AS hits FROM m_product;",
    );
    fx.write_config();
    fx.append_config("[[table]]\nmodel = \"VProductRead\"\nsource = \"v_product_read\"\nkey = [\"m_product_id\"]\nmode = \"full\"\n");
    let out = fx.run(&["sync-all", "--tables", "VProductRead"]);
    assert_eq!(code(&out), 1);
    let (batch, _) = fx.latest_batch();
    let r = &fx.progress(&batch)[0];
    assert_eq!(r.2, "failed", "{r:?}");
    let e = r.7.clone().unwrap_or_default();
    assert!(
        e.contains("read-only transaction") && e.contains("pgsql_b0"),
        "{e}"
    );
    let writes: i64 = fx.branches[0]
        .1
        .client()
        .query_one("SELECT count(*) FROM audit_log", &[])
        .unwrap()
        .get(0);
    assert_eq!(writes, 0, "the source session wrote to the branch");
    reliability(
        "write attempted inside the source session (view calling a writing function)",
        1,
        0,
        0,
        "refused by the read-only transaction, branch unchanged",
    );
}
