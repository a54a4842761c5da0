//! Generates one branch database: the iDempiere-shaped tables of one ERP
//! instance, filled from an RNG seeded by the branch name, so the same name
//! and size always give the same rows. Every branch counts its ids from
//! 1000000, as separate ERP instances do, so ids collide across branches and
//! only the branch column keeps them apart at the target.

use super::names::{BRANCH_CITIES, NOTES, ORG_KINDS, PARTNERS, PARTNER_PREFIXES, PRODUCTS, SIZES};
use super::schema::{Sizes, SCHEMA};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rusqlite::{params, Connection, Transaction};
use std::path::Path;

/// First id of every table in every branch (iDempiere's first user id).
pub const FIRST_ID: i64 = 1_000_000;
const CLIENT_ID: i64 = 1_000_000;
const TIMESTAMP_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// One branch to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// Connection name, `sqlite_<code>`.
    pub name: String,
    /// Office code (`lmp`), used in document numbers and search keys.
    pub code: String,
    /// City shown in organization names.
    pub city: String,
}

impl Branch {
    /// The `index`-th branch (0 is the head office). Past the known offices,
    /// names continue as `sqlite_b018`, `sqlite_b019`, …
    pub fn nth(index: usize) -> Branch {
        let (code, city) = match super::names::BRANCH_CODES.get(index) {
            Some(code) => ((*code).to_owned(), BRANCH_CITIES[index].to_owned()),
            None => (
                format!("b{:03}", index + 1),
                format!("Cabang {}", index + 1),
            ),
        };
        Branch {
            name: format!("sqlite_{code}"),
            code,
            city,
        }
    }

    /// The RNG seed: FNV-1a of the name, so a branch's data does not depend
    /// on how many other branches there are.
    fn seed(&self) -> u64 {
        self.name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }
}

/// Write `branch`'s database to `path` (which must not exist yet), in one
/// transaction. Returns the number of rows written.
pub fn write_branch(path: &Path, branch: &Branch, sizes: &Sizes) -> rusqlite::Result<u64> {
    let mut conn = Connection::open(path)?;
    // A fresh file written in one go: no rollback journal needed, and the
    // caller renames it into place only once it is complete.
    conn.execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")?;
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    let mut gen = Generator {
        rng: StdRng::seed_from_u64(branch.seed()),
        branch,
        code: branch.code.to_uppercase(),
        start: NaiveDate::from_ymd_opt(2024, 1, 1)
            .and_then(|d| d.and_hms_opt(8, 0, 0))
            .expect("valid start date"),
    };
    gen.orgs(&tx, sizes)?;
    let prices = gen.products(&tx, sizes)?;
    gen.partners(&tx, sizes)?;
    gen.documents(&tx, sizes, &prices)?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)?;
    Ok(sizes.total())
}

struct Generator<'b> {
    rng: StdRng,
    branch: &'b Branch,
    code: String,
    start: NaiveDateTime,
}

impl Generator<'_> {
    fn ts(&self, t: NaiveDateTime) -> String {
        t.format(TIMESTAMP_FORMAT).to_string()
    }

    /// `Some(pick)` with probability `p`, else NULL.
    fn maybe<'a>(&mut self, p: f64, pool: &[&'a str]) -> Option<&'a str> {
        if self.rng.random_bool(p) {
            Some(pool[self.rng.random_range(0..pool.len())])
        } else {
            None
        }
    }

    fn pick<'a>(&mut self, pool: &[&'a str]) -> &'a str {
        pool[self.rng.random_range(0..pool.len())]
    }

    fn active(&mut self) -> &'static str {
        if self.rng.random_bool(0.95) {
            "Y"
        } else {
            "N"
        }
    }

    fn orgs(&mut self, tx: &Transaction, sizes: &Sizes) -> rusqlite::Result<()> {
        let mut ins = tx.prepare(
            "INSERT INTO ad_org (ad_org_id, ad_client_id, value, name, description, isactive, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for i in 0..sizes.orgs {
            let kind = ORG_KINDS[i as usize % ORG_KINDS.len()];
            let created = self.start - Duration::days(400 - i as i64);
            let updated = created + Duration::hours(self.rng.random_range(0..2000));
            let note = self.maybe(0.5, NOTES);
            ins.execute(params![
                FIRST_ID + i as i64,
                CLIENT_ID,
                format!("{}-{}", self.code, i + 1),
                format!("{} {kind}", self.branch.city),
                note,
                "Y",
                self.ts(created),
                self.ts(updated),
            ])?;
        }
        Ok(())
    }

    /// Inserts the products and returns their list prices in cents.
    fn products(&mut self, tx: &Transaction, sizes: &Sizes) -> rusqlite::Result<Vec<i64>> {
        let mut ins = tx.prepare(
            "INSERT INTO m_product (m_product_id, ad_client_id, ad_org_id, value, name, description,
                 upc, producttype, pricelist, isactive, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut prices = Vec::with_capacity(sizes.products as usize);
        for i in 0..sizes.products {
            let name = format!("{} {}", self.pick(PRODUCTS), self.pick(SIZES));
            let description = self.maybe(0.7, NOTES);
            let upc = self
                .rng
                .random_bool(0.5)
                .then(|| format!("899{:010}", self.rng.random_range(0..10_000_000_000u64)));
            let service = self.rng.random_bool(0.1);
            let price = self.rng.random_range(500..500_000);
            prices.push(price);
            let created = self.start - Duration::days(self.rng.random_range(30..365));
            let updated = created + Duration::minutes(self.rng.random_range(0..200_000));
            let active = self.active();
            ins.execute(params![
                FIRST_ID + i as i64,
                CLIENT_ID,
                FIRST_ID,
                format!("{}-P{:05}", self.code, i + 1),
                name,
                description,
                upc,
                if service { "S" } else { "I" },
                money(price),
                active,
                self.ts(created),
                self.ts(updated),
            ])?;
        }
        Ok(prices)
    }

    fn partners(&mut self, tx: &Transaction, sizes: &Sizes) -> rusqlite::Result<()> {
        let mut ins = tx.prepare(
            "INSERT INTO c_bpartner (c_bpartner_id, ad_client_id, ad_org_id, value, name, name2,
                 taxid, iscustomer, isvendor, so_creditlimit, isactive, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        for i in 0..sizes.partners {
            let name = format!("{} {}", self.pick(PARTNER_PREFIXES), self.pick(PARTNERS));
            let name2 = self
                .rng
                .random_bool(0.3)
                .then(|| format!("Cabang {}", self.branch.city));
            // An NPWP-style tax id: 01.234.567.8-901.000
            let taxid = self.rng.random_bool(0.6).then(|| {
                let r = &mut self.rng;
                format!(
                    "{:02}.{:03}.{:03}.{}-{:03}.000",
                    r.random_range(1..100),
                    r.random_range(0..1000),
                    r.random_range(0..1000),
                    r.random_range(0..10),
                    r.random_range(0..1000)
                )
            });
            let vendor = self.rng.random_bool(0.2);
            let limit = self.rng.random_range(0..2_000) * 100_000;
            let created = self.start - Duration::days(self.rng.random_range(30..365));
            let updated = created + Duration::minutes(self.rng.random_range(0..200_000));
            let active = self.active();
            ins.execute(params![
                FIRST_ID + i as i64,
                CLIENT_ID,
                FIRST_ID,
                format!("{}-C{:05}", self.code, i + 1),
                name,
                name2,
                taxid,
                "Y",
                if vendor { "Y" } else { "N" },
                money(limit),
                active,
                self.ts(created),
                self.ts(updated),
            ])?;
        }
        Ok(())
    }

    /// Orders, their invoices and the invoice lines; totals add up.
    fn documents(
        &mut self,
        tx: &Transaction,
        sizes: &Sizes,
        prices: &[i64],
    ) -> rusqlite::Result<()> {
        let mut order = tx.prepare(
            "INSERT INTO c_order (c_order_id, ad_client_id, ad_org_id, documentno, issotrx, docstatus,
                 c_bpartner_id, dateordered, grandtotal, description, isactive, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let mut invoice = tx.prepare(
            "INSERT INTO c_invoice (c_invoice_id, ad_client_id, ad_org_id, documentno, c_order_id,
                 c_bpartner_id, dateinvoiced, docstatus, grandtotal, ispaid, description, isactive,
                 created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )?;
        let mut line = tx.prepare(
            "INSERT INTO c_invoiceline (c_invoiceline_id, ad_client_id, ad_org_id, c_invoice_id, line,
                 m_product_id, qtyinvoiced, priceactual, linenetamt, description, isactive, created,
                 updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?;
        let orgs = sizes.orgs.max(1) as i64;
        let minutes_per_doc = (365 * 24 * 60 / sizes.invoices.max(1) as i64).max(1);
        let mut next_line = 0u64;
        for j in 0..sizes.invoices {
            let id = FIRST_ID + j as i64;
            let org = FIRST_ID + self.rng.random_range(0..orgs);
            let partner = FIRST_ID + self.rng.random_range(0..sizes.partners.max(1) as i64);
            let ordered = self.start
                + Duration::minutes(
                    j as i64 * minutes_per_doc + self.rng.random_range(0..minutes_per_doc),
                );
            let invoiced = ordered + Duration::hours(self.rng.random_range(0..72));
            let updated = invoiced + Duration::minutes(self.rng.random_range(0..14_400));
            let (created, invoiced_s, updated_s) =
                (self.ts(ordered), self.ts(invoiced), self.ts(updated));

            // Lines [next_line, end) belong to this invoice.
            let end = (j + 1) * sizes.lines / sizes.invoices;
            let mut total = 0i64;
            for (n, l) in (next_line..end).enumerate() {
                let charge = l % 13 == 12 || prices.is_empty();
                let (product, price) = if charge {
                    (None, self.rng.random_range(1_000..50_000))
                } else {
                    let p = self.rng.random_range(0..prices.len());
                    (Some(FIRST_ID + p as i64), prices[p])
                };
                let qty = self.rng.random_range(1..=20i64);
                total += qty * price;
                let description = if charge {
                    Some("Ongkos kirim")
                } else {
                    self.maybe(0.4, NOTES)
                };
                line.execute(params![
                    FIRST_ID + l as i64,
                    CLIENT_ID,
                    org,
                    id,
                    (n as i64 + 1) * 10,
                    product,
                    qty.to_string(),
                    money(price),
                    money(qty * price),
                    description,
                    "Y",
                    created,
                    updated_s,
                ])?;
            }
            next_line = end;

            let docstatus = match self.rng.random_range(0..100) {
                0..=4 => "DR",
                5..=7 => "VO",
                _ => "CO",
            };
            let note = self.maybe(0.5, NOTES);
            order.execute(params![
                id,
                CLIENT_ID,
                org,
                format!("SO-{}-{}", self.code, 100_000 + j),
                "Y",
                docstatus,
                partner,
                created,
                money(total),
                note,
                "Y",
                created,
                updated_s,
            ])?;
            // Every seventh invoice was made without an order.
            let order_id = (j % 7 != 6).then_some(id);
            let paid = self.rng.random_bool(0.7);
            let note = self.maybe(0.4, NOTES);
            invoice.execute(params![
                id,
                CLIENT_ID,
                org,
                format!("INV-{}-{}", self.code, 100_000 + j),
                order_id,
                partner,
                invoiced_s,
                docstatus,
                money(total),
                if paid { "Y" } else { "N" },
                note,
                "Y",
                invoiced_s,
                updated_s,
            ])?;
        }
        Ok(())
    }
}

/// Cents as exact decimal text: `1250` → `"12.50"`.
pub fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}
