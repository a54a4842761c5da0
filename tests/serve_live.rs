//! The dashboard's live figures: while a real sync copies a table, its row
//! in the batch page shows the rows so far and the rate (from the run's live
//! side file), not `N/A`; at the end the file is gone and the journal's
//! final count is shown. Real binary, real PostgreSQL source (a view that
//! yields its rows slowly), real SQLite target and journal.

mod common;

use common::fixture::wait_until;
use common::pg::TestDb;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw
}

/// The `<tr>` of `table` in a batch page.
fn row_of<'a>(page: &'a str, table: &str) -> Option<&'a str> {
    let at = page.find(&format!("<td>{table}</td>"))?;
    let start = page[..at].rfind("<tr")?;
    let end = at + page[at..].find("</tr>")?;
    Some(&page[start..end])
}

#[test]
fn a_table_being_copied_shows_its_rows_so_far_and_rate() {
    let branch = TestDb::create("bs_live_branch");
    // 12,000 rows at about 1 ms each (pg_sleep's own cost): the copy takes several seconds.
    branch.exec(
        "CREATE VIEW slow_lines AS
         SELECT g AS id, 'line ' || g AS note FROM generate_series(1, 12000) g
         WHERE pg_sleep(0.0003) IS NOT NULL",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("branchsync.toml");
    std::fs::write(
        &config,
        format!(
            "[journal]\npath = \"storage/journal.db\"\nmirror = false\n\n[target]\ndriver = \"sqlite\"\nurl = \"central.db\"\n\n\
             [[connection]]\nname = \"pgsql_slow\"\ndriver = \"postgres\"\nurl = \"{}\"\n\n\
             [[table]]\nmodel = \"SlowLine\"\nsource = \"slow_lines\"\nkey = [\"id\"]\nmode = \"upsert\"\n",
            branch.url
        ),
    )
    .unwrap();
    let bin = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_branchsync"));
        c.arg("--config").arg(&config).env_remove("RUST_LOG");
        c
    };
    let mut sync = bin()
        .args(["-q", "sync-all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let live_dir = dir.path().join("storage/live");
    wait_until("the live figures file", Duration::from_secs(20), || {
        std::fs::read_dir(&live_dir).is_ok_and(|mut d| d.next().is_some())
    });

    let mut serve = bin()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .unwrap()
        .trim_end_matches('/')
        .to_owned();

    let mut seen = None;
    wait_until("rows so far on the page", Duration::from_secs(30), || {
        let page = get(&addr, "/batches/latest");
        let Some(row) = row_of(&page, "slow_lines") else {
            return false;
        };
        if row.contains("so far") && row.contains("rows/s") && !row.contains(">0 so far") {
            seen = Some(row.to_owned());
            return true;
        }
        false
    });
    let row = seen.unwrap();
    assert!(row.contains("in_progress"), "{row}");
    assert!(!row.contains("N/A"), "{row}");
    let so_far: i64 = row
        .split("<td class=\"num\" data-sort=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count in {row}"));
    assert!(so_far > 0 && so_far < 12000, "{so_far}: {row}");

    assert!(sync.wait().unwrap().success());
    let page = get(&addr, "/batches/latest");
    let row = row_of(&page, "slow_lines").unwrap().to_owned();
    assert!(row.contains(">12,000</td>"), "{row}");
    assert!(!row.contains("so far"), "{row}");
    assert!(
        std::fs::read_dir(&live_dir).unwrap().next().is_none(),
        "the live file is removed at the batch's end"
    );
    let _ = serve.kill();
    let _ = serve.wait();
}
