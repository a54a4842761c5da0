//! Step 8 of the conformance story: `mirror`. The slice becomes exactly the
//! branch's table (inserts, updates, deletes at the first and the last key),
//! the other branch's slice is untouched, and a second run finds nothing to
//! write. PostgreSQL pairs reconcile by range checksums, the others by the
//! streaming merge; the outcome must be the same.

use super::content::{assert_slice_equals_source, target_rows};
use super::data::{self, MIRROR, ROWS};
use super::world::{World, BRANCHES};

pub fn mirror(w: &World, pair: &str) {
    for (i, (_, db)) in w.branches.iter().enumerate() {
        db.create_table(MIRROR, true, &data::rows(1..=ROWS, i as i64 + 30));
    }
    // Into an empty target: every row is written.
    let batch = w.sync("CMirror", 0);
    for b in BRANCHES {
        assert_slice_equals_source(w, pair, b, MIRROR);
        let p = w.row(&batch, b, MIRROR);
        assert_eq!(
            (p.status.as_str(), p.processed, p.skipped),
            ("completed", ROWS, 0),
            "[{pair}] {p:?}"
        );
    }
    let a = w.branch("br_a");
    a.exec(&format!(
        "DELETE FROM c_mirror WHERE c_mirror_id IN (1, 7, {ROWS});
         UPDATE c_mirror SET name = name || ' — mirrored ✓', flag = NOT flag WHERE c_mirror_id IN (2, 12);
         UPDATE c_mirror SET note = NULL WHERE c_mirror_id = 3;
         UPDATE c_mirror SET note = '' WHERE c_mirror_id = 4;"
    ));
    a.insert(MIRROR, &data::rows(ROWS + 5..=ROWS + 6, 31));
    let cols = w.branch("br_b").columns(MIRROR).unwrap();
    let before_b = target_rows(w, "br_b", MIRROR, &cols);
    let batch = w.sync("CMirror", 0);
    let rows = assert_slice_equals_source(w, pair, "br_a", MIRROR);
    assert_eq!(
        rows.len() as i64,
        ROWS - 3 + 2,
        "[{pair}] c_mirror from br_a"
    );
    assert_eq!(
        target_rows(w, "br_b", MIRROR, &cols),
        before_b,
        "[{pair}] br_b's slice was touched"
    );
    let p = w.row(&batch, "br_a", MIRROR);
    assert_eq!(
        (p.status.as_str(), p.processed, p.skipped),
        ("completed", ROWS - 1, ROWS - 1 - 6),
        "[{pair}] br_a: 4 changed and 2 new rows, the rest unchanged: {p:?}"
    );
    // Nothing changed since: nothing is written.
    let batch = w.sync("CMirror", 0);
    for b in BRANCHES {
        assert_slice_equals_source(w, pair, b, MIRROR);
        let p = w.row(&batch, b, MIRROR);
        assert_eq!(p.processed, p.skipped, "[{pair}] unchanged {b}: {p:?}");
    }
}
