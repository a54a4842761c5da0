//! Steps 1–4 of the conformance story: create, full, upsert, incremental.
//! Each step changes the branches, runs the real binary and compares every
//! branch's source table with its slice of the central table.

use super::content::{assert_slice_equals_source, target_rows};
use super::data::{self, DEAL, EVENT, ITEM, ROWS};
use super::world::{World, BRANCHES};

/// The target's own description of `table` (through the library, as the
/// engine sees it).
pub fn target_schema(w: &World, table: &str) -> branchsync::driver::TableSchema {
    let server = branchsync::config::ServerConfig {
        name: "central".into(),
        driver: w.central.driver().into(),
        url: w.central.url(),
        password_env: None,
        sslmode: None,
        sslrootcert: None,
        pool_size: None,
        schema: None,
        branch_column: None,
        partitions: None,
    };
    let engine = branchsync::config::EngineConfig::default();
    let endpoint = branchsync::driver::open_endpoint(&server, &engine, 1).unwrap();
    let mut source = endpoint.source().unwrap();
    source
        .describe(None, table)
        .unwrap()
        .unwrap_or_else(|| panic!("{table} is missing at the target"))
}

/// Step 1, create: two branches with the same shapes and colliding ids; the target has
/// none of the tables: they are created (with branch + key as primary key)
/// and each branch's slice equals its source.
pub fn create(w: &World, pair: &str) {
    for (i, (_, db)) in w.branches.iter().enumerate() {
        let seed = i as i64 + 1;
        db.create_table(ITEM, true, &data::rows(1..=ROWS, seed));
        db.create_table(DEAL, true, &data::rows(1..=ROWS, seed + 10));
        db.create_table(EVENT, true, &data::rows(1..=ROWS, seed + 20));
    }
    for t in [ITEM, DEAL, EVENT] {
        assert!(
            w.central.columns(t).is_none(),
            "[{pair}] {t} exists before the first sync"
        );
    }
    let batch = w.sync("MItem,CDeal,CEvent", 0);
    for t in [ITEM, DEAL, EVENT] {
        let schema = target_schema(w, t);
        assert_eq!(
            schema.primary_key,
            ["branch".to_owned(), format!("{t}_id")],
            "[{pair}] primary key of the created {t}"
        );
        let mut slices = Vec::new();
        for b in BRANCHES {
            let rows = assert_slice_equals_source(w, pair, b, t);
            assert_eq!(rows.len() as i64, ROWS, "[{pair}] {t} from {b}");
            let p = w.row(&batch, b, t);
            assert_eq!(
                (p.status.as_str(), p.processed),
                ("completed", ROWS),
                "[{pair}] {p:?}"
            );
            slices.push(rows);
        }
        assert_ne!(
            slices[0], slices[1],
            "[{pair}] {t}: the branches must differ"
        );
    }
}

/// Step 2, `full`: deletes, changes and additions at one branch are reflected;
/// the other branch's slice is untouched.
pub fn full(w: &World, pair: &str) {
    let a = w.branch("br_a");
    a.exec(
        "DELETE FROM m_item WHERE m_item_id IN (2, 3, 17);
         UPDATE m_item SET name = name || ' — changed ✓', amount = amount + 1, flag = NOT flag
          WHERE m_item_id IN (4, 5, 6);
         UPDATE m_item SET payload = NULL, note = 'was ''here''' WHERE m_item_id = 9;",
    );
    a.insert(ITEM, &data::rows(ROWS + 1..=ROWS + 2, 1));
    let cols = w.branch("br_b").columns(ITEM).unwrap();
    let before_b = target_rows(w, "br_b", ITEM, &cols);
    let batch = w.sync("MItem", 0);
    let rows = assert_slice_equals_source(w, pair, "br_a", ITEM);
    assert_eq!(rows.len() as i64, ROWS - 1, "[{pair}] m_item from br_a");
    assert_slice_equals_source(w, pair, "br_b", ITEM);
    assert_eq!(
        target_rows(w, "br_b", ITEM, &cols),
        before_b,
        "[{pair}] br_b's slice was touched"
    );
    let p = w.row(&batch, "br_a", ITEM);
    assert_eq!(
        (p.status.as_str(), p.processed),
        ("completed", ROWS - 1),
        "[{pair}] {p:?}"
    );
}

/// Step 3, `upsert`: changed rows are updated, new ones inserted, unchanged
/// ones counted as `records_skipped`.
pub fn upsert(w: &World, pair: &str) {
    let a = w.branch("br_a");
    a.exec(
        "UPDATE c_deal SET amount = amount + 10, note = 'upd ''quoted'' ✓' WHERE c_deal_id IN (3, 8, 13);",
    );
    a.insert(DEAL, &data::rows(ROWS + 1..=ROWS + 1, 11));
    let batch = w.sync("CDeal", 0);
    for b in BRANCHES {
        assert_slice_equals_source(w, pair, b, DEAL);
    }
    let p = w.row(&batch, "br_a", DEAL);
    assert_eq!(
        (p.status.as_str(), p.processed, p.skipped),
        ("completed", ROWS + 1, ROWS - 3),
        "[{pair}] br_a: 3 changed and 1 new row, the rest unchanged: {p:?}"
    );
    let p = w.row(&batch, "br_b", DEAL);
    assert_eq!(
        (p.status.as_str(), p.processed, p.skipped),
        ("completed", ROWS, ROWS),
        "[{pair}] br_b is unchanged: every row skipped: {p:?}"
    );
}

/// Step 4, `incremental`: only rows whose `updated` is at or above the target's
/// watermark are read; changes that bump `updated` arrive.
pub fn incremental(w: &World, pair: &str) {
    let a = w.branch("br_a");
    a.exec(
        "UPDATE c_event SET name = name || ' (bumped)', updated = '2025-06-01 08:00:00.5' WHERE c_event_id = 2;
         UPDATE c_event SET flag = NOT flag, updated = '2025-06-01 08:00:01' WHERE c_event_id = 9;",
    );
    // Its `updated` is past the branch's newest row.
    a.insert(EVENT, &data::rows(ROWS + 1..=ROWS + 1, 21));
    let batch = w.sync("CEvent", 0);
    for b in BRANCHES {
        assert_slice_equals_source(w, pair, b, EVENT);
    }
    let p = w.row(&batch, "br_a", EVENT);
    assert!(
        p.status == "completed" && (3..=4).contains(&p.processed),
        "[{pair}] br_a: 2 bumped + 1 new (+ the watermark row) expected: {p:?}"
    );
    let p = w.row(&batch, "br_b", EVENT);
    assert!(
        p.status == "completed" && p.processed <= 1,
        "[{pair}] br_b is unchanged: at most the watermark row is read: {p:?}"
    );
}
