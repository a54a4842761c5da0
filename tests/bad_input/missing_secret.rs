//! A branch that cannot be logged into: its `password_env` names a variable
//! cron does not set (a PostgreSQL and a MySQL branch), or the MariaDB
//! server refuses its password. Its tables fail with the cause in the
//! journal, the other branches complete, the batch exits 1, and the cause
//! is printed once. A missing secret of the target still stops everything
//! before a batch is created (exit 2).

use super::common::fixture::{code, Fixture};
use super::common::mysql::MyDb;
use mysql::prelude::Queryable;
use std::process::Output;

fn occurrences(hay: &[u8], needle: &str) -> usize {
    String::from_utf8_lossy(hay).matches(needle).count()
}

fn run_in(fx: &Fixture, home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = fx.cmd(args);
    // No ~/.pgpass or ~/.my.cnf of the machine's user can stand in.
    cmd.env("HOME", home).env_remove("PGPASSFILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Fixture::output(cmd, args)
}

#[test]
fn a_missing_secret_fails_only_its_branch_with_the_cause_in_the_journal() {
    let pid = std::process::id();
    let (pg_var, my_var) = (format!("BS_NO_PG_PW_{pid}"), format!("BS_NO_MY_PW_{pid}"));
    let my = MyDb::create("bs_missing_secret");
    let mut fx = Fixture::new(2, 200);
    let pg_url = fx.branches[1].1.url.clone();
    fx.extra.push(("pgsql_nopw".into(), pg_url));
    fx.write_config();
    fx.append_config(&format!(
        "\n[[connection]]\nname = \"my_nopw\"\ndriver = \"mysql\"\nurl = \"{}\"\npassword_env = \"{my_var}\"\n",
        my.url
    ));
    fx.rewrite_config(|s| {
        s.replace(
            "name = \"pgsql_nopw\"\ndriver = \"postgres\"\n",
            &format!("name = \"pgsql_nopw\"\ndriver = \"postgres\"\npassword_env = \"{pg_var}\"\n"),
        )
    });
    let home = tempfile::tempdir().unwrap();
    let out = run_in(&fx, home.path(), &["sync-all"], &[]);
    assert_eq!(code(&out), 1, "failed tables: exit 1");
    // Printed once: not twice on one line, not once per table.
    for var in [&pg_var, &my_var] {
        let said = format!("{var} is not set");
        assert_eq!(occurrences(&out.stderr, &said), 1, "stderr: {var}");
        assert_eq!(occurrences(&out.stdout, &said), 1, "stdout: {var}");
    }
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "failed");
    let rows = fx.progress(&batch);
    for (conn, var) in [("pgsql_nopw", &pg_var), ("my_nopw", &my_var)] {
        let mine: Vec<_> = rows.iter().filter(|r| r.0 == conn).collect();
        assert_eq!(mine.len(), 3, "{conn}: {rows:?}");
        for r in mine {
            assert_eq!(r.2, "failed", "{r:?}");
            assert_eq!(r.6, 0, "a missing secret is not retried: {r:?}");
            let e = r.7.clone().unwrap_or_default();
            assert!(e.contains(conn) && e.contains(var.as_str()), "{e}");
        }
    }
    assert!(rows
        .iter()
        .filter(|r| r.0.starts_with("pgsql_b"))
        .all(|r| r.2 == "completed"));
    fx.assert_consolidated();

    let out = run_in(
        &fx,
        home.path(),
        &["sync-status", "--latest", "--failed"],
        &[],
    );
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Failed: 6 tables"), "{text}");
    assert!(!text.contains("No failed tables"), "{text}");
    for var in [&pg_var, &my_var] {
        assert!(text.contains(&format!("{var} is not set")), "{text}");
    }
    let out = run_in(
        &fx,
        home.path(),
        &["sync-status", "--latest", "--failed", "--json"],
        &[],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables = json["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 6, "{json}");
    assert!(tables.iter().all(|t| t["error_message"]
        .as_str()
        .is_some_and(|e| e.contains("is not set"))));

    // Cron's hourly run goes on past this batch and exits 1, not 2.
    let out = run_in(&fx, home.path(), &["sync-resume-interrupted"], &[]);
    assert_eq!(code(&out), 1);

    // A missing secret of the target stops the command before a batch is made.
    let batches_before = super::batches(&fx);
    fx.rewrite_config(|s| {
        s.replacen(
            "branch_column = \"branch\"",
            &format!("branch_column = \"branch\"\npassword_env = \"{pg_var}\""),
            1,
        )
    });
    let out = run_in(&fx, home.path(), &["sync-all"], &[]);
    assert_eq!(code(&out), 2);
    let err = super::one_paragraph(&out);
    assert_eq!(
        err.matches(&format!("{pg_var} is not set")).count(),
        1,
        "{err}"
    );
    assert_eq!(
        super::batches(&fx),
        batches_before,
        "no batch for a broken target"
    );
}

#[test]
fn a_refused_mariadb_login_says_so_in_words_and_is_not_retried() {
    let my = MyDb::create("bs_refused_login");
    let user = format!("bs_login_{}", std::process::id());
    let mut admin = MyDb::admin();
    admin
        .query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"))
        .unwrap();
    admin
        .query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right-pw'"))
        .unwrap();
    let url = my.url.replacen("://root@", &format!("://{user}@"), 1);
    let var = format!("BS_MY_PW_{}", std::process::id());
    let fx = Fixture::new(1, 100);
    fx.write_config();
    fx.append_config(&format!(
        "\n[[connection]]\nname = \"my_refused\"\ndriver = \"mysql\"\nurl = \"{url}\"\npassword_env = \"{var}\"\n"
    ));
    let home = tempfile::tempdir().unwrap();
    let wrong = [(var.as_str(), "wrong-pw")];
    for args in [&["check"][..], &["sync-all"]] {
        let out = run_in(&fx, home.path(), args, &wrong);
        assert_eq!(code(&out), 1, "{args:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("MySqlError"), "{all}");
        assert!(!all.contains("wrong-pw"), "{all}");
        let line = all
            .lines()
            .find(|l| l.contains("my_refused") && l.contains("refused the login"))
            .unwrap_or_else(|| panic!("no refused-login line: {all}"));
        assert!(line.contains("password_env"), "{line}");
        assert!(!line.contains("unreachable"), "{line}");
        assert!(
            !all.contains("retry"),
            "a refused login is not retried: {all}"
        );
    }
    let (batch, _) = fx.latest_batch();
    for r in fx.progress(&batch).iter().filter(|r| r.0 == "my_refused") {
        assert_eq!((r.2.as_str(), r.6), ("failed", 0), "{r:?}");
    }
    let _ = admin.query_drop(format!("DROP USER IF EXISTS '{user}'@'%'"));
}
