//! `bench --mysql URL`: the MySQL cases, each against the command-line pipe
//! a person would use for the same move, in the same run on the same rows:
//! MySQL → PostgreSQL against `mysql --batch --quick -e "SELECT …" | psql
//! -c "COPY … FROM STDIN"`, and PostgreSQL → MySQL against `psql -c "COPY …
//! TO STDOUT" | mysql -e "LOAD DATA LOCAL INFILE '/dev/stdin' …"`.

use super::{case, fixture, run_sync, write_config, BenchOptions, Case};
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The benchmark table in MySQL's dialect (the PostgreSQL one's columns).
const DDL: &str = "CREATE TABLE c_invoiceline (
    c_invoiceline_id DECIMAL(10,0) PRIMARY KEY,
    ad_client_id DECIMAL(10,0) NOT NULL,
    ad_org_id DECIMAL(10,0) NOT NULL,
    isactive CHAR(1) NOT NULL DEFAULT 'Y',
    created DATETIME(6) NOT NULL,
    updated DATETIME(6) NOT NULL,
    c_invoice_id DECIMAL(10,0) NOT NULL,
    line DECIMAL(10,0) NOT NULL,
    description VARCHAR(255),
    m_product_id DECIMAL(10,0),
    qtyinvoiced DECIMAL(20,4) NOT NULL,
    pricelist DECIMAL(20,4) NOT NULL,
    priceactual DECIMAL(20,4) NOT NULL,
    linenetamt DECIMAL(20,4) NOT NULL,
    c_tax_id DECIMAL(10,0) NOT NULL
) ENGINE=InnoDB CHARACTER SET utf8mb4";

/// A database of the benchmark on the MySQL server, dropped at the end.
struct MyDb {
    admin: Opts,
    name: String,
}

impl MyDb {
    fn create(admin: &Opts, role: &str) -> anyhow::Result<MyDb> {
        let name = format!("branchsync_bench_{role}_{}", std::process::id());
        let mut c = Conn::new(admin.clone())?;
        c.query_drop(format!("DROP DATABASE IF EXISTS `{name}`"))?;
        c.query_drop(format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))?;
        Ok(MyDb {
            admin: admin.clone(),
            name,
        })
    }

    fn conn(&self) -> anyhow::Result<Conn> {
        Ok(Conn::new(
            OptsBuilder::from_opts(self.admin.clone()).db_name(Some(&self.name)),
        )?)
    }

    fn url(&self, base: &str) -> String {
        let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
        format!("{root}/{}", self.name)
    }

    /// The `mysql` client's arguments for this database.
    fn cli_args(&self) -> Vec<String> {
        let o = &self.admin;
        let mut a = vec![
            "--protocol=tcp".to_owned(),
            format!("-h{}", o.get_ip_or_hostname()),
            format!("-P{}", o.get_tcp_port()),
        ];
        if let Some(u) = o.get_user() {
            a.push(format!("-u{u}"));
        }
        a.push(self.name.clone());
        a
    }

    fn cli(&self) -> Command {
        let mut c = Command::new("mysql");
        c.args(self.cli_args());
        if let Some(pw) = self.admin.get_pass() {
            c.env("MYSQL_PWD", pw);
        }
        c
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        if let Ok(mut c) = Conn::new(self.admin.clone()) {
            let _ = c.query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

pub fn mysql_available() -> bool {
    Command::new("mysql")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `psql COPY … TO STDOUT | mysql LOAD DATA LOCAL INFILE … INTO TABLE
/// {into}` (text formats agree: tab-separated, `\N` for NULL, backslash
/// escapes); `into` may end in a column list and a `SET`.
fn pg_to_mysql_pipe(pg_url: &str, db: &MyDb, into: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut out = Command::new("psql")
        .args([pg_url, "-qAtX", "-c", "COPY c_invoiceline TO STDOUT"])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = out.stdout.take().expect("piped");
    let status_in = db
        .cli()
        .args([
            "--local-infile=1",
            "-e",
            &format!("LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE {into}"),
        ])
        .stdin(stdout)
        .stdout(Stdio::null())
        .status()?;
    let status_out = out.wait()?;
    if !status_in.success() || !status_out.success() {
        anyhow::bail!("the psql | mysql pipe failed");
    }
    Ok(start.elapsed())
}

/// `mysql --batch --quick -e "SELECT …" | psql COPY FROM STDIN` (the
/// client prints NULL as `NULL`).
fn mysql_to_pg_pipe(db: &MyDb, pg_url: &str, table: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut out = db
        .cli()
        .args([
            "--batch",
            "--quick",
            "--skip-column-names",
            "-e",
            "SELECT * FROM c_invoiceline",
        ])
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = out.stdout.take().expect("piped");
    let status_in = Command::new("psql")
        .args([pg_url, "-qAtX", "-c"])
        .arg(format!("COPY {table} FROM STDIN (NULL 'NULL')"))
        .stdin(stdout)
        .stdout(Stdio::null())
        .status()?;
    let status_out = out.wait()?;
    if !status_in.success() || !status_out.success() {
        anyhow::bail!("the mysql | psql pipe failed");
    }
    Ok(start.elapsed())
}

/// The MySQL cases; `src` and `dst` are the PostgreSQL benchmark databases
/// (`src` already holds the generated table).
pub fn cases(
    opts: &BenchOptions,
    my_url: &str,
    src: &str,
    dst: &str,
    work: &Path,
    bytes: u64,
) -> anyhow::Result<Vec<Case>> {
    let (rows, reps, threads) = (opts.rows, opts.reps, opts.threads);
    if !mysql_available() || !super::pipe::psql_available() {
        anyhow::bail!("--mysql needs the mysql and psql clients on PATH (for the baselines)");
    }
    let admin = Opts::from_url(my_url)?;
    let my_src = MyDb::create(&admin, "src")?;
    let my_dst = MyDb::create(&admin, "dst")?;
    eprintln!("Loading the rows into MySQL…");
    my_src.conn()?.query_drop(DDL)?;
    pg_to_mysql_pipe(src, &my_src, "c_invoiceline")?;
    let n: Option<u64> = my_src
        .conn()?
        .query_first("SELECT count(*) FROM c_invoiceline")?;
    if n != Some(rows) {
        anyhow::bail!("loading MySQL moved {n:?} of {rows} rows");
    }
    let mut out = Vec::new();
    // The pipe and our run take turns in every repetition, so a busy spell
    // of a shared machine slows both.
    let interleaved = |pipe: &mut dyn FnMut() -> anyhow::Result<Duration>,
                       ours: &mut dyn FnMut() -> anyhow::Result<(Duration, u64)>|
     -> anyhow::Result<(Vec<Duration>, Vec<Duration>, u64)> {
        let (mut p, mut o, mut rss) = (Vec::new(), Vec::new(), 0);
        for _ in 0..reps {
            let (t, r) = ours()?;
            o.push(t);
            rss = rss.max(r);
            p.push(pipe()?);
        }
        Ok((p, o, rss))
    };
    let mut pg = fixture::connect(dst)?;

    // MySQL → PostgreSQL: the pipe loads a plain table of the fixture's
    // types; ours, the central table `sync-all` creates.
    pg.batch_execute(&fixture::ddl("pipe_target"))?;
    let cfg = write_config(
        work,
        "mysql",
        &my_src.url(my_url),
        &format!("driver = \"postgres\"\nurl = \"{dst}\""),
        "full",
        threads,
        "",
    );
    let pg_cell = std::cell::RefCell::new(pg);
    let (pipe_t, t, rss) = interleaved(
        &mut || {
            pg_cell.borrow_mut().batch_execute("TRUNCATE pipe_target")?;
            mysql_to_pg_pipe(&my_src, dst, "pipe_target")
        },
        &mut || {
            pg_cell
                .borrow_mut()
                .batch_execute("DROP TABLE IF EXISTS c_invoiceline")?;
            run_sync(&cfg)
        },
    )?;
    let mut pg = pg_cell.into_inner();
    pg.batch_execute("DROP TABLE pipe_target")?;
    let n: i64 = pg
        .query_one("SELECT count(*) FROM c_invoiceline", &[])?
        .get(0);
    if n as u64 != rows {
        anyhow::bail!("full (mysql → pg) copied {n} of {rows} rows");
    }
    out.extend(pipe_and_ours(
        ("mysql --batch | psql COPY pipe", &pipe_t),
        ("full (mysql → pg)", &t, rss),
        rows,
        bytes,
    ));

    // PostgreSQL → MySQL: the pipe loads a table of the shape `sync-all`
    // creates (the branch column first in the key, PostgreSQL's unbounded
    // numeric as DECIMAL(65,30)), made after our first run, with the branch
    // set by its LOAD DATA as ours sets it; so both give the server the
    // same work.
    let cfg = write_config(
        work,
        "postgres",
        src,
        &format!("driver = \"mysql\"\nurl = \"{}\"", my_dst.url(my_url)),
        "full",
        threads,
        "",
    );
    let my = std::cell::RefCell::new(my_dst.conn()?);
    let mut into = String::new();
    let (pipe_t, t, rss) = interleaved(
        &mut || {
            let mut c = my.borrow_mut();
            if into.is_empty() {
                c.query_drop("CREATE TABLE pipe_target LIKE c_invoiceline")?;
                into = pipe_into(&mut c, "pipe_target")?;
            }
            c.query_drop("TRUNCATE pipe_target")?;
            drop(c);
            pg_to_mysql_pipe(src, &my_dst, &into)
        },
        &mut || {
            my.borrow_mut()
                .query_drop("DROP TABLE IF EXISTS c_invoiceline")?;
            run_sync(&cfg)
        },
    )?;
    let mut my = my.into_inner();
    let n: Option<u64> = my.query_first("SELECT count(*) FROM c_invoiceline")?;
    let piped: Option<u64> = my.query_first("SELECT count(*) FROM pipe_target")?;
    if n != Some(rows) || piped != Some(rows) {
        anyhow::bail!("full (pg → mysql) copied {n:?} of {rows} rows, the pipe {piped:?}");
    }
    my.query_drop("DROP TABLE pipe_target")?;
    out.extend(pipe_and_ours(
        ("psql COPY | mysql LOAD DATA pipe", &pipe_t),
        ("full (pg → mysql)", &t, rss),
        rows,
        bytes,
    ));
    Ok(out)
}

/// A pipe's case and ours against it: (name, times) of the pipe, (name,
/// times, peak RSS) of ours.
fn pipe_and_ours(
    pipe: (&str, &[Duration]),
    ours: (&str, &[Duration], u64),
    rows: u64,
    bytes: u64,
) -> [Case; 2] {
    let pipe = case(pipe.0, pipe.1, rows, bytes, None, None);
    let pipe_s = pipe.median_s;
    let ours = case(ours.0, ours.1, rows, bytes, Some(pipe_s), Some(ours.2));
    [pipe, ours]
}

/// `table (columns) SET branch = 'bench_src'`: the pipe's LOAD DATA into a
/// copy of the central table, whose first column is the branch.
fn pipe_into(c: &mut Conn, table: &str) -> anyhow::Result<String> {
    let cols: Vec<String> = c.exec(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        (table,),
    )?;
    let Some((branch, rest)) = cols.split_first() else {
        anyhow::bail!("table {table} has no columns");
    };
    Ok(format!(
        "{table} ({}) SET `{branch}` = 'bench_src'",
        rest.iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}
