//! Bad input in the data's shape: a table gone at one branch, a key column
//! renamed, a column whose type changed, a column dropped at one branch,
//! NULL keys, an empty table, tables without a primary key.

use super::common::erp::content_hash;
use super::common::fixture::{code, reliability, Fixture};
use postgres::Client;

/// Count and hash of `table`'s `cols` (optionally one branch's rows).
fn hash_cols(c: &mut Client, table: &str, cols: &str, branch: Option<&str>) -> (i64, String) {
    let sql = format!(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM (SELECT md5(ROW({cols})::text) AS h FROM {table} {}) s",
        if branch.is_some() { "WHERE branch = $1" } else { "" }
    );
    let row = match branch {
        Some(b) => c.query_one(&sql, &[&b]),
        None => c.query_one(&sql, &[]),
    }
    .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn schema_drift_fails_only_the_drifted_tables_and_leaves_them_as_they_were() {
    let fx = Fixture::new(2, 300);
    fx.write_config();
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 0);
    let (b0, b1) = (fx.branches[0].0.clone(), fx.branches[1].0.clone());
    let mut central = fx.central.client();
    let c_order_b0 = content_hash(&mut central, "c_order", Some(&b0));
    let c_order_b1 = content_hash(&mut central, "c_order", Some(&b1));
    let m_product_b1 = content_hash(&mut central, "m_product", Some(&b1));

    // Drift, each at one branch only.
    fx.branches[1].1.exec(
        "DROP TABLE c_order;
         ALTER TABLE m_product RENAME COLUMN m_product_id TO product_code;
         ALTER TABLE c_invoiceline DROP COLUMN description;
         UPDATE c_invoiceline SET qtyinvoiced = qtyinvoiced + 1 WHERE c_invoiceline_id % 3 = 0;",
    );
    fx.branches[0].1.exec(
        "ALTER TABLE c_order ALTER COLUMN grandtotal TYPE text USING grandtotal::text || ' EUR'",
    );

    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 1);
    let (batch, status) = fx.latest_batch();
    assert_eq!(status, "failed");
    let row = |conn: &str, table: &str| {
        fx.progress(&batch)
            .into_iter()
            .find(|r| r.0 == conn && r.1 == table)
            .unwrap_or_else(|| panic!("no row for {conn} {table}"))
    };
    let err = |conn: &str, table: &str| row(conn, table).7.unwrap_or_default();

    // Missing source table: failed, not retried, named with the fix.
    let r = row(&b1, "c_order");
    assert_eq!((r.2.as_str(), r.6), ("failed", 0), "{r:?}");
    let e = err(&b1, "c_order");
    assert!(
        e.contains("c_order") && e.contains(&b1) && e.contains("[[table]]"),
        "{e}"
    );
    // Missing key column.
    let r = row(&b1, "m_product");
    assert_eq!((r.2.as_str(), r.6), ("failed", 0), "{r:?}");
    let e = err(&b1, "m_product");
    assert!(
        e.contains("m_product_id") && e.contains("m_product") && e.contains(&b1),
        "{e}"
    );
    // Type conflict: table, column and both types.
    let r = row(&b0, "c_order");
    assert_eq!((r.2.as_str(), r.6), ("failed", 0), "{r:?}");
    let e = err(&b0, "c_order");
    for w in ["c_order", "grandtotal", "text", "numeric"] {
        assert!(e.contains(w), "type conflict error lacks {w:?}: {e}");
    }
    // The failed tables' slices are as they were.
    assert_eq!(content_hash(&mut central, "c_order", Some(&b0)), c_order_b0);
    assert_eq!(content_hash(&mut central, "c_order", Some(&b1)), c_order_b1);
    assert_eq!(
        content_hash(&mut central, "m_product", Some(&b1)),
        m_product_b1
    );

    // A column dropped at one branch: that branch's rows carry NULL there,
    // the other columns follow the source, the other branch keeps its values.
    let r = row(&b1, "c_invoiceline");
    assert_eq!(r.2, "completed", "{r:?}");
    let rest = "c_invoiceline_id, c_invoice_id, m_product_id, qtyinvoiced, priceactual, linenetamt, updated";
    let mut src = fx.branches[1].1.client();
    assert_eq!(
        hash_cols(&mut central, "c_invoiceline", rest, Some(&b1)),
        hash_cols(&mut src, "c_invoiceline", rest, None)
    );
    let non_null: i64 = central
        .query_one(
            "SELECT count(*) FROM c_invoiceline WHERE branch = $1 AND description IS NOT NULL",
            &[&b1],
        )
        .unwrap()
        .get(0);
    assert_eq!(
        non_null, 0,
        "the dropped column still holds old values for {b1}"
    );
    assert_eq!(
        content_hash(&mut central, "c_invoiceline", Some(&b0)),
        content_hash(&mut fx.branches[0].1.client(), "c_invoiceline", None)
    );
    // Everything else completed.
    let broken = [(&b1, "c_order"), (&b1, "m_product"), (&b0, "c_order")];
    for r in fx.progress(&batch) {
        if !broken.iter().any(|(c, t)| **c == r.0 && *t == r.1) {
            assert_eq!(r.2, "completed", "{r:?}");
        }
    }
    reliability(
        "schema drift: source table dropped, key column renamed, column type changed, column dropped at one branch",
        4,
        0,
        0,
        "the 3 broken tables failed without retries naming table/column/types, their target slices unchanged; the dropped column became NULL for that branch only",
    );
}

#[test]
fn null_keys_empty_tables_and_tables_without_primary_key() {
    let fx = Fixture::new(2, 300);
    let b1 = fx.branches[1].0.clone();
    fx.branches[1].1.exec(
        "ALTER TABLE m_product DROP CONSTRAINT m_product_pkey;
         ALTER TABLE m_product ALTER COLUMN m_product_id DROP NOT NULL;
         INSERT INTO m_product (m_product_id, value, name) VALUES (NULL, 'N1', 'no key 1'), (NULL, 'N2', 'no key, \"2\"'), (NULL, 'N3', 'no key 3');",
    );
    fx.branches[0].1.exec("DELETE FROM c_order");
    for (_, db) in &fx.branches {
        db.exec(
            "CREATE TABLE c_nopk (c_nopk_id integer, name text);
             INSERT INTO c_nopk SELECT g, 'row ' || g FROM generate_series(1, 50) g;",
        );
    }
    // A central table made by hand, without any unique constraint.
    fx.central
        .exec("CREATE TABLE c_handmade (branch text, c_nopk_id integer, name text)");
    fx.write_config();
    fx.append_config(
        "[[table]]\nmodel = \"CNoPk\"\nsource = \"c_nopk\"\nkey = [\"c_nopk_id\"]\nmode = \"upsert\"\n\n\
         [[table]]\nmodel = \"CHandmade\"\nsource = \"c_nopk\"\ntarget = \"c_handmade\"\nkey = [\"c_nopk_id\"]\nmode = \"upsert\"\n",
    );
    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 1, "the hand-made target table fails");
    let (batch, _) = fx.latest_batch();
    let rows = fx.progress(&batch);
    let row = |conn: &str, table: &str| {
        rows.iter()
            .find(|r| r.0 == conn && r.1 == table)
            .unwrap()
            .clone()
    };

    // NULL keys: skipped, counted, written to the rejects file with the reason.
    let r = row(&b1, "m_product");
    assert_eq!(r.2, "completed", "{r:?}");
    assert_eq!(r.4, 3, "records_skipped counts the 3 NULL-key rows: {r:?}");
    let rejects = fx
        .dir
        .path()
        .join(format!("storage/rejects/{batch}/{b1}.m_product.csv"));
    let text =
        std::fs::read_to_string(&rejects).unwrap_or_else(|e| panic!("{}: {e}", rejects.display()));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let recs: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 3, "{text}");
    assert!(
        recs.iter()
            .all(|r| r[0].contains("NULL") && r[0].contains("m_product_id")),
        "{text}"
    );
    assert!(
        recs.iter().any(|r| r.iter().any(|f| f == "no key, \"2\"")),
        "{text}"
    );
    let mut central = fx.central.client();
    let n: i64 = central
        .query_one("SELECT count(*) FROM m_product WHERE branch = $1", &[&b1])
        .unwrap()
        .get(0);
    assert_eq!(n, 200, "the keyed rows arrive");

    // Zero rows: completed with 0 records, the slice empty.
    let r = row(&fx.branches[0].0, "c_order");
    assert_eq!((r.2.as_str(), r.3), ("completed", 0), "{r:?}");
    let n: i64 = central
        .query_one(
            "SELECT count(*) FROM c_order WHERE branch = $1",
            &[&fx.branches[0].0],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);

    // No primary key at the source, key in the config: fine.
    for (name, db) in &fx.branches {
        let r = row(name, "c_nopk");
        assert_eq!(r.2, "completed", "{r:?}");
        let cols = "c_nopk_id, name";
        assert_eq!(
            hash_cols(&mut central, "c_nopk", cols, Some(name)),
            hash_cols(&mut db.client(), "c_nopk", cols, None)
        );
    }
    // No unique constraint at the target in upsert mode: a clear failure.
    for (name, _) in &fx.branches {
        let r = row(name, "c_handmade");
        assert_eq!((r.2.as_str(), r.6), ("failed", 0), "{r:?}");
        let e = r.7.clone().unwrap_or_default();
        assert!(
            e.contains("c_handmade") && (e.contains("primary key") || e.contains("unique")),
            "{e}"
        );
    }
    let n: i64 = central
        .query_one("SELECT count(*) FROM c_handmade", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    reliability(
        "NULL keys (3 rows at one branch)",
        1,
        0,
        0,
        "rows skipped and counted, rejects CSV with the reason; keyed rows all arrived",
    );
    reliability("zero-row source table", 1, 0, 0, "completed with 0 records");
    reliability(
        "source table without a primary key (key in config), upsert",
        2,
        0,
        0,
        "completed, content equal",
    );
    reliability(
        "target table without a primary key/unique constraint, upsert",
        2,
        0,
        0,
        "failed without retries naming the table; nothing written",
    );
}
