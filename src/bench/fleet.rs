//! The fleet benchmark: 17 PostgreSQL branch databases × 6 iDempiere tables
//! into one central database, end to end through the real binary, at several
//! thread counts — how the parallel engine uses the machine.

use super::fixture::{connect, drop_db, recreate_db};
use super::{case, run_sync, tempfile_dir, BenchReport};
use std::path::Path;
use std::time::Duration;

/// The generated branches, dropped with the value.
pub struct Fleet {
    admin: String,
    pub names: Vec<String>,
    pub urls: Vec<String>,
    pub central: String,
    pub rows: u64,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for n in &self.names {
            drop_db(&self.admin, n);
        }
        drop_db(&self.admin, "branchsync_bench_central");
    }
}

const DDL: &str = "
CREATE TABLE ad_org (ad_org_id numeric(10) PRIMARY KEY, value varchar(40) NOT NULL, name varchar(60) NOT NULL, updated timestamp NOT NULL);
CREATE TABLE m_product (m_product_id numeric(10) PRIMARY KEY, value varchar(40) NOT NULL, name varchar(255) NOT NULL, description text, price numeric(12,2), updated timestamp NOT NULL);
CREATE TABLE c_bpartner (c_bpartner_id numeric(10) PRIMARY KEY, value varchar(40) NOT NULL, name varchar(120) NOT NULL, taxid varchar(20), updated timestamp NOT NULL);
CREATE TABLE c_order (c_order_id numeric(10) PRIMARY KEY, documentno varchar(30) NOT NULL, c_bpartner_id numeric(10) NOT NULL, dateordered timestamp NOT NULL, grandtotal numeric(14,2) NOT NULL, updated timestamp NOT NULL);
CREATE TABLE c_invoice (c_invoice_id numeric(10) PRIMARY KEY, documentno varchar(30) NOT NULL, c_order_id numeric(10), dateinvoiced timestamp NOT NULL, grandtotal numeric(14,2) NOT NULL, updated timestamp NOT NULL);
CREATE TABLE c_invoiceline (c_invoiceline_id numeric(10) PRIMARY KEY, c_invoice_id numeric(10) NOT NULL, m_product_id numeric(10), qtyinvoiced numeric NOT NULL, priceactual numeric NOT NULL, linenetamt numeric NOT NULL, description varchar(255), updated timestamp NOT NULL);
";

/// Create `branches` databases with `lines` invoice lines each (the other
/// tables proportionally smaller).
pub fn build(admin: &str, branches: usize, lines: u64) -> anyhow::Result<Fleet> {
    let mut fleet = Fleet {
        admin: admin.to_owned(),
        names: Vec::new(),
        urls: Vec::new(),
        central: recreate_db(admin, "branchsync_bench_central")?,
        rows: 0,
    };
    for i in 0..branches {
        let name = format!("branchsync_bench_b{i:02}");
        let url = recreate_db(admin, &name)?;
        let mut c = connect(&url)?;
        c.batch_execute(DDL)?;
        let l = lines as i64;
        c.execute(
            "INSERT INTO ad_org SELECT 1000000 + g, 'ORG' || g, 'Org ' || g, now() FROM generate_series(1, 5) g",
            &[],
        )?;
        c.execute("INSERT INTO m_product SELECT 1000000 + g, 'P' || g, 'Produk ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'desc ' || g END, g * 1.25, now() FROM generate_series(1, greatest($1::bigint / 20, 1)) g", &[&l])?;
        c.execute("INSERT INTO c_bpartner SELECT 1000000 + g, 'BP' || g, 'Partner ' || g, 'NPWP' || g, now() FROM generate_series(1, greatest($1::bigint / 20, 1)) g", &[&l])?;
        c.execute("INSERT INTO c_order SELECT 1000000 + g, 'SO-' || g, 1000000 + g % 50, now() - g * interval '1 minute', g * 10.5, now() - g * interval '1 second' FROM generate_series(1, greatest($1::bigint / 5, 1)) g", &[&l])?;
        c.execute("INSERT INTO c_invoice SELECT 1000000 + g, 'INV-' || g, 1000000 + g, now() - g * interval '1 minute', g * 10.5, now() - g * interval '1 second' FROM generate_series(1, greatest($1::bigint / 5, 1)) g", &[&l])?;
        c.execute("INSERT INTO c_invoiceline SELECT 1000000 + g, 1000000 + g / 5, 1000000 + g % 500, g % 9 + 1, (g % 997) * 1.5, (g % 9 + 1) * (g % 997) * 1.5, CASE WHEN g % 4 = 0 THEN NULL ELSE 'line ' || g END, now() FROM generate_series(1, $1::bigint) g", &[&l])?;
        c.batch_execute("VACUUM ANALYZE")?;
        let n: i64 = c
            .query_one(
                "SELECT (SELECT count(*) FROM m_product) + (SELECT count(*) FROM c_bpartner) + (SELECT count(*) FROM c_order)
                      + (SELECT count(*) FROM c_invoice) + (SELECT count(*) FROM c_invoiceline)",
                &[],
            )?
            .get(0);
        fleet.rows += n as u64 + if i == 0 { 5 } else { 0 };
        fleet.names.push(name);
        fleet.urls.push(url);
    }
    Ok(fleet)
}

/// The fleet's config, with `threads`.
pub fn write_config(
    fleet: &Fleet,
    dir: &Path,
    threads: usize,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(format!("fleet-{threads}.toml"));
    let mut s = format!(
        "[journal]\npath = \"fleet-journal.db\"\n\n[engine]\nthreads = {threads}\nretries = 0\n\n[target]\ndriver = \"postgres\"\nurl = \"{}\"\n\n",
        fleet.central
    );
    for (i, url) in fleet.urls.iter().enumerate() {
        s += &format!("[[connection]]\nname = \"pgsql_b{i:02}\"\ndriver = \"postgres\"\nurl = \"{url}\"\npool_size = 2\n\n");
    }
    s += "[[table]]\nmodel = \"AdOrg\"\nsource = \"ad_org\"\nkey = [\"ad_org_id\"]\nmode = \"full\"\nfrom = \"pgsql_b00\"\n\n";
    s += "[[table]]\nmodel = \"MProduct\"\nsource = \"m_product\"\nkey = [\"m_product_id\"]\nmode = \"upsert\"\n\n";
    s += "[[table]]\nmodel = \"CBPartner\"\nsource = \"c_bpartner\"\nkey = [\"c_bpartner_id\"]\nmode = \"upsert\"\n\n";
    s += "[[table]]\nmodel = \"COrder\"\nsource = \"c_order\"\nkey = [\"c_order_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n";
    s += "[[table]]\nmodel = \"CInvoice\"\nsource = \"c_invoice\"\nkey = [\"c_invoice_id\"]\nmode = \"incremental\"\ncursor = \"updated\"\n\n";
    s += "[[table]]\nmodel = \"CInvoiceLine\"\nsource = \"c_invoiceline\"\nkey = [\"c_invoiceline_id\"]\nmode = \"full\"\n";
    std::fs::write(&path, s)?;
    Ok(path)
}

/// Empty the central database (a first sync of the whole fleet each time).
pub fn reset_central(fleet: &Fleet) -> anyhow::Result<()> {
    let mut c = connect(&fleet.central)?;
    c.batch_execute(
        "DROP TABLE IF EXISTS ad_org, m_product, c_bpartner, c_order, c_invoice, c_invoiceline",
    )?;
    Ok(())
}

/// Run one first-time sync of the fleet; (time, peak RSS KiB).
pub fn run_once(fleet: &Fleet, config: &Path) -> anyhow::Result<(Duration, u64)> {
    reset_central(fleet)?;
    run_sync(config)
}

/// `bench --fleet`: 17 branches × 6 tables, first sync into an empty central
/// database, then a second night over it, at each thread count.
pub fn run_fleet(
    pg: &str,
    branches: usize,
    lines: u64,
    threads: &[usize],
    reps: usize,
) -> anyhow::Result<BenchReport> {
    eprintln!("Generating {branches} branch databases ({lines} invoice lines each)…");
    let fleet = build(pg, branches, lines)?;
    let work = tempfile_dir()?;
    let mut cases = Vec::new();
    for &t in threads {
        let cfg = write_config(&fleet, &work, t)?;
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..reps {
            let (d, r) = run_once(&fleet, &cfg)?;
            times.push(d);
            rss = rss.max(r);
        }
        cases.push(case(
            &format!("{branches} branches × 6 tables, threads = {t}"),
            &times,
            fleet.rows,
            0,
            None,
            Some(rss),
        ));
        // The next night: every slice is there (and whatever the refresh of
        // the night before left behind).
        let (mut times, mut rss) = (Vec::new(), 0);
        for _ in 0..reps {
            let (d, r) = run_sync(&cfg)?;
            times.push(d);
            rss = rss.max(r);
        }
        cases.push(case(
            &format!("{branches} branches × 6 tables, threads = {t}, second night"),
            &times,
            fleet.rows,
            0,
            None,
            Some(rss),
        ));
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(BenchReport {
        rows: fleet.rows,
        table_mb: 0.0,
        cases,
    })
}
