//! `mode = "mirror"` between real PostgreSQL databases by range checksums:
//! random changes at random key positions (first and last key included),
//! the edge cases (empty source, empty target, everything changed, deletes
//! only), values whose text is easy to get wrong, text and composite keys
//! with collation traps, a failure in the middle (rolled back, then a clean
//! run), and a checksum collision the row comparison must catch.

#[path = "mirror/blocks.rs"]
mod blocks;
#[path = "mirror/cases.rs"]
mod cases;
mod common;
#[path = "mirror/harness.rs"]
mod harness;
#[path = "mirror/ranges.rs"]
mod ranges;
#[path = "mirror/wrappers.rs"]
mod wrappers;

use branchsync::driver::mirror::Tuning;
use common::pg::TestDb;
use harness::{assert_mirrored, deep, mirror};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

const COLS: &str = "id, name, qty, price";

fn create(db: &TestDb) {
    db.exec(
        "DROP TABLE IF EXISTS pm; CREATE TABLE pm (id bigint PRIMARY KEY, name text, qty integer, price numeric(12,2))",
    );
}

fn insert(db: &TestDb, rows: &BTreeMap<i64, (String, i32)>) {
    if rows.is_empty() {
        return;
    }
    let values: Vec<String> = rows
        .iter()
        .map(|(id, (name, qty))| format!("({id}, '{name}', {qty}, {qty}.25)"))
        .collect();
    db.exec(&format!("INSERT INTO pm VALUES {}", values.join(", ")));
}

#[derive(Debug, Clone)]
enum Change {
    Update(usize),
    Delete(usize),
    Insert(i64),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0usize..1000).prop_map(Change::Update),
        (0usize..1000).prop_map(Change::Delete),
        (1i64..2_000_000_000).prop_map(Change::Insert),
    ]
}

/// Random rows (dense and sparse keys), random changes anywhere, the first
/// and the last key touched half of the time, random cuts.
#[test]
fn random_changes_leave_an_equal_slice() {
    let (src, dst) = (
        TestDb::create("bs_mirror_prop_src"),
        TestDb::create("bs_mirror_prop_dst"),
    );
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let strategy = (
        proptest::collection::btree_set(1i64..300, 0..120),
        proptest::collection::btree_set(1i64..4_000_000_000, 0..40),
        proptest::collection::vec(change(), 0..25),
        any::<bool>(),
        2u32..9,
        1u64..6,
    );
    runner
        .run(&strategy, |(dense, sparse, changes, ends, factor, leaf)| {
            one_case(&src, &dst, dense, sparse, changes, ends, factor, leaf)
        })
        .unwrap();
}

#[allow(clippy::too_many_arguments)]
fn one_case(
    src: &TestDb,
    dst: &TestDb,
    dense: BTreeSet<i64>,
    sparse: BTreeSet<i64>,
    changes: Vec<Change>,
    ends: bool,
    factor: u32,
    leaf: u64,
) -> Result<(), TestCaseError> {
    create(src);
    let mut rows: BTreeMap<i64, (String, i32)> = dense
        .iter()
        .chain(&sparse)
        .map(|&id| (id, (format!("n{id}"), (id % 97) as i32)))
        .collect();
    insert(src, &rows);
    dst.exec("DROP TABLE IF EXISTS pm");
    let tuning = Tuning {
        factor,
        leaf_rows: leaf,
        ..Tuning::default()
    };
    let first = mirror(src, dst, "pm", &["id"], &tuning).unwrap();
    prop_assert_eq!(
        (first.processed, first.skipped, first.deleted),
        (rows.len() as u64, 0, 0)
    );
    assert_mirrored(src, dst, "pm", COLS, "id");

    let before = rows.clone();
    let mut changes = changes;
    if ends && !rows.is_empty() {
        changes.push(Change::Update(0));
        changes.push(Change::Delete(rows.len() - 1));
    }
    for c in changes {
        let keys: Vec<i64> = rows.keys().copied().collect();
        match c {
            Change::Update(i) if !keys.is_empty() => {
                let id = keys[i % keys.len()];
                src.exec(&format!(
                    "UPDATE pm SET name = name || 'x', qty = qty + 1, price = price + 1 WHERE id = {id}"
                ));
                let r = rows.get_mut(&id).unwrap();
                r.0.push('x');
                r.1 += 1;
            }
            Change::Delete(i) if !keys.is_empty() => {
                let id = keys[i % keys.len()];
                src.exec(&format!("DELETE FROM pm WHERE id = {id}"));
                rows.remove(&id);
            }
            Change::Insert(id) if !rows.contains_key(&id) => {
                src.exec(&format!("INSERT INTO pm VALUES ({id}, 'new', 1, 1.25)"));
                rows.insert(id, ("new".into(), 1));
            }
            _ => {}
        }
    }
    let want_written = rows
        .iter()
        .filter(|(id, r)| before.get(id) != Some(r))
        .count() as u64;
    let want_deleted = before.keys().filter(|id| !rows.contains_key(id)).count() as u64;
    let second = mirror(src, dst, "pm", &["id"], &tuning).unwrap();
    assert_mirrored(src, dst, "pm", COLS, "id");
    prop_assert_eq!(
        (
            second.processed,
            second.processed - second.skipped,
            second.deleted
        ),
        (rows.len() as u64, want_written, want_deleted)
    );
    // Nothing changed since: nothing written, nothing deleted.
    let third = mirror(src, dst, "pm", &["id"], &deep()).unwrap();
    prop_assert_eq!((third.skipped, third.deleted), (third.processed, 0));
    Ok(())
}
