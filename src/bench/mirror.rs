//! `bench --modes mirror,mirror100`: `mode = "mirror"` against a full copy
//! over the same links. Both the branch link and the central link go
//! through a byte-counting [`Relay`] (paced at 100 Mbit/s each way for
//! `mirror100`). For each key shape (integer, text under the database's collation, text under "C", composite) the run
//! measures a full copy into an empty central table, then mirrors 0.15% (or `--mirror-changed`) of
//! changed rows (updates, inserts into holes, deletes, first and last key
//! included), checks that the slice equals the branch, and mirrors once
//! more with nothing changed.

use super::relay::{host_port, via, Relay};
use super::{case, fixture, run_sync, Case};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A key shape: table, key columns, and how to make it from `c_invoiceline`.
pub(super) struct Shape {
    pub name: &'static str,
    pub table: &'static str,
    pub key: &'static [&'static str],
    /// SQL creating `table` at the source from `c_invoiceline`.
    create: &'static str,
}

pub(super) const SHAPES: &[Shape] = &[
    Shape {
        name: "integer key",
        table: "c_invoiceline",
        key: &["c_invoiceline_id"],
        create: "",
    },
    Shape {
        name: "text key",
        table: "m_textline",
        key: &["code"],
        create: "CREATE TABLE m_textline AS SELECT 'INV-' || to_char(c_invoiceline_id, 'FM000000000') AS code, * FROM c_invoiceline; \
                 ALTER TABLE m_textline ADD PRIMARY KEY (code); ANALYZE m_textline",
    },
    Shape {
        name: "text key (\"C\")",
        table: "m_textcline",
        key: &["code"],
        create: "CREATE TABLE m_textcline AS SELECT ('INV-' || to_char(c_invoiceline_id, 'FM000000000')) COLLATE \"C\" AS code, * FROM c_invoiceline; \
                 ALTER TABLE m_textcline ADD PRIMARY KEY (code); ANALYZE m_textcline",
    },
    Shape {
        name: "composite key",
        table: "m_pairline",
        key: &["c_invoice_id", "line"],
        create: "CREATE TABLE m_pairline AS SELECT * FROM c_invoiceline; \
                 ALTER TABLE m_pairline ADD PRIMARY KEY (c_invoice_id, line); ANALYZE m_pairline",
    },
];

/// The change pattern for `percent` of the rows changed: every `every`-th
/// id is updated, one in `every` is a hole (missing at first, inserted as a
/// change) and one in `every` is deleted; 0.15% is every 2,000th.
pub(super) struct Pattern {
    every: u64,
}

impl Pattern {
    /// At least every 6th id, so that the updated, hole and deleted ids
    /// stay apart.
    pub(super) fn new(percent: f64) -> Pattern {
        let every = (300.0 / percent.clamp(0.000_001, 100.0)).round().max(6.0) as u64;
        Pattern { every }
    }

    fn ids(&self, column: &str, nth: u64) -> String {
        format!("{column} % {} = {}", self.every, nth)
    }

    /// Where `column` holds a hole's id.
    pub(super) fn holes_in(&self, column: &str) -> String {
        self.ids(column, self.every / 2 - 1)
    }

    pub(super) fn holes(&self) -> String {
        self.holes_in("c_invoiceline_id")
    }

    pub(super) fn updated(&self) -> String {
        self.ids("c_invoiceline_id", self.every / 6)
    }

    pub(super) fn deleted(&self) -> String {
        self.ids("c_invoiceline_id", self.every * 5 / 6)
    }

    /// Every row [`change`] deletes: the pattern's, and the first key.
    pub(super) fn gone(&self) -> String {
        format!("{} OR c_invoiceline_id = 1", self.deleted())
    }
}

/// Runs the mirror cases; `bits_per_s` paces both links.
pub fn run(
    src_url: &str,
    dst_url: &str,
    work: &Path,
    rows: u64,
    threads: usize,
    percent: f64,
    bits_per_s: Option<f64>,
) -> anyhow::Result<Vec<Case>> {
    let pattern = Pattern::new(percent);
    let branch = Relay::start(&host_port(src_url), bits_per_s)?;
    let central = Relay::start(&host_port(dst_url), bits_per_s)?;
    let link = match bits_per_s {
        Some(b) => format!("links paced at {:.0} Mbit/s", b / 1e6),
        None => "loopback links".to_owned(),
    };
    let mut src = fixture::connect(src_url)?;
    let mut cases = Vec::new();
    for shape in SHAPES {
        if !shape.create.is_empty() {
            src.batch_execute(&format!("DROP TABLE IF EXISTS {}", shape.table))?;
            src.batch_execute(shape.create)?;
        }
        // Holes the changes will fill (the fixture's ids are contiguous).
        src.batch_execute(&format!(
            "CREATE TEMP TABLE held AS SELECT * FROM {0} WHERE {1}; DELETE FROM {0} WHERE {1}",
            shape.table,
            pattern.holes()
        ))?;
        let cfg = |mode: &str| {
            config(
                work,
                &via(src_url, branch.port),
                &via(dst_url, central.port),
                shape,
                mode,
                threads,
                "",
            )
        };
        let mut dst = fixture::connect(dst_url)?;
        dst.batch_execute(&format!("DROP TABLE IF EXISTS {}", shape.table))?;
        let measure = |cfg: &Path| measure(&branch, &central, cfg);
        let (t_full, b_full, rss_full) = measure(&cfg("full"))?;
        let mut full = case(
            &format!("full, {}, {link}", shape.name),
            &[t_full],
            rows,
            0,
            None,
            Some(rss_full),
        );
        full.link_bytes = Some(b_full);
        cases.push(full);
        // The other shapes are made from the fixture's table: the rows the
        // change deletes from it are put back afterwards, so that each
        // shape has them to delete.
        let base = shape.create.is_empty();
        if base {
            src.batch_execute(&format!(
                "CREATE TEMP TABLE gone AS SELECT * FROM {} WHERE {}",
                shape.table,
                pattern.gone()
            ))?;
        }
        let changed = change(&mut src, shape.table, rows, &pattern)?;
        let (t_m, b_m, rss_m) = measure(&cfg("mirror"))?;
        let equal = same_content(src_url, dst_url, shape)?;
        if !equal {
            anyhow::bail!(
                "mirror of {} left a slice that differs from the branch",
                shape.table
            );
        }
        let mut m = case(
            &format!(
                "mirror, {}, {changed} rows changed ({:.2}%), {link}",
                shape.name,
                changed as f64 * 100.0 / rows as f64
            ),
            &[t_m],
            rows,
            0,
            None,
            Some(rss_m),
        );
        m.link_bytes = Some(b_m);
        m.vs_full_bytes = Some(b_m as f64 / b_full as f64);
        m.vs_full_time = Some(t_m.as_secs_f64() / t_full.as_secs_f64());
        cases.push(m);
        let (t_u, b_u, rss_u) = measure(&cfg("mirror"))?;
        let mut u = case(
            &format!("mirror, {}, unchanged, {link}", shape.name),
            &[t_u],
            rows,
            0,
            None,
            Some(rss_u),
        );
        u.link_bytes = Some(b_u);
        u.vs_full_bytes = Some(b_u as f64 / b_full as f64);
        u.vs_full_time = Some(t_u.as_secs_f64() / t_full.as_secs_f64());
        cases.push(u);
        src.batch_execute("DROP TABLE held")?;
        if base {
            src.batch_execute(&format!(
                "INSERT INTO {} SELECT * FROM gone; DROP TABLE gone",
                shape.table
            ))?;
        } else {
            src.batch_execute(&format!("DROP TABLE {}", shape.table))?;
        }
        dst.batch_execute(&format!("DROP TABLE IF EXISTS {}", shape.table))?;
    }
    Ok(cases)
}

/// One run of `cfg`: its time, the bytes over both relays, its peak RSS.
pub(super) fn measure(
    branch: &Relay,
    central: &Relay,
    cfg: &Path,
) -> anyhow::Result<(Duration, u64, u64)> {
    branch.reset();
    central.reset();
    let (t, rss) = run_sync(cfg)?;
    let (bu, bd) = branch.bytes();
    let (cu, cd) = central.bytes();
    Ok((t, bu + bd + cu + cd, rss))
}

/// The pattern's share of `rows` changed: a third updated (the last key too), a third
/// inserted into the holes, a third deleted (the first key too). Returns
/// the rows changed.
fn change(
    src: &mut postgres::Client,
    table: &str,
    rows: u64,
    pattern: &Pattern,
) -> anyhow::Result<u64> {
    let updated = src.execute(
        &format!(
            "UPDATE {table} SET priceactual = priceactual + 1, updated = updated + interval '1 day' \
             WHERE {} OR c_invoiceline_id = $1::bigint",
            pattern.updated()
        ),
        &[&(rows as i64)],
    )?;
    let inserted = src.execute(&format!("INSERT INTO {table} SELECT * FROM held"), &[])?;
    let deleted = src.execute(
        &format!("DELETE FROM {table} WHERE {}", pattern.gone()),
        &[],
    )?;
    Ok(updated + inserted + deleted)
}

/// The branch's table and its slice hold the same rows.
pub(super) fn same_content(src_url: &str, dst_url: &str, shape: &Shape) -> anyhow::Result<bool> {
    let order = shape.key.join(", ");
    let sql = |filter: &str| {
        format!(
            "SELECT count(*), md5(string_agg(md5((c_invoiceline_id, ad_client_id, ad_org_id, isactive, created, updated, c_invoice_id, line, description, m_product_id, qtyinvoiced, pricelist, priceactual, linenetamt, c_tax_id)::text), '' ORDER BY {order})) FROM {} {filter}",
            shape.table
        )
    };
    let a = fixture::connect(src_url)?.query_one(&sql(""), &[])?;
    let b = fixture::connect(dst_url)?.query_one(&sql("WHERE branch = 'bench_src'"), &[])?;
    Ok(a.get::<_, i64>(0) == b.get::<_, i64>(0)
        && a.get::<_, Option<String>>(1) == b.get::<_, Option<String>>(1))
}

/// The config of one run; `engine` adds lines to its `[engine]` table.
pub(super) fn config(
    work: &Path,
    src: &str,
    dst: &str,
    shape: &Shape,
    mode: &str,
    threads: usize,
    engine: &str,
) -> PathBuf {
    let path = work.join(format!("mirror-{}-{mode}.toml", shape.table));
    let key: Vec<String> = shape.key.iter().map(|k| format!("{k:?}")).collect();
    let text = format!(
        "[journal]\npath = \"journal.db\"\n\n[engine]\nthreads = {threads}\nretries = 0\n{engine}\n\
         [target]\ndriver = \"postgres\"\nurl = \"{dst}\"\n\n\
         [[connection]]\nname = \"bench_src\"\ndriver = \"postgres\"\nurl = \"{src}\"\n\n\
         [[table]]\nmodel = \"Bench\"\nsource = \"{}\"\nkey = [{}]\nmode = \"{mode}\"\n",
        shape.table,
        key.join(", ")
    );
    let _ = std::fs::write(&path, text);
    path
}
