//! Bad input in the data itself: bytes that are not UTF-8 from a branch whose
//! database is `SQL_ASCII` (anything goes in), and 50 MB text and bytea
//! values in one row.

use super::common::erp;
use super::common::fixture::{code, reliability, Fixture};
use super::common::pg::{server_url, url_with_db, TestDb};

/// A `SQL_ASCII` database: the server stores whatever bytes it is given.
fn sql_ascii_db(prefix: &str) -> TestDb {
    let name = format!(
        "{prefix}_{}_{:x}",
        std::process::id(),
        rand::random::<u32>()
    );
    let mut admin = postgres::Client::connect(&server_url(), postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE DATABASE \"{name}\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
        ))
        .unwrap();
    TestDb {
        url: url_with_db(&server_url(), &name),
        name,
    }
}

#[test]
fn invalid_utf8_from_a_sql_ascii_branch_fails_that_table_naming_branch_table_column() {
    let mut fx = Fixture::new(1, 200);
    let ascii = sql_ascii_db("bs_ascii");
    erp::populate(&mut ascii.client(), 3, 200);
    // Latin-1 bytes (0xE9, 0xFC) in one product name: not UTF-8.
    ascii.exec("UPDATE m_product SET name = E'caf\\351 m\\374ller' WHERE m_product_id = 1000007");
    let enc: String = ascii
        .client()
        .query_one(
            "SELECT octet_length(name)::text FROM m_product WHERE m_product_id = 1000007",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(enc, "11", "the test server did not store the raw bytes");
    fx.extra.push(("pgsql_ascii".into(), ascii.url.clone()));
    fx.write_config();

    let out = fx.run(&["sync-all"]);
    assert_eq!(code(&out), 1);
    let (batch, _) = fx.latest_batch();
    let rows = fx.progress(&batch);
    let bad = rows
        .iter()
        .find(|r| r.0 == "pgsql_ascii" && r.1 == "m_product")
        .unwrap();
    assert_eq!(
        (bad.2.as_str(), bad.6),
        ("failed", 0),
        "bad data is not retried: {bad:?}"
    );
    let e = bad.7.clone().unwrap_or_default();
    eprintln!("invalid UTF-8 error: {e}");
    for w in ["pgsql_ascii", "m_product", "name"] {
        assert!(e.contains(w), "the error lacks {w:?}: {e}");
    }
    // Nothing of that table from that branch arrived; the rest did.
    let n: i64 = fx
        .central
        .client()
        .query_one(
            "SELECT count(*) FROM m_product WHERE branch = 'pgsql_ascii'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    for r in rows
        .iter()
        .filter(|r| !(r.0 == "pgsql_ascii" && r.1 == "m_product"))
    {
        assert_eq!(r.2, "completed", "{r:?}");
    }
    fx.assert_consolidated();
    reliability(
        "invalid UTF-8 bytes from a SQL_ASCII branch",
        1,
        0,
        0,
        "that table failed without retries, error names branch, table and column; all else completed",
    );
}

/// (id, body length, body md5, data length, data md5) of one attachment row.
type Summary = (
    i32,
    Option<i32>,
    Option<String>,
    Option<i32>,
    Option<String>,
);

fn summary(c: &mut postgres::Client, table: &str) -> Vec<Summary> {
    c.query(
        &format!(
            "SELECT c_attachment_id, octet_length(body), md5(body), octet_length(data), md5(data) FROM {table} ORDER BY 1"
        ),
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
    .collect()
}

#[test]
fn fifty_megabyte_text_and_bytea_values_arrive_whole() {
    let fx = Fixture::new(1, 10);
    let db = &fx.branches[0].1;
    // md5 chains: 52 MB of text and 52 MB of bytes that do not compress.
    db.exec(
        "CREATE TABLE c_attachment (c_attachment_id integer PRIMARY KEY, title text, body text, data bytea);
         INSERT INTO c_attachment VALUES (1, 'small', 'x', '\\x00ff'), (3, 'empty', '', ''), (4, 'nulls', NULL, NULL);
         INSERT INTO c_attachment SELECT 2, 'big',
            (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1638400) g),
            (SELECT decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 3276800) g);",
    );
    fx.write_config();
    fx.append_config(
        "[[table]]\nmodel = \"CAttachment\"\nsource = \"c_attachment\"\nkey = [\"c_attachment_id\"]\nmode = \"full\"\n\n\
         [[table]]\nmodel = \"CAttachmentUp\"\nsource = \"c_attachment\"\ntarget = \"c_attachment_up\"\nkey = [\"c_attachment_id\"]\nmode = \"upsert\"\n",
    );
    let out = fx.run(&["sync-all", "--tables", "CAttachment,CAttachmentUp"]);
    assert_eq!(code(&out), 0);
    let want = summary(&mut db.client(), "c_attachment");
    assert!(want[1].1.unwrap() > 50_000_000 && want[1].3.unwrap() > 50_000_000);
    let mut central = fx.central.client();
    assert_eq!(summary(&mut central, "c_attachment"), want, "full");
    assert_eq!(summary(&mut central, "c_attachment_up"), want, "upsert");
    // Unchanged on a second run: the big row is skipped as identical.
    let out = fx.run(&["sync-all", "--tables", "CAttachmentUp"]);
    assert_eq!(code(&out), 0);
    let (batch, _) = fx.latest_batch();
    let r = &fx.progress(&batch)[0];
    assert_eq!((r.3, r.4), (4, 4), "{r:?}");
    assert_eq!(summary(&mut central, "c_attachment_up"), want);
    reliability(
        "50 MB text + 50 MB bytea value in one row (full, upsert, unchanged upsert)",
        3,
        0,
        0,
        "byte-identical (length + md5), unchanged row skipped",
    );
}
