//! What a `mirror` run journals besides records processed and skipped: rows
//! written, rows deleted, bytes read and written (for a mirror by range
//! checksums, over both links; how close they are to what the links carried
//! is `mirror_links.rs`), and every screen that shows them — `sync-status`, its
//! `--json`, `export` (csv, xlsx) and the dashboard — on real runs of the
//! binary between real PostgreSQL databases. Then a mirror killed in the
//! middle and resumed: the slice equals the branch and the table completed once.

#[path = "mirror_journal/site.rs"]
mod site;

mod common;

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::fixture::code;
use site::{cells, Site};

/// 2,000 rows mirrored, then 8 updated, 5 deleted and 3 inserted at the
/// branch: the second run journals 11 written and 5 deleted.
#[test]
fn mirror_run_journals_written_and_deleted_and_every_screen_shows_them() {
    let site = Site::new("bs_mjs", 2_000);
    site.branch.exec(
        "CREATE TABLE mf (id bigint PRIMARY KEY, v text);
         INSERT INTO mf SELECT g, 'f' || g FROM generate_series(1, 500) g;",
    );
    site.write_config(true, Some("runner-mjs"));
    assert_eq!(code(&site.run(&["sync-all"])), 0);
    site.branch.exec(
        "UPDATE mj SET v = v || 'x' WHERE id % 250 = 0;
         DELETE FROM mj WHERE id % 400 = 7;
         INSERT INTO mj SELECT g, 'new' || g FROM generate_series(5001, 5003) g;",
    );
    assert_eq!(code(&site.run(&["sync-all"])), 0);
    site.assert_slice_equal();
    let id = site.latest_batch();

    // The journal.
    let (processed, skipped, written, deleted, read, sent) = site.journaled(&id, "mj");
    assert_eq!(
        (processed, skipped),
        (1_998, 1_998 - 11),
        "seed meaning kept"
    );
    assert_eq!((written, deleted), (Some(11), Some(5)));
    // Both links' bytes, counted on their sockets: at least the 11 rows
    // sent to the central (as text) and the rows compared read from both.
    let (mj_read, mj_sent) = (
        read.expect("bytes read over both links"),
        sent.expect("bytes written over both links"),
    );
    assert!(
        mj_read > 2 * 11 * 40 && mj_sent > 11 * 40,
        "{read:?} {sent:?}"
    );
    let full = site.journaled(&id, "mf");
    assert_eq!(
        (full.2, full.3),
        (Some(500), Some(0)),
        "a full copy: {full:?}"
    );
    // PostgreSQL to PostgreSQL: the COPY stream passes through the engine,
    // and the central's COPY carries it plus the branch field of every row
    // (an int32 length and the name).
    let (read, sent) = (
        full.4.expect("raw stream bytes"),
        full.5.expect("COPY bytes sent"),
    );
    assert!(read > 500 * 8, "{full:?}");
    assert_eq!(
        sent - read,
        500 * (4 + site::BRANCH.len() as i64),
        "{full:?}"
    );

    // The fleet's copy of the progress row in the central.
    let fleet = site
        .central
        .client()
        .query_one(
            "SELECT rows_written, rows_deleted, bytes_read, bytes_written FROM branchsync.sync_progress
             WHERE runner = 'runner-mjs' AND batch_id = $1 AND table_name = 'mj'",
            &[&id],
        )
        .unwrap();
    let fleet: (Option<i64>, Option<i64>, Option<i64>, Option<i64>) =
        (fleet.get(0), fleet.get(1), fleet.get(2), fleet.get(3));
    assert_eq!(fleet, (Some(11), Some(5), Some(mj_read), Some(mj_sent)));

    // sync-status <id>: the extra columns after the seed's.
    let out = site.run(&["sync-status", &id]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text
        .lines()
        .find(|l| l.contains("Connection") && l.contains("Written"))
        .unwrap_or_else(|| panic!("no progress table: {text}"));
    let names = cells(header);
    let row = text
        .lines()
        .map(cells)
        .find(|c| c.get(1).map(String::as_str) == Some("mj"))
        .unwrap_or_else(|| panic!("no mj row: {text}"));
    let col = |n: &str| {
        let i = names
            .iter()
            .position(|c| c == n)
            .unwrap_or_else(|| panic!("{n}: {names:?}"));
        row[i].as_str()
    };
    assert_eq!(
        (
            col("Records"),
            col("Written"),
            col("Skipped"),
            col("Deleted")
        ),
        ("1,998", "11", "1,987", "5"),
        "{text}"
    );
    assert_eq!(
        (col("Read"), col("Sent")),
        (
            branchsync::report::format::bytes(Some(mj_read)).as_str(),
            branchsync::report::format::bytes(Some(mj_sent)).as_str()
        ),
        "{text}"
    );
    let mf = text
        .lines()
        .map(cells)
        .find(|c| c.get(1).map(String::as_str) == Some("mf"))
        .unwrap();
    let at = |n: &str| mf[names.iter().position(|c| c == n).unwrap()].as_str();
    assert_eq!(
        (at("Written"), at("Deleted"), at("Read"), at("Sent")),
        (
            "500",
            "0",
            branchsync::report::format::bytes(Some(read)).as_str(),
            branchsync::report::format::bytes(Some(sent)).as_str()
        ),
        "{text}"
    );

    // --json: the journal's columns under their names, NULL as null.
    let t = site.status_json(&id, "mj");
    assert_eq!(t["rows_written"], 11);
    assert_eq!(t["rows_deleted"], 5);
    assert_eq!(
        (t["bytes_read"].as_i64(), t["bytes_written"].as_i64()),
        (Some(mj_read), Some(mj_sent)),
        "{t}"
    );

    // export csv: the new columns, empty for NULL.
    let csv_path = site.dir.path().join("b.csv");
    let out = site.run(&[
        "export",
        &id,
        "--format",
        "csv",
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let line: Vec<&str> = csv
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|c| c[2] == "mj")
        .unwrap();
    let at = |n: &str| line[head.iter().position(|c| *c == n).unwrap()];
    assert_eq!(
        (
            at("rows_written"),
            at("rows_deleted"),
            at("bytes_read"),
            at("bytes_written")
        ),
        (
            "11",
            "5",
            mj_read.to_string().as_str(),
            mj_sent.to_string().as_str()
        )
    );

    // export json: as --json.
    let json_path = site.dir.path().join("b.json");
    let out = site.run(&[
        "export",
        &id,
        "--format",
        "json",
        "--output",
        json_path.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let t = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table_name"] == "mj")
        .unwrap();
    assert_eq!(
        (&t["rows_written"], &t["rows_deleted"]),
        (&11.into(), &5.into()),
        "{t}"
    );

    // export xlsx: numbers in the Progress sheet, empty cells for NULL.
    let xlsx_path = site.dir.path().join("b.xlsx");
    let out = site.run(&[
        "export",
        &id,
        "--format",
        "xlsx",
        "--output",
        xlsx_path.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0);
    let mut book: Xlsx<_> = open_workbook(&xlsx_path).unwrap();
    let p = book.worksheet_range("Progress").unwrap();
    let header: Vec<String> = (0..p.width())
        .map(|c| {
            p.get_value((0, c as u32))
                .map(|d| d.to_string())
                .unwrap_or_default()
        })
        .collect();
    let r = (1..p.height() as u32)
        .find(|&r| p.get_value((r, 1)) == Some(&Data::String("mj".into())))
        .unwrap();
    let xcol = |n: &str| header.iter().position(|h| h == n).unwrap() as u32;
    let num = |c: u32| match p.get_value((r, c)) {
        Some(Data::Float(f)) => Some(*f),
        Some(Data::Int(i)) => Some(*i as f64),
        Some(Data::Empty) | None => None,
        other => panic!("{other:?}"),
    };
    assert_eq!(num(xcol("Written")), Some(11.0));
    assert_eq!(num(xcol("Deleted")), Some(5.0));
    assert_eq!(
        (num(xcol("Bytes read")), num(xcol("Bytes written"))),
        (Some(mj_read as f64), Some(mj_sent as f64))
    );

    // The dashboard's batch page.
    let page = site.dashboard_page(&format!("/batches/{id}"));
    let tr = page
        .split("<tr")
        .find(|tr| tr.contains("<td>mj</td>"))
        .unwrap_or_else(|| panic!("no mj row: {page}"));
    for (th, cell) in [
        ("Written", "data-sort=\"11\">11</td>"),
        ("Deleted", "data-sort=\"5\">5</td>"),
    ] {
        assert!(page.contains(&format!(">{th}</th>")), "{th}");
        assert!(tr.contains(cell), "{cell}: {tr}");
    }
    for n in [mj_read, mj_sent] {
        let cell = format!(
            "data-sort=\"{n}\">{}</td>",
            branchsync::report::format::bytes(Some(n))
        );
        assert!(tr.contains(&cell), "{cell}: {tr}");
    }
}

/// ~300k rows changed in scattered places; the binary is SIGKILLed while
/// the mirror's checksum queries run, then the batch is resumed.
#[test]
fn kill_in_the_middle_of_a_mirror_then_resume_gives_an_equal_slice() {
    let site = Site::new("bs_mjk", 300_000);
    site.write_config(false, None);
    assert_eq!(code(&site.run(&["sync-all"])), 0);
    site.assert_slice_equal();
    let mut round = 0;
    let (id, want_written, want_deleted, completed_before) = loop {
        round += 1;
        assert!(round <= 8, "the mirror keeps finishing before the kill");
        let completed_before = site.completions_logged("mj");
        let base = 1_000_000 * round;
        // Scattered updates, deletes and inserts, first and last keys included.
        site.branch.exec(&format!(
            "UPDATE mj SET v = v || 'u' WHERE id % 997 = {round} OR id = (SELECT min(id) FROM mj);
             DELETE FROM mj WHERE id % 1499 = {} OR id = (SELECT max(id) FROM mj);
             INSERT INTO mj SELECT {base} + g, 'i' || g FROM generate_series(1, 150) g;",
            round + 500
        ));
        let (written, deleted) = site.expected_changes();
        assert!(written > 400 && deleted > 150, "{written} {deleted}");
        let mut child = site.spawn(&["sync-all"]);
        let seen = site.wait_for_checksum_query(&mut child);
        if !seen {
            // It finished first: the slice is equal again; change more and retry.
            assert_eq!(child.wait().unwrap().code(), Some(0));
            site.assert_slice_equal();
            continue;
        }
        common::fixture::signal(&child, libc::SIGKILL);
        child.wait().unwrap();
        let id = site.latest_batch();
        if site.progress_status(&id, "mj") == "completed" {
            // The kill landed after the journal's commit: no kill mid-mirror.
            site.assert_slice_equal();
            continue;
        }
        // The target's transaction either committed whole before the kill
        // (the journal had not said so yet) or left nothing: never a part.
        let left = site.expected_changes();
        assert!(
            left == (written, deleted) || left == (0, 0),
            "a partial mirror: {left:?} of {:?} still to do",
            (written, deleted)
        );
        eprintln!("killed during the mirror in round {round}, {left:?} left to do");
        break (id, left.0, left.1, completed_before);
    };
    let out = site.run(&["sync-all", &format!("--resume={id}")]);
    assert_eq!(code(&out), 0);
    site.assert_slice_equal();
    assert_eq!(site.progress_status(&id, "mj"), "completed");
    let (_, _, written, deleted, _, _) = site.journaled(&id, "mj");
    // The killed run's transaction left nothing behind: the resume found
    // every change still to do.
    assert_eq!((written, deleted), (Some(want_written), Some(want_deleted)));
    assert_eq!(
        site.completions_logged("mj"),
        completed_before + 1,
        "the table completed once over the kill and the resume"
    );
}
