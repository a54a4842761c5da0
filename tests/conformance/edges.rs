//! Steps 5–7 of the conformance story: schema drift, NULL keys and a table
//! without rows.

use super::content::{assert_slice, assert_slice_equals_source, target_rows};
use super::data::{self, DEAL, EMPTY, EVENT, ITEM, LOOSE, ROWS};
use super::modes::target_schema;
use super::world::{World, BRANCHES};

/// Step 5, drift: a column new at one branch's source is added to the target
/// (nullable) and filled, NULL for the other branch; a column whose type
/// conflicts with the target's fails that table only (exit code 1), with a
/// message naming table, column and both types, and leaves its slice as it
/// was. The conflicting text holds digits with leading zeros (`001`), which
/// an integer column would silently turn into another value.
pub fn drift(w: &World, pair: &str) {
    let a = w.branch("br_a");
    a.exec(
        "ALTER TABLE m_item ADD COLUMN extra text;
         UPDATE m_item SET extra = 'extra ✓ ' || m_item_id WHERE m_item_id <> 4;",
    );
    let deal_cols = a.columns(DEAL).unwrap();
    let deal_before = target_rows(w, "br_a", DEAL, &deal_cols);
    // The central `code` is an integer; br_a's `code` becomes text.
    w.central.exec("ALTER TABLE c_deal ADD COLUMN code integer");
    a.exec(
        "ALTER TABLE c_deal ADD COLUMN code text;
         UPDATE c_deal SET code = '00' || c_deal_id;",
    );
    let (batch, code, output) = w.run_sync("MItem,CDeal,CEvent");

    let extra = target_schema(w, ITEM);
    let extra = extra
        .column("extra")
        .unwrap_or_else(|| panic!("[{pair}] m_item.extra was not added at the target"));
    assert!(
        extra.nullable,
        "[{pair}] the added column must be nullable: {extra:?}"
    );
    assert_slice_equals_source(w, pair, "br_a", ITEM);
    assert_slice_equals_source(w, pair, "br_b", ITEM);
    let b_extra = target_rows(w, "br_b", ITEM, &["extra".to_owned()]);
    assert_eq!(b_extra.len() as i64, ROWS, "[{pair}]");
    assert!(
        b_extra.iter().all(|r| r[0].is_none()),
        "[{pair}] br_b has no `extra`: {b_extra:?}"
    );
    for (conn, table) in [
        ("br_a", ITEM),
        ("br_b", ITEM),
        ("br_b", DEAL),
        ("br_a", EVENT),
        ("br_b", EVENT),
    ] {
        let p = w.row(&batch, conn, table);
        assert_eq!(
            p.status, "completed",
            "[{pair}] the other tables complete: {p:?}"
        );
    }
    assert_slice_equals_source(w, pair, "br_b", DEAL);

    let failed = w.row(&batch, "br_a", DEAL);
    if failed.status != "failed" {
        let code_col = ["c_deal_id".to_owned(), "code".to_owned()];
        let held: Vec<_> = target_rows(w, "br_a", DEAL, &code_col)
            .into_iter()
            .take(3)
            .collect();
        panic!(
            "[{pair}] source text `code` into the target's integer `code` must fail as a type conflict; \
             got {failed:?}; the target now holds (id, code) {held:?} for the source's '001', '002', '003'"
        );
    }
    let msg = failed.error.clone().unwrap_or_default();
    eprintln!("[{pair}] conflict message: {msg}");
    let lower = msg.to_lowercase();
    for word in ["c_deal", "code", "text", "integer"] {
        assert!(
            lower.contains(word),
            "[{pair}] the conflict message must name {word:?}: {msg}"
        );
    }
    assert_eq!(
        target_rows(w, "br_a", DEAL, &deal_cols),
        deal_before,
        "[{pair}] the failed table must stay as it was"
    );
    assert_eq!(
        code, 1,
        "[{pair}] a failed table makes the exit code 1:\n{output}"
    );
    assert_eq!(w.batch_status(&batch), "failed", "[{pair}]");
}

/// Step 6, NULL keys: rows with a NULL key are rejected into
/// `storage/rejects/<batch>/<connection>.<table>.csv` with the reason and
/// counted as skipped; the other rows are copied.
pub fn null_keys(w: &World, pair: &str) {
    let mut rows = data::rows(1..=6, 31);
    let orphans = [data::keyless(1, 31), data::keyless(2, 31)];
    rows.extend(orphans.iter().cloned());
    w.branch("br_a").create_table(LOOSE, false, &rows);
    w.branch("br_b")
        .create_table(LOOSE, false, &data::rows(1..=4, 32));
    let batch = w.sync("CLoose", 0);

    let keyed = assert_slice(w, pair, "br_a", LOOSE, true);
    assert_eq!(keyed.len(), 6, "[{pair}]");
    assert_slice_equals_source(w, pair, "br_b", LOOSE);
    let p = w.row(&batch, "br_a", LOOSE);
    assert_eq!(
        (p.status.as_str(), p.processed, p.skipped),
        ("completed", 8, 2),
        "[{pair}] 6 rows copied, 2 rejected: {p:?}"
    );
    let p = w.row(&batch, "br_b", LOOSE);
    assert_eq!(
        (p.status.as_str(), p.processed, p.skipped),
        ("completed", 4, 0),
        "[{pair}] {p:?}"
    );

    let dir = w.storage().join("rejects").join(&batch);
    let file = dir.join("br_a.c_loose.csv");
    let mut csv = csv::Reader::from_path(&file)
        .unwrap_or_else(|e| panic!("[{pair}] reject file {}: {e}", file.display()));
    let header = csv.headers().unwrap().clone();
    let at = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("[{pair}] no {name} in the reject header {header:?}"))
    };
    let (reason, name, key) = (at("reject_reason"), at("name"), at("c_loose_id"));
    let mut names = Vec::new();
    for record in csv.records() {
        let record = record.unwrap();
        assert!(
            record[reason].contains("c_loose_id"),
            "[{pair}] reason: {record:?}"
        );
        assert_eq!(&record[key], "", "[{pair}] {record:?}");
        names.push(record[name].to_owned());
    }
    names.sort();
    let want: Vec<String> = orphans.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names, want, "[{pair}] the rejected rows, whole");
    assert!(
        !dir.join("br_b.c_loose.csv").exists(),
        "[{pair}] br_b rejected nothing"
    );
}

/// Step 7, zero rows: a table without rows completes with 0 records (and is created).
pub fn empty(w: &World, pair: &str) {
    for (_, db) in &w.branches {
        db.create_table(EMPTY, true, &[]);
    }
    let batch = w.sync("CEmpty", 0);
    assert!(
        w.central.columns(EMPTY).is_some(),
        "[{pair}] c_empty was not created"
    );
    for b in BRANCHES {
        let p = w.row(&batch, b, EMPTY);
        assert_eq!(
            (p.status.as_str(), p.processed, p.skipped),
            ("completed", 0, 0),
            "[{pair}] {p:?}"
        );
        assert!(assert_slice_equals_source(w, pair, b, EMPTY).is_empty());
    }
}
