//! Later levels read the differing buckets' rows as key ranges through an
//! index on the key: composite keys, fixed-length keys and text keys under
//! a "C" collation, the first and last key included, and a key without an
//! index (each range would be a scan of its own: the slice is scanned once
//! instead). Each mirror must leave an exact slice, and the ranged tables
//! must show index scans at both ends.

use crate::common::pg::TestDb;
use crate::harness::{assert_mirrored, mirror, scans};
use branchsync::driver::mirror::Tuning;

/// Index scans on `table` so far (see [`scans`]).
fn index_scans(db: &TestDb, table: &str, at_least: i64) -> i64 {
    scans(db, "pg_stat_user_indexes", "idx_scan", table, at_least)
}

#[test]
fn differing_buckets_are_read_as_key_ranges_through_the_index() {
    let (src, dst) = (
        TestDb::create("bs_mirror_rng_src"),
        TestDb::create("bs_mirror_rng_dst"),
    );
    src.exec(
        "CREATE TABLE rc (grp int, line int, v text, PRIMARY KEY (grp, line));
         INSERT INTO rc SELECT g / 10, g % 10, 'v' || g FROM generate_series(0, 5999) g;
         CREATE TABLE rt (code text COLLATE \"C\" PRIMARY KEY, v text);
         INSERT INTO rt SELECT 'K-' || lpad(g::text, 6, '0') || CASE WHEN g % 7 = 0 THEN 'ä' ELSE '' END, 'v' || g FROM generate_series(0, 5999) g;
         CREATE TABLE rm (code text COLLATE \"C\", n int, v text, PRIMARY KEY (code, n));
         INSERT INTO rm SELECT 'c' || (g % 300), g, 'v' || g FROM generate_series(0, 5999) g;
         CREATE TABLE ru (id uuid PRIMARY KEY, v text);
         INSERT INTO ru SELECT md5(g::text)::uuid, 'v' || g FROM generate_series(0, 5999) g;
         CREATE TABLE rn (id int, v text);
         INSERT INTO rn SELECT g, 'v' || g FROM generate_series(0, 5999) g;
         ANALYZE",
    );
    let tuning = Tuning {
        factor: 4,
        leaf_rows: 3,
        ..Tuning::default()
    };
    for (table, key, cols, order, insert, indexed) in [
        ("rc", &["grp", "line"][..], "grp, line, v", "grp, line", "(-1, 0, 'new'), (9999, 0, 'new')", true),
        ("rt", &["code"][..], "code, v", "code", "('', 'new'), ('K-003000x', 'new')", true),
        ("rm", &["code", "n"][..], "code, n, v", "code, n", "('c0', -1, 'new'), ('zz', 0, 'new')", true),
        ("ru", &["id"][..], "id, v", "id", "('00000000-0000-0000-0000-000000000000', 'new'), ('ffffffff-ffff-ffff-ffff-ffffffffffff', 'new')", true),
        ("rn", &["id"][..], "id, v", "id", "(-1, 'new'), (6000, 'new')", false),
    ] {
        mirror(&src, &dst, table, key, &tuning).unwrap();
        assert_mirrored(&src, &dst, table, cols, order);
        // Updates, deletes and inserts scattered over the key range, the
        // first and the last key included.
        src.exec(&format!(
            "UPDATE {table} SET v = v || '!' WHERE v IN ('v0', 'v17', 'v2500', 'v5999');
             DELETE FROM {table} WHERE v IN ('v1', 'v3001', 'v5998');
             INSERT INTO {table} VALUES {insert}"
        ));
        let (src_before, dst_before) = (index_scans(&src, table, 0), index_scans(&dst, table, 0));
        let out = mirror(&src, &dst, table, key, &tuning).unwrap();
        assert_mirrored(&src, &dst, table, cols, order);
        assert_eq!(
            (out.processed - out.skipped, out.deleted),
            (6, 3),
            "{table}: {out:?}"
        );
        if indexed {
            // At least one range per differing bucket, at each end.
            let want = 7;
            let s = index_scans(&src, table, src_before + want) - src_before;
            let d = index_scans(&dst, table, dst_before + want) - dst_before;
            assert!(
                s >= want && d >= want,
                "{table}: {s} index scans at the source, {d} at the target"
            );
        }
    }
}

/// In a database created with `LC_COLLATE 'C'` a text key's default
/// collation is byte order: its later levels read key ranges too.
#[test]
fn a_c_database_reads_text_keys_as_ranges() {
    let c = "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'";
    let (src, dst) = (
        TestDb::create_with("bs_mirror_rngc_src", c),
        TestDb::create_with("bs_mirror_rngc_dst", c),
    );
    src.exec(
        "CREATE TABLE rd (code text PRIMARY KEY, v text);
         INSERT INTO rd SELECT 'K-' || lpad(g::text, 6, '0'), 'v' || g FROM generate_series(0, 5999) g;
         ANALYZE",
    );
    let tuning = Tuning {
        factor: 4,
        leaf_rows: 3,
        ..Tuning::default()
    };
    mirror(&src, &dst, "rd", &["code"], &tuning).unwrap();
    src.exec("UPDATE rd SET v = v || '!' WHERE v IN ('v0', 'v17', 'v2500', 'v5999')");
    let before = index_scans(&src, "rd", 0);
    let out = mirror(&src, &dst, "rd", &["code"], &tuning).unwrap();
    assert_mirrored(&src, &dst, "rd", "code, v", "code");
    assert_eq!(out.processed - out.skipped, 4, "{out:?}");
    let scans = index_scans(&src, "rd", before + 4) - before;
    assert!(scans >= 4, "{scans} index scans at the source");
}
