//! The benchmark's data: a source and a target database on one server, and an
//! iDempiere-shaped `c_invoiceline` generated server-side.

use postgres::{Client, NoTls};

/// `url` with its database replaced by `db`.
pub fn url_with_db(url: &str, db: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = head.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match head[after_scheme..].find('/') {
        Some(i) => &head[..after_scheme + i],
        None => head,
    };
    format!("{base}/{db}{query}")
}

pub fn connect(url: &str) -> anyhow::Result<Client> {
    Client::connect(url, NoTls)
        .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", crate::config::redact_url(url)))
}

/// Drop and create database `name` on the server of `admin_url`.
pub fn recreate_db(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = connect(admin_url)?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    Ok(url_with_db(admin_url, name))
}

pub fn drop_db(admin_url: &str, name: &str) {
    if let Ok(mut admin) = connect(admin_url) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}

/// The table's DDL (about 140 bytes a row, as in the field).
pub fn ddl(table: &str) -> String {
    format!(
        "CREATE TABLE {table} (
            c_invoiceline_id numeric(10) PRIMARY KEY,
            ad_client_id numeric(10) NOT NULL,
            ad_org_id numeric(10) NOT NULL,
            isactive char(1) NOT NULL DEFAULT 'Y',
            created timestamp NOT NULL,
            updated timestamp NOT NULL,
            c_invoice_id numeric(10) NOT NULL,
            line numeric(10) NOT NULL,
            description varchar(255),
            m_product_id numeric(10),
            qtyinvoiced numeric NOT NULL,
            pricelist numeric NOT NULL,
            priceactual numeric NOT NULL,
            linenetamt numeric NOT NULL,
            c_tax_id numeric(10) NOT NULL
        )"
    )
}

/// Create and fill `table` with `rows` rows; returns its size in bytes.
pub fn populate(client: &mut Client, table: &str, rows: u64) -> anyhow::Result<u64> {
    client.batch_execute(&ddl(table))?;
    client.execute(
        &format!(
            "INSERT INTO {table} SELECT g, 11, 1000000 + g % 17, 'Y',
                timestamp '2024-01-01' + g * interval '1 second', timestamp '2024-01-01' + g * interval '1 second',
                1000000 + g / 5, (g % 5 + 1) * 10,
                CASE WHEN g % 4 = 0 THEN NULL ELSE 'Invoice line ' || g END,
                1000000 + g % 5000, (g % 9 + 1), (g % 997) * 1.5 + 10, (g % 997) * 1.5, (g % 9 + 1) * ((g % 997) * 1.5), 1000000
             FROM generate_series(1, $1::bigint) g"
        ),
        &[&(rows as i64)],
    )?;
    client.batch_execute(&format!("VACUUM ANALYZE {table}"))?;
    let size: i64 = client
        .query_one("SELECT pg_table_size(to_regclass($1))", &[&table])?
        .get(0);
    Ok(size as u64)
}
