//! The nightly `full` refresh into a partitioned PostgreSQL central table, for
//! real through the binary: every branch has its own partition (predictably
//! named, whatever the table is called), a refresh loads a stage and swaps it
//! in, readers of the parent keep answering and see the old slice until the
//! swap, a kill in any phase is resumed to an equal slice with nothing left
//! behind, and a chunked copy resumes after its last committed chunk.

mod common;

#[path = "refresh_swap/cuts.rs"]
mod cuts;
#[path = "refresh_swap/kills.rs"]
mod kills;
#[path = "refresh_swap/readers.rs"]
mod readers;

use common::central::{is_partitioned, orphans, partitions};
use common::fixture::{code, Fixture};
use postgres::Client;
use std::time::Duration;

pub const DEADLINE: Duration = Duration::from_secs(180);

/// A fixture whose engine commits chunks of `chunk_rows` rows.
pub fn fixture(branches: usize, lines: i64, chunk_rows: u64) -> Fixture {
    let mut fx = Fixture::new(branches, lines);
    fx.engine = format!(
        "threads = 2\nretries = 3\nretry_backoff = \"100ms\"\nretry_backoff_max = \"1s\"\nconnect_timeout = \"2s\"\nstatement_timeout = \"2m\"\nchunk_rows = {chunk_rows}\n"
    );
    fx.write_config();
    fx
}

/// The test's own identifier quoting (deliberately not the product's).
pub fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// (count, sum of priceactual) of one branch's slice: cheap enough to ask
/// in a loop, and different for every refresh below.
pub fn signature(c: &mut Client, table: &str, branch: &str) -> (i64, String) {
    let row = c
        .query_one(
            &format!(
                "SELECT count(*), coalesce(sum(priceactual), 0)::text FROM {} WHERE branch = $1",
                q(table)
            ),
            &[&branch],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

/// Changes the branch's c_invoiceline the way a day does: deletes,
/// updates, inserts.
pub fn a_day_passes(c: &mut Client, day: i64) {
    c.batch_execute(&format!(
        "DELETE FROM c_invoiceline WHERE c_invoiceline_id % 97 = {day};
         UPDATE c_invoiceline SET priceactual = priceactual + 1, updated = updated + interval '1 day' WHERE c_invoiceline_id % 13 = {day};
         INSERT INTO c_invoiceline SELECT c_invoiceline_id + 10000000 * {day}, c_invoice_id, m_product_id, qtyinvoiced, priceactual, linenetamt, description, updated
           FROM c_invoiceline WHERE c_invoiceline_id % 101 = 0 ON CONFLICT DO NOTHING;"
    ))
    .unwrap();
}

/// The central server holds each consolidated table as a parent with one
/// partition per branch, and nothing else.
pub fn assert_clean_layout(fx: &Fixture) {
    let mut c = fx.central.client();
    for t in ["m_product", "c_order", "c_invoiceline"] {
        assert!(is_partitioned(&mut c, t), "{t} is not partitioned");
        let parts = partitions(&mut c, t);
        let want: Vec<(String, String)> = fx
            .branches
            .iter()
            .map(|(b, _)| (format!("{t}__{b}"), format!("FOR VALUES IN ('{b}')")))
            .collect();
        assert_eq!(parts, want, "{t}");
        // No index keeps a stage's name (`…__next_pkey1`) after a swap.
        for (b, _) in &fx.branches {
            let part = format!("{t}__{b}");
            let indexes: Vec<String> = c
                .query(
                    "SELECT indexname::text FROM pg_indexes WHERE tablename = $1 ORDER BY 1",
                    &[&part],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert!(
                indexes.contains(&format!("{part}_pkey")),
                "{part}: {indexes:?}"
            );
            assert!(
                indexes.iter().all(|i| !i.contains("__next")),
                "{part}: {indexes:?}"
            );
        }
    }
    assert_eq!(orphans(&mut c, &["ad_org"]), Vec::<String>::new());
}

#[test]
fn nightly_refreshes_swap_each_slice_and_equal_the_source() {
    let fx = fixture(2, 5_000, 1_000_000);
    assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
    assert_clean_layout(&fx);
    fx.assert_consolidated();
    for day in 1..=2 {
        a_day_passes(&mut fx.branches[0].1.client(), day);
        assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
        fx.assert_consolidated();
        assert_eq!(fx.lost_and_duplicated(), (0, 0), "night {day}");
        assert_clean_layout(&fx);
    }
    // The slice was replaced, not deleted from: no dead rows in the parent.
    let dead: i64 = fx
        .central
        .client()
        .query_one(
            "SELECT coalesce(sum(n_dead_tup), 0)::bigint FROM pg_stat_user_tables WHERE relname LIKE 'c_invoiceline%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(dead, 0, "dead rows in c_invoiceline's partitions");
}

/// A table large against its chunks gets its chunk bounds from one page
/// sample: about `lines / chunk_rows` chunks, and the slice is exact.
#[test]
fn sampled_chunk_bounds_cut_a_large_copy_into_about_the_chunks_asked_for() {
    let fx = fixture(1, 200_000, 20_000);
    fx.branches[0].1.client().batch_execute("ANALYZE").unwrap();
    let out = fx.run_within(&["-v", "sync-all"], DEADLINE);
    assert_eq!(code(&out), 0);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("page sample"), "{log}");
    fx.assert_consolidated();
    assert_eq!(fx.lost_and_duplicated(), (0, 0));
    let (chunks, rows, biggest): (i64, i64, i64) = fx
        .journal()
        .query_row(
            "SELECT count(*), sum(rows), max(rows) FROM sync_chunks WHERE table_name = 'c_invoiceline'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(rows, 200_000);
    assert!((6..=16).contains(&chunks), "{chunks} chunks");
    assert!(biggest <= 40_000, "a chunk of {biggest} rows");
}

#[test]
fn plain_tables_stay_plain_with_partitions_none_and_check_says_how_to_convert() {
    let fx = fixture(1, 2_000, 1_000_000);
    fx.rewrite_config(|s| {
        s.replace(
            "branch_column = \"branch\"\n",
            "branch_column = \"branch\"\npartitions = \"none\"\n",
        )
    });
    assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
    let mut c = fx.central.client();
    assert!(!is_partitioned(&mut c, "c_invoiceline"));
    a_day_passes(&mut fx.branches[0].1.client(), 1);
    assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
    fx.assert_consolidated();
    let out = fx.run(&["check"]);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("c_invoiceline") && text.contains("PARTITION BY LIST"),
        "check does not say how to convert the plain table:\n{text}"
    );
}

/// Target names that break naive SQL or pass 63 bytes once suffixed.
const HOSTILE: &[&str] = &[
    "we\"ird 'tbl",
    "Ünïcode tâble ✓",
    "a_table_name_that_is_long_enough_to_pass_the_limit_once_suff",
    "üüüüüüüüüüüüüüüüüüüüüüüüüüüüüü",
];

#[test]
fn hostile_and_long_table_names_get_safe_predictable_partitions() {
    let fx = fixture(2, 1_000, 1_000_000);
    let mut extra = String::new();
    for (i, name) in HOSTILE.iter().enumerate() {
        extra += &format!(
            "[[table]]\nmodel = \"Hostile{i}\"\nsource = \"c_invoiceline\"\ntarget = {}\nkey = [\"c_invoiceline_id\"]\nmode = \"full\"\n\n",
            toml_string(name)
        );
    }
    fx.append_config(&extra);
    for night in 0..2 {
        if night == 1 {
            a_day_passes(&mut fx.branches[1].1.client(), 1);
        }
        assert_eq!(code(&fx.run_within(&["sync-all"], DEADLINE)), 0);
        let mut c = fx.central.client();
        for name in HOSTILE {
            assert!(is_partitioned(&mut c, name), "{name}");
            let parts = partitions(&mut c, name);
            assert_eq!(parts.len(), 2, "{name}: {parts:?}");
            for (branch, db) in &fx.branches {
                let bound = format!("FOR VALUES IN ('{branch}')");
                let (part, _) = parts
                    .iter()
                    .find(|p| p.1 == bound)
                    .unwrap_or_else(|| panic!("{name}: no partition for {branch}: {parts:?}"));
                assert!(part.len() <= 63, "{part} is over 63 bytes");
                let src: (i64, String) = db
                    .client()
                    .query_one(
                        "SELECT count(*), coalesce(sum(priceactual), 0)::text FROM c_invoiceline",
                        &[],
                    )
                    .map(|r| (r.get(0), r.get(1)))
                    .unwrap();
                assert_eq!(signature(&mut c, name, branch), src, "{name} from {branch}");
            }
        }
        let tables: Vec<&str> = HOSTILE.iter().copied().chain(["ad_org"]).collect();
        assert_eq!(orphans(&mut c, &tables), Vec::<String>::new());
    }
    // Predictable: the same names every night, a short one as written.
    let mut c = fx.central.client();
    assert_eq!(
        partitions(&mut c, HOSTILE[0])[0].0,
        format!("{}__{}", HOSTILE[0], fx.branches[0].0)
    );
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
