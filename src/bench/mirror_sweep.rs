//! `bench --modes mirror-sweep`: `mirror_factor` × `mirror_leaf_rows`
//! against the same difference, integer key, both links through the
//! byte-counting relays. The central's slice is perturbed the same way
//! before each setting (rows updated, rows deleted, rows the branch does
//! not have inserted into holes of the key range, in the pattern of the mirror cases), so
//! every setting mirrors exactly the same difference; then once more with
//! nothing changed.

use super::mirror::{config, measure, same_content, Pattern, Shape, SHAPES};
use super::relay::{host_port, via, Relay};
use super::{case, fixture, Case};
use std::path::Path;

/// The settings measured: (factor, leaf rows), the default first.
const SETTINGS: &[(u32, u64)] = &[(16, 4), (8, 4), (32, 4), (16, 2), (16, 8), (32, 8)];

pub fn run(
    src_url: &str,
    dst_url: &str,
    work: &Path,
    rows: u64,
    threads: usize,
    percent: f64,
) -> anyhow::Result<Vec<Case>> {
    let shape: &Shape = &SHAPES[0];
    let pattern = Pattern::new(percent);
    let branch = Relay::start(&host_port(src_url), None)?;
    let central = Relay::start(&host_port(dst_url), None)?;
    let (src_via, dst_via) = (via(src_url, branch.port), via(dst_url, central.port));
    let mut src = fixture::connect(src_url)?;
    let mut dst = fixture::connect(dst_url)?;
    src.batch_execute(&format!(
        "CREATE TEMP TABLE sweep_held AS SELECT * FROM {0} WHERE {1}; DELETE FROM {0} WHERE {1}",
        shape.table,
        pattern.holes()
    ))?;
    dst.batch_execute(&format!("DROP TABLE IF EXISTS {}", shape.table))?;
    let measure = |path: &Path| measure(&branch, &central, path);
    let full = config(work, &src_via, &dst_via, shape, "full", threads, "");
    let (t_full, b_full, _) = measure(&full)?;
    let mut cases = Vec::new();
    for &(factor, leaf) in SETTINGS {
        let cfg = config(
            work,
            &src_via,
            &dst_via,
            shape,
            "mirror",
            threads,
            &format!("mirror_factor = {factor}\nmirror_leaf_rows = {leaf}\n"),
        );
        // The same difference each time: the slice drifts from the branch.
        let changed = dst.execute(
            &format!(
                "UPDATE {0} SET priceactual = priceactual - 1 WHERE branch = 'bench_src' AND {1}",
                shape.table,
                pattern.updated()
            ),
            &[],
        )? + dst.execute(
            &format!(
                "DELETE FROM {0} WHERE branch = 'bench_src' AND {1}",
                shape.table,
                pattern.deleted()
            ),
            &[],
        )?;
        let inserted = dst.execute(
            &format!(
                "INSERT INTO {0} (branch, c_invoiceline_id, ad_client_id, ad_org_id, isactive, created, updated, \
                 c_invoice_id, line, description, m_product_id, qtyinvoiced, pricelist, priceactual, linenetamt, c_tax_id) \
                 SELECT 'bench_src', g, 11, 1000000, 'Y', now(), now(), 1, 10, 'extra', 1, 1, 1, 1, 1, 1000000 \
                 FROM generate_series(1, $1::bigint) g WHERE {1}",
                shape.table,
                pattern.holes_in("g")
            ),
            &[&(rows as i64)],
        )?;
        let (t, b, rss) = measure(&cfg)?;
        if !same_content(src_url, dst_url, shape)? {
            anyhow::bail!("mirror-sweep {factor}×{leaf} left a slice that differs from the branch");
        }
        let (t_u, b_u, _) = measure(&cfg)?;
        let name = format!(
            "mirror_factor {factor}, mirror_leaf_rows {leaf}: {} rows differ",
            changed + inserted
        );
        let mut c = case(&name, &[t], rows, 0, None, Some(rss));
        c.link_bytes = Some(b);
        c.vs_full_bytes = Some(b as f64 / b_full as f64);
        c.vs_full_time = Some(t.as_secs_f64() / t_full.as_secs_f64());
        cases.push(c);
        let mut u = case("  the same, unchanged", &[t_u], rows, 0, None, None);
        u.link_bytes = Some(b_u);
        u.vs_full_bytes = Some(b_u as f64 / b_full as f64);
        u.vs_full_time = Some(t_u.as_secs_f64() / t_full.as_secs_f64());
        cases.push(u);
    }
    src.batch_execute(&format!(
        "INSERT INTO {} SELECT * FROM sweep_held; DROP TABLE sweep_held",
        shape.table
    ))?;
    dst.batch_execute(&format!("DROP TABLE IF EXISTS {}", shape.table))?;
    Ok(cases)
}
