//! Bad input through the real binary (the guarantees in the README): a broken or misspelled
//! config, unknown names, bad batch ids, servers that refuse us, schema
//! drift, NULL keys, empty and key-less tables, bytes that are not UTF-8,
//! huge values. Each must give a one-paragraph error that names the thing
//! and the fix, a §2 exit code, and change nothing it should not.

mod common;

#[path = "bad_input/data.rs"]
mod data;
#[path = "bad_input/missing_secret.rs"]
mod missing_secret;
#[path = "bad_input/schema.rs"]
mod schema;

use common::erp::content_hash;
use common::fixture::{code, reliability, Fixture, STEP2_TABLES};
use std::process::Output;

/// The error of `out`: one paragraph (an `error:` line and no blank line
/// inside), returned for further checks.
pub fn one_paragraph(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(
        errors.len(),
        1,
        "want exactly one error paragraph: {stderr}"
    );
    assert!(!stderr.contains("\n\n"), "not one paragraph: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    errors[0].to_owned()
}

/// Tables in the central database's public schema.
pub fn central_tables(fx: &Fixture) -> i64 {
    fx.central
        .client()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0)
}

/// Batches in the journal (0 when there is no journal).
pub fn batches(fx: &Fixture) -> i64 {
    if !fx.journal_path().exists() {
        return 0;
    }
    fx.journal()
        .query_row("SELECT count(*) FROM sync_batches", [], |r| r.get(0))
        .unwrap()
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn config_and_command_line_errors_exit_2_and_change_nothing() {
    let fx = Fixture::new(1, 20);
    fx.write_config();
    let good = std::fs::read_to_string(fx.config_path()).unwrap();
    let file = fx.config_path().display().to_string();
    let mut times = 0;

    // (what, config text, the position and words the error must show)
    let broken: Vec<(&str, String, Vec<String>)> = vec![
        {
            let t = good.replacen("[engine]\n", "[engine\n", 1);
            let at = format!("{file}:{}:", line_of(&t, "[engine"));
            ("malformed TOML (unclosed table header)", t, vec![at])
        },
        {
            let t = good.replacen("threads = 2", "threads = \"2", 1);
            let at = format!("{file}:{}:", line_of(&t, "threads = \"2"));
            ("malformed TOML (unterminated string)", t, vec![at])
        },
        {
            let t = good.replacen("threads = 2\n", "threads = 2\nthraeds = 4\n", 1);
            let at = format!("{file}:{}:", line_of(&t, "thraeds"));
            (
                "unknown key",
                t,
                vec![at, "thraeds".into(), "threads".into()],
            )
        },
        {
            let t = good.replacen("retries = 2", "retries = \"three\"", 1);
            let at = format!("{file}:{}:", line_of(&t, "retries ="));
            ("wrong value type", t, vec![at, "retries".into()])
        },
        {
            let t = good.replacen(
                "retry_backoff = \"100ms\"",
                "retry_backoff = \"2 parsecs\"",
                1,
            );
            let at = format!("{file}:{}:", line_of(&t, "parsecs"));
            ("bad duration", t, vec![at, "parsecs".into()])
        },
        {
            let t = good.replacen(
                "key = [\"m_product_id\"]\nmode = \"upsert\"",
                "mode = \"upsert\"",
                1,
            );
            assert_ne!(t, good);
            (
                "upsert table without a key",
                t,
                vec!["MProduct".into(), "key".into()],
            )
        },
    ];
    for (what, text, must) in &broken {
        std::fs::write(fx.config_path(), text).unwrap();
        for args in [&["sync-all"][..], &["check"][..]] {
            let out = fx.run(args);
            assert_eq!(code(&out), 2, "{what}: {}", args.join(" "));
            let err = one_paragraph(&out);
            for m in must {
                assert!(
                    err.contains(m.as_str()),
                    "{what}: the error lacks {m:?}: {err}"
                );
            }
            times += 1;
        }
    }
    std::fs::write(fx.config_path(), &good).unwrap();

    // Unknown names and batch ids, with a good config.
    let bad_args: &[(&str, &[&str], &str)] = &[
        (
            "unknown --connection",
            &["sync-all", "--connection", "pgsql_nope"],
            "pgsql_nope",
        ),
        (
            "unknown --tables",
            &["sync-all", "--tables", "MNothing,m_product"],
            "MNothing",
        ),
        (
            "unknown model for sync-table",
            &["sync-table", "MNothing"],
            "MNothing",
        ),
        (
            "unknown --connection for sync-table",
            &["sync-table", "MProduct", "--connection", "pgsql_nope"],
            "pgsql_nope",
        ),
        (
            "--resume of an unknown batch",
            &["sync-all", "--resume", "sync_20200101000000_nothere1"],
            "sync_20200101000000_nothere1",
        ),
        (
            "--resume of a malformed batch id",
            &["sync-all", "--resume", "x'; DROP TABLE sync_batches;--"],
            "DROP TABLE",
        ),
        ("--threads 0", &["sync-all", "--threads", "0"], "--threads"),
    ];
    for (what, args, names) in bad_args {
        let out = fx.run(args);
        assert_eq!(code(&out), 2, "{what}");
        let err = one_paragraph(&out);
        assert!(
            err.contains(names),
            "{what}: the error does not name {names:?}: {err}"
        );
        times += 1;
    }
    assert_eq!(
        central_tables(&fx),
        0,
        "an error before anything ran changed the target"
    );
    assert_eq!(
        batches(&fx),
        0,
        "an error before anything ran wrote a batch"
    );

    // Resuming a completed batch says so, exits 0 and touches nothing.
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 0);
    let (batch, _) = fx.latest_batch();
    let before_rows = fx.progress(&batch);
    let mut central = fx.central.client();
    let before: Vec<_> = STEP2_TABLES
        .iter()
        .map(|t| content_hash(&mut central, t, Some("pgsql_b0")))
        .collect();
    let out = fx.run(&["sync-all", "--resume", &batch]);
    assert_eq!(code(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("already completed"));
    assert_eq!(fx.progress(&batch), before_rows);
    let after: Vec<_> = STEP2_TABLES
        .iter()
        .map(|t| content_hash(&mut central, t, Some("pgsql_b0")))
        .collect();
    assert_eq!(before, after);
    assert_eq!(batches(&fx), 1);
    reliability(
        "bad config (malformed TOML x2, unknown key, wrong type, bad duration, upsert without key) x {sync-all, check}; unknown names, bad batch ids, --threads 0",
        times,
        0,
        0,
        "exit 2, one-paragraph error with file:line:col or the name; no batch, target untouched",
    );
    reliability(
        "--resume of a completed batch",
        1,
        0,
        0,
        "exit 0, \"already completed\", nothing touched",
    );
}

/// How the local server authenticates `role` on TCP from 127.0.0.1: the
/// method of the first pg_hba rule that matches.
fn local_auth_method(role: &str) -> String {
    let mut c = postgres::Client::connect(&common::pg::server_url(), postgres::NoTls).unwrap();
    c.query_opt(
        "SELECT auth_method FROM pg_hba_file_rules
         WHERE type IN ('host', 'hostnossl') AND error IS NULL
           AND ('all' = ANY(user_name) OR $1 = ANY(user_name))
           AND (address IN ('all', 'samehost', 'samenet')
                OR (netmask IS NOT NULL AND family(address::inet) = 4
                    AND '127.0.0.1'::inet & netmask::inet = address::inet & netmask::inet))
         ORDER BY line_number LIMIT 1",
        &[&role],
    )
    .unwrap_or_else(|e| panic!("reading pg_hba_file_rules: {e}"))
    .map(|r| r.get(0))
    .unwrap_or_else(|| "reject".into())
}

#[test]
fn refused_and_unreachable_servers_fail_their_tables_clearly() {
    let mut fx = Fixture::new(1, 300);
    let db0 = fx.branches[0].1.name.clone();
    let base = common::pg::server_url();
    let pid = std::process::id();
    // (connection, url, expected retry_count, words the error must hold)
    let mut cases: Vec<(String, String, i64, Vec<String>)> = vec![
        (
            "pgsql_refused".into(),
            "postgres://root@127.0.0.1:1/nowhere".into(),
            2,
            vec!["pgsql_refused".into(), "reachable".into()],
        ),
        (
            "pgsql_nohost".into(),
            "postgres://root@no-such-host.invalid:5432/erp".into(),
            2,
            vec!["pgsql_nohost".into(), "lookup".into(), "reachable".into()],
        ),
        (
            "pgsql_norole".into(),
            common::pg::url_with_db(
                &base.replacen("root@", &format!("bs_norole_{pid}@"), 1),
                &db0,
            ),
            0,
            vec![
                "pgsql_norole".into(),
                format!("bs_norole_{pid}"),
                "user".into(),
            ],
        ),
        (
            "pgsql_nodb".into(),
            common::pg::url_with_db(&base, &format!("bs_nodb_{pid}")),
            0,
            vec!["pgsql_nodb".into(), format!("bs_nodb_{pid}")],
        ),
    ];
    // A wrong password can only be refused by a server that asks for one.
    let role = format!("bs_pw_{pid}");
    let auth = local_auth_method(&role);
    let password_checked = matches!(auth.as_str(), "scram-sha-256" | "md5" | "password");
    if password_checked {
        let mut admin = fx.central.client();
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'right-{pid}'"
            ))
            .unwrap();
        cases.push((
            "pgsql_wrongpw".into(),
            common::pg::url_with_db(&base.replacen("root@", &format!("{role}@"), 1), &db0),
            0,
            vec!["pgsql_wrongpw".into(), "password".into()],
        ));
    } else {
        eprintln!("the local server trusts 127.0.0.1 ({auth}): a wrong password cannot be refused; testing a missing role and database instead");
    }
    for (name, url, _, _) in &cases {
        fx.extra.push((name.clone(), url.clone()));
    }
    fx.write_config();
    if password_checked {
        fx.rewrite_config(|s| {
            s.replace(
                "name = \"pgsql_wrongpw\"\ndriver = \"postgres\"\n",
                "name = \"pgsql_wrongpw\"\ndriver = \"postgres\"\npassword_env = \"BS_WRONG_PW\"\n",
            )
        });
    }
    let out = fx
        .cmd(&["sync-all"])
        .env("BS_WRONG_PW", "not-the-password")
        .output()
        .unwrap();
    eprintln!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if password_checked {
        let _ = fx
            .central
            .client()
            .batch_execute(&format!("DROP ROLE IF EXISTS {role}"));
    }
    assert_eq!(code(&out), 1, "a batch with failed tables exits 1");
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "failed");
    let rows = fx.progress(&batch);
    for (name, _, retries, words) in &cases {
        let mine: Vec<_> = rows.iter().filter(|r| &r.0 == name).collect();
        assert_eq!(mine.len(), 3, "{name}");
        for r in mine {
            assert_eq!(r.2, "failed", "{r:?}");
            assert_eq!(r.6, *retries, "{name}: retry_count ({r:?})");
            let e = r.7.clone().unwrap_or_default();
            for w in words {
                assert!(e.contains(w.as_str()), "{name}: the error lacks {w:?}: {e}");
            }
        }
    }
    // The healthy branch is whole; nothing of the failed ones reached the target.
    fx.assert_consolidated();
    assert_eq!(fx.lost_and_duplicated(), (0, 0));
    let mut central = fx.central.client();
    for t in STEP2_TABLES {
        let n: i64 = central
            .query_one(
                &format!("SELECT count(*) FROM {t} WHERE branch <> 'pgsql_b0'"),
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 0, "{t}");
    }
    let kinds = if password_checked {
        "refused port, unknown host, unknown role, unknown database, wrong password"
    } else {
        "refused port, unknown host, unknown role, unknown database (wrong password impossible: pg_hba trusts 127.0.0.1)"
    };
    reliability(
        &format!("servers that refuse us: {kinds}"),
        cases.len(),
        0,
        0,
        "their tables failed (network errors retried, auth/database not), exit 1; the healthy branch completed",
    );
}
