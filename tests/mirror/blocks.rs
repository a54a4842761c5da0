//! Where no index serves key ranges (a text key under the database's own
//! collation, a key with no index at all), later levels read only the heap
//! blocks that held the differing buckets' rows, plus the table's tail,
//! by TID range scans. Updated rows move (to the tail, or to free space
//! elsewhere), new keys land in the tail, and a table stored in no key
//! order at all falls back to scanning: every mirror must leave an exact
//! slice, and the ordered tables must show one scan of the slice per side.

use crate::common::pg::TestDb;
use crate::harness::{assert_mirrored, mirror, scans};
use branchsync::driver::mirror::Tuning;
use std::time::Duration;

/// Sequential scans of `table` so far (see [`scans`]). TID range scans
/// and sampling are not counted.
fn seq_scans(db: &TestDb, table: &str, at_least: i64) -> i64 {
    scans(db, "pg_stat_user_tables", "seq_scan", table, at_least)
}

#[test]
fn later_levels_read_the_differing_buckets_blocks() {
    let (src, dst) = (
        TestDb::create("bs_mirror_blk_src"),
        TestDb::create("bs_mirror_blk_dst"),
    );
    // bt: text under the database's collation, stored in key order;
    // bn: an integer key with no index, in key order;
    // bc: a text key under "C" at the branch (read by ranges there), not
    // at the central (read by blocks there);
    // bx: a text key stored in no order (every bucket spans the table).
    src.exec(
        "CREATE TABLE bt (code text PRIMARY KEY, v text);
         INSERT INTO bt SELECT 'K-' || lpad(g::text, 6, '0') || CASE WHEN g % 7 = 0 THEN 'ä' ELSE '' END, 'v' || g FROM generate_series(0, 19999) g;
         CREATE TABLE bn (id int, v text);
         INSERT INTO bn SELECT g, 'v' || g FROM generate_series(0, 19999) g;
         CREATE TABLE bc (code text COLLATE \"C\" PRIMARY KEY, v text);
         INSERT INTO bc SELECT 'K-' || lpad(g::text, 6, '0'), 'v' || g FROM generate_series(0, 19999) g;
         CREATE TABLE bx (code text PRIMARY KEY, v text);
         INSERT INTO bx SELECT md5(g::text), 'v' || g FROM generate_series(0, 19999) g;
         ANALYZE",
    );
    let tuning = Tuning {
        factor: 4,
        leaf_rows: 3,
        ..Tuning::default()
    };
    // The source's scans of the slice when later levels read by blocks:
    // the first level's, and for a key no index answers, the look for NULL
    // keys and the key's span before it (the first level's boundaries are
    // sampled, which reads blocks but is not a scan).
    for (table, key, cols, insert, scans) in [
        (
            "bt",
            "code",
            "code, v",
            "('', 'new'), ('K-010000x', 'new'), ('zz', 'new')",
            Some(1),
        ),
        ("bn", "id", "id, v", "(-1, 'new'), (20000, 'new')", Some(3)),
        (
            "bc",
            "code",
            "code, v",
            "('', 'new'), ('K-010000x', 'new'), ('zz', 'new')",
            Some(1),
        ),
        (
            "bx",
            "code",
            "code, v",
            "('', 'new'), ('8', 'new'), ('zz', 'new')",
            None,
        ),
    ] {
        mirror(&src, &dst, table, &[key], &tuning).unwrap();
        assert_mirrored(&src, &dst, table, cols, key);
        // Updated rows move out of their pages, to the tail. In the second
        // round, rows are updated and new keys (the first and the last among
        // them) inserted into the space the first round's deletes and a
        // vacuum left behind.
        for round in 0..2 {
            let inserts = if round == 1 {
                format!("INSERT INTO {table} VALUES {insert};")
            } else {
                String::new()
            };
            let r = 2 * round;
            src.exec(&format!(
                "UPDATE {table} SET v = v || '!' WHERE v IN ('v{}', 'v{}', 'v{}', 'v{}', 'v{}');
                 DELETE FROM {table} WHERE v IN ('v{}', 'v{}', 'v{}');
                 {inserts}",
                r,
                17 + r,
                9000 + r,
                12000 + r,
                19999 - r,
                1 + r,
                5000 + r,
                19998 - r,
            ));
            src.exec(&format!("VACUUM {table}"));
            let (s0, d0) = (seq_scans(&src, table, 0), seq_scans(&dst, table, 0));
            let out = mirror(&src, &dst, table, &[key], &tuning).unwrap();
            let written = if round == 0 {
                5
            } else {
                5 + insert.matches("'new'").count() as u64
            };
            assert_eq!(
                (out.processed - out.skipped, out.deleted),
                (written, 3),
                "{table}, round {round}: {out:?}"
            );
            // The source's first level is a scan; once it is counted, the
            // target's session (closed at the same time) has reported too.
            let s = seq_scans(&src, table, s0 + 1) - s0;
            std::thread::sleep(Duration::from_millis(300));
            let d = seq_scans(&dst, table, d0) - d0;
            assert_mirrored(&src, &dst, table, cols, key);
            if let Some(scans) = scans {
                // At the target, the first level's scan at most (an index
                // on the branch may serve it). Every later read is by blocks.
                assert!(
                    s <= scans && d <= 1,
                    "{table}, round {round}: {s} scans at the source, {d} at the target"
                );
            } else {
                // The first level's scan, and at least one more: the rows
                // compared are read by a scan, as no blocks serve them.
                assert!(
                    s >= 2,
                    "{table}, round {round}: {s} scans at the source; every bucket spans the table"
                );
            }
        }
        // Nothing changed: every first-level bucket's checksum agrees,
        // whether a side answered where its rows lie or not (bc's branch
        // reads by ranges and answers none). Comparing 20,000 rows would
        // read well over a megabyte.
        let out = mirror(&src, &dst, table, &[key], &tuning).unwrap();
        assert_eq!(
            (out.processed - out.skipped, out.deleted),
            (0, 0),
            "{table}"
        );
        let read = out.link.expect("TCP links are counted").read;
        assert!(
            read < 300_000,
            "{table}: {read} bytes read for an unchanged slice"
        );
    }
}
