//! The named cases of the mirror suite (see `tests/mirror.rs`).

use crate::common::pg::TestDb;
use crate::harness::{assert_mirrored, deep, endpoint, mirror, Rejects};
use crate::wrappers::{Colliding, Dying, Recorder};
use branchsync::driver::checksum::RangeChecksums;
use branchsync::driver::mirror::{reconcile, Tuning};
use branchsync::driver::{ReadRequest, Source};

/// Empty source, empty target, every row changed, deletes only: (name,
/// source rows before, what changes at the source, written, deleted).
#[test]
fn edges_of_the_slice() {
    let cases: &[(&str, &str, &str, u64, u64)] = &[
        (
            "empty source",
            "SELECT g FROM generate_series(1, 50) g",
            "DELETE FROM e",
            0,
            50,
        ),
        (
            "empty target",
            "SELECT g FROM generate_series(1, 0) g",
            "INSERT INTO e SELECT g, 'n' || g FROM generate_series(1, 40) g",
            40,
            0,
        ),
        (
            "all rows changed",
            "SELECT g FROM generate_series(1, 60) g",
            "UPDATE e SET name = name || '!'",
            60,
            0,
        ),
        (
            "deletes only",
            "SELECT g FROM generate_series(1, 60) g",
            "DELETE FROM e WHERE id % 7 = 0 OR id IN (1, 60)",
            0,
            10,
        ),
        (
            "nothing at all",
            "SELECT g FROM generate_series(1, 0) g",
            "SELECT 1",
            0,
            0,
        ),
    ];
    let (src, dst) = (
        TestDb::create("bs_mirror_edge_src"),
        TestDb::create("bs_mirror_edge_dst"),
    );
    for (name, ids, change, written, deleted) in cases {
        src.exec(&format!(
            "DROP TABLE IF EXISTS e; CREATE TABLE e (id int PRIMARY KEY, name text); INSERT INTO e SELECT g, 'n' || g FROM ({ids}) s(g)"
        ));
        dst.exec("DROP TABLE IF EXISTS e");
        mirror(&src, &dst, "e", &["id"], &deep()).unwrap();
        src.exec(change);
        let out = mirror(&src, &dst, "e", &["id"], &deep()).unwrap();
        assert_mirrored(&src, &dst, "e", "id, name", "id");
        assert_eq!(
            (out.processed - out.skipped, out.deleted),
            (*written, *deleted),
            "{name}: {out:?}"
        );
    }
}

/// Values whose text is easy to get wrong: NULL and '', NaN, -0 and 0,
/// timestamps across a DST change with the two servers' sessions in other
/// time zones, bytes, intervals; source and target types that differ.
#[test]
fn awkward_values_compare_by_their_text() {
    let (src, dst) = (
        TestDb::create("bs_mirror_val_src"),
        TestDb::create("bs_mirror_val_dst"),
    );
    src.exec(&format!(
        "ALTER DATABASE \"{}\" SET timezone = 'Europe/Berlin'",
        src.name
    ));
    dst.exec(&format!(
        "ALTER DATABASE \"{}\" SET timezone = 'America/New_York'",
        dst.name
    ));
    src.exec(
        "CREATE TABLE v (id int PRIMARY KEY, t text, f float8, ts timestamptz, b bytea, i interval, n numeric, q int);
         INSERT INTO v VALUES
           (1, NULL, 'NaN', '2026-03-29 00:30:00+00', '\\x00ff', '1 day', 1.50),
           (2, '', 0, '2026-03-29 01:30:00+00', '', '-1 mon', -0.0),
           (3, 'x', '-0', '2026-10-25 00:30:00+00', NULL, NULL, 1e-20),
           (4, 'tab\there', 1e300, '2026-10-25 01:30:00+00', '\\x5c4e', '36 hours', 12345678901234567890.123)",
    );
    mirror(&src, &dst, "v", &["id"], &deep()).unwrap();
    let cols = "id, t, f, ts, b, i, n";
    assert_mirrored(&src, &dst, "v", cols, "id");
    // NULL ↔ '', -0 ↔ 0, an hour across the DST change, numeric scale.
    src.exec(
        "UPDATE v SET t = '' WHERE id = 1; UPDATE v SET t = NULL, f = '-0' WHERE id = 2;
         UPDATE v SET f = 0 WHERE id = 3; UPDATE v SET ts = ts + interval '1 hour' WHERE id = 4;
         UPDATE v SET n = 1.500 WHERE id = 1",
    );
    let out = mirror(&src, &dst, "v", &["id"], &deep()).unwrap();
    assert_mirrored(&src, &dst, "v", cols, "id");
    assert_eq!((out.processed, out.skipped), (4, 0), "{out:?}");
    let again = mirror(&src, &dst, "v", &["id"], &deep()).unwrap();
    assert_eq!(again.skipped, 4, "{again:?}");

    // The target's type differs: compared in the source's type.
    dst.exec("ALTER TABLE v ALTER COLUMN q TYPE bigint");
    src.exec("UPDATE v SET q = 2 WHERE id = 2");
    let out = mirror(&src, &dst, "v", &["id"], &deep()).unwrap();
    assert_eq!(out.processed - out.skipped, 1, "{out:?}");
    // One that cannot be read in the source's type: a clear error.
    dst.exec("ALTER TABLE v ALTER COLUMN b TYPE point USING NULL");
    let err = mirror(&src, &dst, "v", &["id"], &deep()).unwrap_err();
    assert!(
        err.message.contains("\"b\"") && err.message.contains("bytea"),
        "{err}"
    );
}

/// Text keys whose order differs between collations, and composite keys.
#[test]
fn text_and_composite_keys_split_in_byte_order() {
    let (src, dst) = (
        TestDb::create("bs_mirror_key_src"),
        TestDb::create("bs_mirror_key_dst"),
    );
    let traps = [
        "a-b", "ab", "a", "A", "B", "b", "ä", "Ä", "z", "", " ", "a b", "ab-", "ß", "ss", "日本",
        "🚀",
    ];
    let values: Vec<String> = traps
        .iter()
        .enumerate()
        .flat_map(|(i, k)| (0..5).map(move |j| format!("('{k}{j}', {i}, {j}, 'v{i}.{j}')")))
        .collect();
    src.exec(&format!(
        "CREATE TABLE tk (code varchar(20) COLLATE \"de-x-icu\" PRIMARY KEY, grp int, n int, v text);
         INSERT INTO tk VALUES {0};
         CREATE TABLE ck (grp int, code text COLLATE \"en-x-icu\", v text, PRIMARY KEY (grp, code));
         INSERT INTO ck SELECT n, code, v FROM tk",
        values.join(", ")
    ));
    for (table, key, cols, order) in [
        ("tk", &["code"][..], "code, grp, n, v", "code COLLATE \"C\""),
        (
            "ck",
            &["grp", "code"][..],
            "grp, code, v",
            "grp, code COLLATE \"C\"",
        ),
    ] {
        mirror(&src, &dst, table, key, &deep()).unwrap();
        // The target orders the same text in yet another way.
        let ty = if table == "tk" { "varchar(20)" } else { "text" };
        dst.exec(&format!(
            "ALTER TABLE {table} ALTER COLUMN code TYPE {ty} COLLATE \"und-x-icu\""
        ));
        assert_mirrored(&src, &dst, table, cols, order);
        src.exec(&format!(
            "UPDATE {table} SET v = v || '!' WHERE code IN ('a-b0', 'ab1', 'ä2', 'A3', '0', '🚀4');
             DELETE FROM {table} WHERE code IN ('ab0', 'Ä1', 'ss2', '日本3');
             INSERT INTO {table} (grp, code, v) VALUES (99, 'a-c', 'new'), (0, 'aa', 'new')"
        ));
        let out = mirror(&src, &dst, table, key, &deep()).unwrap();
        assert_mirrored(&src, &dst, table, cols, order);
        assert_eq!(
            (out.processed - out.skipped, out.deleted),
            (8, 4),
            "{table}: {out:?}"
        );
    }
}

/// Keys longer than the bucket surrogate keeps, sharing a long prefix:
/// most rows tie with a boundary and take the exact comparison, and
/// buckets still split (text, uuid and composite keys with a text part).
#[test]
fn keys_sharing_a_long_prefix_split_and_mirror() {
    let (src, dst) = (
        TestDb::create("bs_mirror_long_src"),
        TestDb::create("bs_mirror_long_dst"),
    );
    src.exec(
        "CREATE TABLE lk (url text PRIMARY KEY, v text);
         INSERT INTO lk SELECT 'https://shop.example.com/products/category/item-' || g, 'v' || g FROM generate_series(1, 2000) g;
         CREATE TABLE lc (path text, n int, v text, PRIMARY KEY (path, n));
         INSERT INTO lc SELECT '/srv/archive/branch-offices/2026/invoices/' || (g % 40), g, 'v' || g FROM generate_series(1, 2000) g;
         CREATE TABLE ll (k text PRIMARY KEY, v text);
         INSERT INTO ll SELECT CASE g % 3 WHEN 0 THEN repeat('x', 58) WHEN 1 THEN repeat('ä', 30) ELSE 'y' END || g, 'v' || g FROM generate_series(1, 2000) g;
         CREATE TABLE uk (id uuid PRIMARY KEY, v text);
         INSERT INTO uk SELECT md5(g::text)::uuid, 'v' || g FROM generate_series(1, 2000) g",
    );
    let tuning = Tuning {
        factor: 4,
        leaf_rows: 3,
        ..Tuning::default()
    };
    for (table, key, cols, order) in [
        ("lk", &["url"][..], "url, v", "url COLLATE \"C\""),
        (
            "lc",
            &["path", "n"][..],
            "path, n, v",
            "path COLLATE \"C\", n",
        ),
        ("uk", &["id"][..], "id, v", "id"),
        // Keys and boundaries on both sides of the 63 bytes a name keeps,
        // multi-byte characters where it cuts.
        ("ll", &["k"][..], "k, v", "k COLLATE \"C\""),
    ] {
        mirror(&src, &dst, table, key, &tuning).unwrap();
        assert_mirrored(&src, &dst, table, cols, order);
        src.exec(&format!(
            "UPDATE {table} SET v = v || '!' WHERE v IN ('v7', 'v777', 'v1999');
             DELETE FROM {table} WHERE v IN ('v8', 'v1000', 'v2000')"
        ));
        let out = mirror(&src, &dst, table, key, &tuning).unwrap();
        assert_mirrored(&src, &dst, table, cols, order);
        assert_eq!(
            (out.processed - out.skipped, out.deleted),
            (3, 3),
            "{table}: {out:?}"
        );
    }
}

fn source_side<'s>(
    source: &'s mut Box<dyn Source>,
    table: &str,
    columns: &'s [branchsync::driver::Column],
    key: &'s [String],
) -> Box<dyn RangeChecksums + 's> {
    let req = ReadRequest {
        schema: None,
        table,
        columns,
        key,
        since: None,
        range: Default::default(),
    };
    source
        .range_checksums(
            &req,
            branchsync::driver::postgres::ROW_TEXT_HASH,
            &mut Rejects::default(),
        )
        .unwrap()
        .unwrap()
}

/// A failure in the middle rolls the target back; the next run is exact.
#[test]
fn a_failure_midway_rolls_back_and_the_rerun_is_exact() {
    let (src, dst) = (
        TestDb::create("bs_mirror_kill_src"),
        TestDb::create("bs_mirror_kill_dst"),
    );
    src.exec("CREATE TABLE k (id int PRIMARY KEY, v text); INSERT INTO k SELECT g, 'v' || g FROM generate_series(1, 3000) g");
    mirror(&src, &dst, "k", &["id"], &deep()).unwrap();
    src.exec("UPDATE k SET v = v || '!' WHERE id % 100 = 0; DELETE FROM k WHERE id % 333 = 0; INSERT INTO k VALUES (5000, 'new')");
    let before = crate::harness::rows(&dst, "k", "id, v", "id", true);
    for calls in [1, 3, 5] {
        let (s, t) = (
            endpoint(crate::harness::BRANCH, &src),
            endpoint("target", &dst),
        );
        let mut source = s.source().unwrap();
        let schema = source.describe(None, "k").unwrap().unwrap();
        let key = vec!["id".to_owned()];
        let plan = branchsync::driver::WritePlan {
            schema: "public",
            table: "k",
            columns: &schema.columns,
            key: &key,
            mode: branchsync::config::Mode::Mirror,
            cursor: None,
            branch: Some(("branch", crate::harness::BRANCH)),
            partition_by_branch: false,
            key_unique_at_source: true,
        };
        let mut target = t.target().unwrap();
        let mut dying = Dying {
            inner: source_side(&mut source, "k", &schema.columns, &key),
            calls,
        };
        let err = target.mirror(&plan, &mut dying, &deep()).unwrap_err();
        assert!(err.message.contains("link died"), "{err}");
        assert_eq!(
            crate::harness::rows(&dst, "k", "id, v", "id", true),
            before,
            "rolled back after {calls} calls"
        );
    }
    mirror(&src, &dst, "k", &["id"], &deep()).unwrap();
    assert_mirrored(&src, &dst, "k", "id, v", "id");
}

/// Both sides' checksums of small buckets forced equal (a collision in
/// every leaf): the parent still differs, and the row comparison finds the
/// changed row.
#[test]
fn a_checksum_collision_in_the_leaves_is_caught_by_the_rows() {
    let (a, b) = (
        TestDb::create("bs_mirror_coll_a"),
        TestDb::create("bs_mirror_coll_b"),
    );
    for db in [&a, &b] {
        db.exec("CREATE TABLE c (id int PRIMARY KEY, v text); INSERT INTO c SELECT g, 'v' || g FROM generate_series(1, 40) g");
    }
    b.exec("UPDATE c SET v = 'changed' WHERE id = 23");
    let (ea, eb) = (endpoint("a", &a), endpoint("b", &b));
    let (mut sa, mut sb) = (ea.source().unwrap(), eb.source().unwrap());
    let schema = sa.describe(None, "c").unwrap().unwrap();
    let key = vec!["id".to_owned()];
    let tuning = Tuning {
        factor: 4,
        leaf_rows: 12,
        ..Tuning::default()
    };
    let mut source = Colliding {
        inner: source_side(&mut sb, "c", &schema.columns, &key),
        leaf: 12,
    };
    let mut target = Recorder {
        inner: Colliding {
            inner: source_side(&mut sa, "c", &schema.columns, &key),
            leaf: 12,
        },
        upserts: Vec::new(),
    };
    let counts = reconcile(&mut source, &mut target, &tuning).unwrap();
    assert_eq!(target.upserts.len(), 1, "{counts:?}");
    assert_eq!(target.upserts[0][1].as_deref(), Some("changed"));
}
