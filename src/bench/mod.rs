//! `bench`: how fast the copy path moves a table, measured against the
//! physical limit of that path (PostgreSQL's binary COPY piped between two
//! `psql` processes) in the same run on the same data. Our runs are the real
//! binary (`sync-all`), branch tagging and journaling included.

mod fixture;
mod fleet;
mod mirror;
mod mirror_sweep;
mod mysql;
mod pipe;
mod relay;
mod results;

use std::path::Path;
use std::time::{Duration, Instant};

pub use fixture::url_with_db;
pub use fleet::run_fleet;
use results::case;
pub use results::{render, BenchReport, Case};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub pg: String,
    pub rows: u64,
    pub modes: Vec<String>,
    pub reps: usize,
    pub threads: usize,
    /// A MySQL server URL: adds the MySQL cases (see [`mysql`]).
    pub mysql: Option<String>,
    /// Share of rows the mirror cases change, in percent.
    pub mirror_changed: f64,
}

pub const ALL_MODES: &[&str] = &[
    "pipe",
    "full",
    "nightly",
    "nightly-plain",
    "chunks",
    "upsert",
    "upsert5",
    "incremental",
    "sqlite",
    "mirror",
    "mirror100",
    "mirror-sweep",
];

struct Dbs {
    admin: String,
    src: String,
    dst: String,
}

impl Drop for Dbs {
    fn drop(&mut self) {
        fixture::drop_db(&self.admin, &db_name("src"));
        fixture::drop_db(&self.admin, &db_name("dst"));
    }
}

/// The benchmark's own database for `role`: named after this process, so
/// that two benchmarks on one server do not drop each other's data.
fn db_name(role: &str) -> String {
    format!("branchsync_bench_{role}_{}", std::process::id())
}

/// Run the benchmark.
pub fn run(opts: &BenchOptions) -> anyhow::Result<BenchReport> {
    let dbs = Dbs {
        admin: opts.pg.clone(),
        src: fixture::recreate_db(&opts.pg, &db_name("src"))?,
        dst: fixture::recreate_db(&opts.pg, &db_name("dst"))?,
    };
    eprintln!("Generating {} rows of c_invoiceline…", opts.rows);
    let mut src = fixture::connect(&dbs.src)?;
    let bytes = fixture::populate(&mut src, "c_invoiceline", opts.rows)?;
    let mut dst = fixture::connect(&dbs.dst)?;
    let work = tempfile_dir()?;
    let mut cases: Vec<Case> = Vec::new();
    let mut pipe_median: Option<f64> = None;
    let want = |m: &str| opts.modes.iter().any(|x| x == m);

    if want("pipe") && pipe::psql_available() {
        dst.batch_execute(&fixture::ddl("pipe_target"))?;
        let mut times = Vec::new();
        for _ in 0..opts.reps {
            dst.batch_execute("TRUNCATE pipe_target")?;
            times.push(pipe::run(
                &dbs.src,
                "c_invoiceline",
                &dbs.dst,
                "pipe_target",
            )?);
        }
        dst.batch_execute("DROP TABLE pipe_target")?;
        let c = case(
            "psql binary COPY pipe",
            &times,
            opts.rows,
            bytes,
            None,
            None,
        );
        pipe_median = Some(c.median_s);
        cases.push(c);
    } else if want("pipe") {
        eprintln!("psql is not on PATH: no pipe baseline");
    }

    let pg_cfg_with = |mode: &str, engine: &str| {
        write_config(
            &work,
            "postgres",
            &dbs.src,
            &format!("driver = \"postgres\"\nurl = \"{}\"", dbs.dst),
            mode,
            opts.threads,
            engine,
        )
    };
    let pg_cfg = |mode: &str| pg_cfg_with(mode, "");
    let plain_cfg = || {
        write_config(
            &work,
            "postgres",
            &dbs.src,
            &format!(
                "driver = \"postgres\"\nurl = \"{}\"\npartitions = \"none\"",
                dbs.dst
            ),
            "full",
            opts.threads,
            "",
        )
    };
    let mut measure = |name: &str,
                       cfg: &Path,
                       before: &mut dyn FnMut(usize) -> anyhow::Result<()>|
     -> anyhow::Result<()> {
        let mut times = Vec::new();
        let mut rss = 0u64;
        for rep in 0..opts.reps {
            before(rep)?;
            let (t, r) = run_sync(cfg)?;
            times.push(t);
            rss = rss.max(r);
        }
        cases.push(case(name, &times, opts.rows, bytes, pipe_median, Some(rss)));
        Ok(())
    };

    let drop_target = |url: &str| -> anyhow::Result<()> {
        fixture::connect(url)?.batch_execute("DROP TABLE IF EXISTS c_invoiceline")?;
        Ok(())
    };
    // The nightly cases, per layout: the slice of the night before present
    // (loaded, then vacuumed: no garbage), and the previous night's garbage
    // present too (loaded, refreshed once, not vacuumed).
    let nightly = [
        ("nightly", pg_cfg("full"), "branch partitions"),
        ("nightly-plain", plain_cfg(), "plain table"),
    ];
    for (mode, cfg, layout) in &nightly {
        if !want(mode) {
            continue;
        }
        let dst_url = dbs.dst.clone();
        measure(&format!("full, first load ({layout})"), cfg, &mut |_| {
            drop_target(&dst_url)
        })?;
        measure(
            &format!("full, nightly, slice present ({layout})"),
            cfg,
            &mut |_| {
                drop_target(&dst_url)?;
                run_sync(cfg)?;
                fixture::connect(&dst_url)?.batch_execute("VACUUM ANALYZE c_invoiceline")?;
                Ok(())
            },
        )?;
        measure(
            &format!("full, nightly, last night's garbage ({layout})"),
            cfg,
            &mut |_| {
                drop_target(&dst_url)?;
                run_sync(cfg)?;
                run_sync(cfg)?;
                Ok(())
            },
        )?;
    }
    // What chunk size costs: the nightly refresh (slice present) at several
    // `chunk_rows`, the last one larger than the table (one chunk).
    if want("chunks") {
        for size in [50_000, 100_000, 250_000, 500_000, opts.rows + 1] {
            let cfg = pg_cfg_with("full", &format!("chunk_rows = {size}\n"));
            let dst_url = dbs.dst.clone();
            run_sync(&cfg)?;
            measure(
                &format!("full, nightly, chunk_rows = {size}"),
                &cfg,
                &mut |_| {
                    fixture::connect(&dst_url)?.batch_execute("VACUUM c_invoiceline")?;
                    Ok(())
                },
            )?;
        }
    }
    if want("full") || want("upsert") || want("upsert5") || want("incremental") {
        let cfg = pg_cfg("full");
        let dst_url = dbs.dst.clone();
        measure("full (pg → pg)", &cfg, &mut |_| drop_target(&dst_url))?;
    }
    if want("upsert") {
        measure("upsert, unchanged", &pg_cfg("upsert"), &mut |_| Ok(()))?;
    }
    if want("upsert5") {
        let src_url = dbs.src.clone();
        measure("upsert, 5% changed", &pg_cfg("upsert"), &mut |rep| {
            let mut c = fixture::connect(&src_url)?;
            c.execute(
                "UPDATE c_invoiceline SET priceactual = priceactual + 1, updated = updated + interval '1 day' WHERE c_invoiceline_id % 20 = $1::bigint",
                &[&(rep as i64 % 20)],
            )?;
            Ok(())
        })?;
    }
    if want("incremental") {
        let cfg = pg_cfg("incremental");
        run_sync(&cfg)?; // align the target with the source first
        measure("incremental, unchanged", &cfg, &mut |_| Ok(()))?;
        // Without an index on the cursor every run scans the whole source
        // table; with one, the source reads only the rows at the watermark.
        src.batch_execute("CREATE INDEX c_invoiceline_updated ON c_invoiceline (updated)")?;
        measure("incremental, unchanged, cursor indexed", &cfg, &mut |_| {
            Ok(())
        })?;
    }
    if want("sqlite") {
        let file = work.join("central.db");
        let cfg = write_config(
            &work,
            "postgres",
            &dbs.src,
            &format!(
                "driver = \"sqlite\"\nurl = {:?}",
                file.display().to_string()
            ),
            "full",
            opts.threads,
            "",
        );
        measure("full (pg → sqlite)", &cfg, &mut |_| {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            Ok(())
        })?;
    }
    if let Some(my_url) = &opts.mysql {
        cases.extend(mysql::cases(
            opts, my_url, &dbs.src, &dbs.dst, &work, bytes,
        )?);
    }
    for (mode, pace) in [("mirror", None), ("mirror100", Some(100e6))] {
        if want(mode) {
            cases.extend(mirror::run(
                &dbs.src,
                &dbs.dst,
                &work,
                opts.rows,
                opts.threads,
                opts.mirror_changed,
                pace,
            )?);
        }
    }
    if want("mirror-sweep") {
        cases.extend(mirror_sweep::run(
            &dbs.src,
            &dbs.dst,
            &work,
            opts.rows,
            opts.threads,
            opts.mirror_changed,
        )?);
    }
    let _ = std::fs::remove_dir_all(&work);
    drop(src);
    drop(dst);
    Ok(BenchReport {
        rows: opts.rows,
        table_mb: bytes as f64 / 1e6,
        cases,
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("branchsync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A config file of its own (numbered) for one case; `engine` adds keys to
/// `[engine]`.
fn write_config(
    work: &Path,
    src_driver: &str,
    src_url: &str,
    target: &str,
    mode: &str,
    threads: usize,
    engine: &str,
) -> std::path::PathBuf {
    let to = ["sqlite", "mysql"]
        .into_iter()
        .find(|d| target.contains(&format!("\"{d}\"")))
        .unwrap_or("pg");
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = work.join(format!("bench-{n}-{mode}-{src_driver}-{to}.toml"));
    let cursor = if mode == "incremental" {
        "cursor = \"updated\"\n"
    } else {
        ""
    };
    let text = format!(
        "[journal]\npath = \"journal.db\"\n\n[engine]\nthreads = {threads}\nretries = 0\n{engine}\n[target]\n{target}\n\n\
         [[connection]]\nname = \"bench_src\"\ndriver = \"{src_driver}\"\nurl = \"{src_url}\"\n\n\
         [[table]]\nmodel = \"CInvoiceLine\"\nsource = \"c_invoiceline\"\nkey = [\"c_invoiceline_id\"]\nmode = \"{mode}\"\n{cursor}"
    );
    let _ = std::fs::write(&path, text);
    path
}

/// Run the real binary's `sync-all`; (wall time, peak RSS in KiB).
pub(crate) fn run_sync(config: &Path) -> anyhow::Result<(Duration, u64)> {
    let exe = std::env::current_exe()?;
    let start = Instant::now();
    let child = std::process::Command::new(exe)
        .arg("--config")
        .arg(config)
        .args(["-q", "sync-all"])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let mut status = 0i32;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // wait4 reaps the child and reports its own peak RSS.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    if pid < 0 {
        anyhow::bail!("waiting for the sync failed");
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        anyhow::bail!(
            "the benchmark sync failed (config {}); run it by hand to see why",
            config.display()
        );
    }
    Ok((elapsed, usage.ru_maxrss as u64))
}
