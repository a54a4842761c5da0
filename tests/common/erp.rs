//! An iDempiere-shaped ERP fixture for PostgreSQL branch databases: ids that
//! collide across branches (each branch is its own ERP instance), timestamps,
//! NULLs, unicode and awkward text.
#![allow(dead_code)]

use postgres::Client;

/// The DDL of the fixture's tables.
pub const DDL: &str = r#"
CREATE TABLE ad_org (
    ad_org_id numeric(10) PRIMARY KEY,
    value varchar(40) NOT NULL,
    name varchar(60) NOT NULL,
    updated timestamp NOT NULL DEFAULT now()
);
CREATE TABLE m_product (
    m_product_id numeric(10) PRIMARY KEY,
    value varchar(40) NOT NULL,
    name varchar(255) NOT NULL,
    description text,
    price numeric(12,2),
    isactive char(1) NOT NULL DEFAULT 'Y',
    updated timestamp NOT NULL DEFAULT now()
);
CREATE TABLE c_order (
    c_order_id numeric(10) PRIMARY KEY,
    documentno varchar(30) NOT NULL,
    dateordered timestamp NOT NULL,
    grandtotal numeric(14,2) NOT NULL,
    description text,
    updated timestamp NOT NULL
);
CREATE TABLE c_invoiceline (
    c_invoiceline_id numeric(10) PRIMARY KEY,
    c_invoice_id numeric(10) NOT NULL,
    m_product_id numeric(10),
    qtyinvoiced numeric(12,2) NOT NULL,
    priceactual numeric(12,2) NOT NULL,
    linenetamt numeric(14,2) NOT NULL,
    description text,
    updated timestamp NOT NULL DEFAULT now()
);
"#;

/// Fill a branch database; `seed` varies the content between branches.
pub fn populate(client: &mut Client, seed: i64, lines: i64) {
    client.batch_execute(DDL).unwrap();
    client
        .execute(
            "INSERT INTO ad_org SELECT 1000000 + g, 'ORG' || g, 'Org ' || g || ' café', now() FROM generate_series(1, 5) g",
            &[],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO m_product (m_product_id, value, name, description, price, updated)
             SELECT 1000000 + g, 'P' || g, 'Produk ' || g || ' ünïcödé ' || $1::bigint,
                    CASE WHEN g % 7 = 0 THEN NULL
                         WHEN g % 5 = 0 THEN E'tab\there \"quoted\" it''s\nnew line \\\\ back'
                         ELSE 'desc ' || g END,
                    (g * 1.25 + $1::bigint)::numeric(12,2), timestamp '2024-01-01' + g * interval '1 minute'
             FROM generate_series(1, 200) g",
            &[&seed],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO c_order SELECT 1000000 + g, 'SO-' || g, timestamp '2024-02-01' + g * interval '1 hour',
                    (g * 10.5 + $1::bigint)::numeric(14,2), CASE WHEN g % 3 = 0 THEN NULL ELSE 'order ' || g END,
                    timestamp '2024-03-01' + g * interval '1 second'
             FROM generate_series(1, 300) g",
            &[&seed],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO c_invoiceline SELECT 1000000 + g, 1000000 + g / 5, CASE WHEN g % 11 = 0 THEN NULL ELSE 1000000 + g % 200 END,
                    (g % 9 + 1)::numeric, (g % 97 + $1::bigint)::numeric(12,2), ((g % 9 + 1) * (g % 97 + $1::bigint))::numeric(14,2),
                    CASE WHEN g % 4 = 0 THEN NULL ELSE 'line ' || g || ' — ✓' END, timestamp '2024-04-01' + g * interval '1 second'
             FROM generate_series(1, $2::bigint) g",
            &[&seed, &lines],
        )
        .unwrap();
}

/// Column lists (without the branch column) of the fixture's tables.
pub fn columns(table: &str) -> &'static str {
    match table {
        "ad_org" => "ad_org_id, value, name, updated",
        "m_product" => "m_product_id, value, name, description, price, isactive, updated",
        "c_order" => "c_order_id, documentno, dateordered, grandtotal, description, updated",
        "c_invoiceline" => {
            "c_invoiceline_id, c_invoice_id, m_product_id, qtyinvoiced, priceactual, linenetamt, description, updated"
        }
        _ => panic!("unknown fixture table {table}"),
    }
}

/// Row count and an order-independent content hash of `table`'s rows
/// (optionally only those of one branch), computed in SQL.
pub fn content_hash(client: &mut Client, table: &str, branch: Option<&str>) -> (i64, String) {
    let cols = columns(table);
    let sql = format!(
        "SELECT count(*), coalesce(md5(string_agg(h, '' ORDER BY h)), '') FROM (SELECT md5(ROW({cols})::text) AS h FROM {table} {}) s",
        if branch.is_some() { "WHERE branch = $1" } else { "" }
    );
    let row = match branch {
        Some(b) => client.query_one(&sql, &[&b]).unwrap(),
        None => client.query_one(&sql, &[]).unwrap(),
    };
    (row.get(0), row.get(1))
}
