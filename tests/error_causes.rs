//! Where a table shows a failure, it shows the cause (`database "x" does
//! not exist`), not the context the driver put before it; the whole message
//! follows under the table, and `--json` keeps it whole. Real servers, real
//! binary: a PostgreSQL and a MySQL connection to databases that do not
//! exist, and a SQLite branch file that is missing.

mod common;

use assert_cmd::Command;
use common::pg::url_with_db;

fn run(config: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("branchsync")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), text)
}

/// The cell of `connection`'s row in a box table.
fn cell_row<'a>(text: &'a str, connection: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with('│') && l.contains(&format!(" {connection} ")))
        .unwrap_or_else(|| panic!("no row of {connection}: {text}"))
}

#[test]
fn status_and_stats_show_the_cause_and_the_whole_message_under_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let pg_db = format!("ux_cause_missing_{pid}");
    let my_db = format!("ux_cause_missing_{pid}");
    let pg_url = url_with_db(&common::pg::server_url(), &pg_db);
    let my_url = {
        let base = common::mysql::server_url();
        let (server, _) = base.rsplit_once('/').unwrap();
        format!("{server}/{my_db}")
    };
    let config = dir.path().join("branchsync.toml");
    std::fs::write(
        &config,
        format!(
            "[journal]\npath = \"journal.db\"\n\n[engine]\nretries = 0\n\n\
             [target]\ndriver = \"sqlite\"\nurl = \"central.db\"\n\n\
             [[connection]]\nname = \"pgsql_lmp\"\ndriver = \"postgres\"\nurl = \"{pg_url}\"\n\n\
             [[connection]]\nname = \"my_shop\"\ndriver = \"mysql\"\nurl = \"{my_url}\"\n\n\
             [[connection]]\nname = \"sqlite_sby\"\ndriver = \"sqlite\"\nurl = \"branches/missing.db\"\n\n\
             [[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"id\"]\nmode = \"full\"\n"
        ),
    )
    .unwrap();
    let (code, _) = run(&config, &["sync-all"]);
    assert_eq!(code, 1);

    let (_, status) = run(&config, &["sync-status", "--failed"]);
    let (_, stats) = run(&config, &["stats"]);
    for (screen, text, heading) in [
        ("sync-status", &status, "Errors in full:"),
        ("stats", &stats, "Last errors in full:"),
    ] {
        let pg = cell_row(text, "pgsql_lmp");
        assert!(
            pg.contains(&format!("database \"{pg_db}\" does not exist")),
            "{screen}: {text}"
        );
        assert!(!pg.contains("connecting"), "{screen}: {text}");
        let my = cell_row(text, "my_shop");
        assert!(
            my.contains(&format!("Unknown database '{my_db}'")),
            "{screen}: {text}"
        );
        assert!(!my.contains("MySqlError"), "{screen}: {text}");
        let lite = cell_row(text, "sqlite_sby");
        assert!(lite.contains("the file does not exist"), "{screen}: {text}");
        // The whole message, context and advice, under the table.
        let (_, full) = text
            .split_once(heading)
            .unwrap_or_else(|| panic!("{screen}: no {heading}: {text}"));
        assert!(
            full.contains("pgsql_lmp / m_product: connecting to") && full.contains("createdb"),
            "{screen}: {full}"
        );
        assert!(
            full.contains("check the database in the url"),
            "{screen}: {full}"
        );
    }

    // --json keeps the message whole.
    let (_, json) = run(&config, &["sync-status", "--json"]);
    assert!(json.contains("pgsql_lmp: connecting to"), "{json}");
}
