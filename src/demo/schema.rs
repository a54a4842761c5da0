//! The shape of a branch database: its tables as iDempiere declares them
//! (integer ids, `TIMESTAMP` cursors, `NUMERIC` amounts, nullable
//! descriptions) and how many rows each gets for a given `--rows`.

use super::names::ORG_KINDS;

/// The tables of a branch, in creation order.
pub const TABLES: &[&str] = &[
    "ad_org",
    "m_product",
    "c_bpartner",
    "c_order",
    "c_invoice",
    "c_invoiceline",
];

pub(super) const SCHEMA: &str = "
CREATE TABLE ad_org (
    ad_org_id      INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    value          TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
CREATE TABLE m_product (
    m_product_id   INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    ad_org_id      INTEGER NOT NULL,
    value          TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    upc            TEXT,
    producttype    TEXT NOT NULL,
    pricelist      NUMERIC NOT NULL,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
CREATE TABLE c_bpartner (
    c_bpartner_id  INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    ad_org_id      INTEGER NOT NULL,
    value          TEXT NOT NULL,
    name           TEXT NOT NULL,
    name2          TEXT,
    taxid          TEXT,
    iscustomer     TEXT NOT NULL,
    isvendor       TEXT NOT NULL,
    so_creditlimit NUMERIC NOT NULL,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
CREATE TABLE c_order (
    c_order_id     INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    ad_org_id      INTEGER NOT NULL,
    documentno     TEXT NOT NULL,
    issotrx        TEXT NOT NULL,
    docstatus      TEXT NOT NULL,
    c_bpartner_id  INTEGER NOT NULL,
    dateordered    TIMESTAMP NOT NULL,
    grandtotal     NUMERIC NOT NULL,
    description    TEXT,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
CREATE INDEX c_order_updated ON c_order (updated);
CREATE TABLE c_invoice (
    c_invoice_id   INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    ad_org_id      INTEGER NOT NULL,
    documentno     TEXT NOT NULL,
    c_order_id     INTEGER,
    c_bpartner_id  INTEGER NOT NULL,
    dateinvoiced   TIMESTAMP NOT NULL,
    docstatus      TEXT NOT NULL,
    grandtotal     NUMERIC NOT NULL,
    ispaid         TEXT NOT NULL,
    description    TEXT,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
CREATE INDEX c_invoice_updated ON c_invoice (updated);
CREATE TABLE c_invoiceline (
    c_invoiceline_id INTEGER NOT NULL PRIMARY KEY,
    ad_client_id   INTEGER NOT NULL,
    ad_org_id      INTEGER NOT NULL,
    c_invoice_id   INTEGER NOT NULL,
    line           INTEGER NOT NULL,
    m_product_id   INTEGER,
    qtyinvoiced    NUMERIC NOT NULL,
    priceactual    NUMERIC NOT NULL,
    linenetamt     NUMERIC NOT NULL,
    description    TEXT,
    isactive       TEXT NOT NULL,
    created        TIMESTAMP NOT NULL,
    updated        TIMESTAMP NOT NULL
);
";

/// How many rows each table of a branch gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub orgs: u64,
    pub products: u64,
    pub partners: u64,
    /// Orders and invoices (one invoice per order).
    pub invoices: u64,
    /// Invoice lines: the big table, the `--rows` of the command line.
    pub lines: u64,
}

impl Sizes {
    /// Sizes for `rows` invoice lines: four lines per invoice, a product and a
    /// partner per ten lines.
    pub fn for_rows(rows: u64) -> Sizes {
        Sizes {
            orgs: ORG_KINDS.len() as u64,
            products: rows.div_ceil(10),
            partners: rows.div_ceil(10),
            invoices: rows.div_ceil(4),
            lines: rows,
        }
    }

    /// Rows of `table` in one branch.
    pub fn rows_of(&self, table: &str) -> u64 {
        match table {
            "ad_org" => self.orgs,
            "m_product" => self.products,
            "c_bpartner" => self.partners,
            "c_order" | "c_invoice" => self.invoices,
            "c_invoiceline" => self.lines,
            _ => 0,
        }
    }

    /// Rows of one branch, all tables.
    pub fn total(&self) -> u64 {
        TABLES.iter().map(|t| self.rows_of(t)).sum()
    }
}
