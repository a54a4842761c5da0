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

/// `psql COPY … TO STDOUT | mysql LOAD DATA LOCAL INFILE` (text formats
/// agree: tab-separated, `\N` for NULL, backslash escapes).
fn pg_to_mysql_pipe(pg_url: &str, db: &MyDb) -> anyhow::Result<Duration> {
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
            "LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE c_invoiceline",
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
    pg_to_mysql_pipe(src, &my_src)?;
    let n: Option<u64> = my_src
        .conn()?
        .query_first("SELECT count(*) FROM c_invoiceline")?;
    if n != Some(rows) {
        anyhow::bail!("loading MySQL moved {n:?} of {rows} rows");
    }
    let mut out = Vec::new();
    let timed = |f: &mut dyn FnMut() -> anyhow::Result<(Duration, u64)>| -> anyhow::Result<(Vec<Duration>, u64)> {
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..reps {
            let (t, r) = f()?;
            times.push(t);
            rss = rss.max(r);
        }
        Ok((times, rss))
    };
    let mut pg = fixture::connect(dst)?;

    // MySQL → PostgreSQL.
    pg.batch_execute(&fixture::ddl("pipe_target"))?;
    let (t, _) = timed(&mut || {
        pg.batch_execute("TRUNCATE pipe_target")?;
        Ok((mysql_to_pg_pipe(&my_src, dst, "pipe_target")?, 0))
    })?;
    pg.batch_execute("DROP TABLE pipe_target")?;
    let pipe = case(
        "mysql --batch | psql COPY pipe",
        &t,
        rows,
        bytes,
        None,
        None,
    );
    let pipe_s = pipe.median_s;
    out.push(pipe);
    let cfg = write_config(
        work,
        "mysql",
        &my_src.url(my_url),
        &format!("driver = \"postgres\"\nurl = \"{dst}\""),
        "full",
        threads,
        "",
    );
    let (t, rss) = timed(&mut || {
        pg.batch_execute("DROP TABLE IF EXISTS c_invoiceline")?;
        run_sync(&cfg)
    })?;
    let n: i64 = pg
        .query_one("SELECT count(*) FROM c_invoiceline", &[])?
        .get(0);
    if n as u64 != rows {
        anyhow::bail!("full (mysql → pg) copied {n} of {rows} rows");
    }
    out.push(case(
        "full (mysql → pg)",
        &t,
        rows,
        bytes,
        Some(pipe_s),
        Some(rss),
    ));

    // PostgreSQL → MySQL.
    let mut my = my_dst.conn()?;
    my.query_drop(DDL)?;
    let (t, _) = timed(&mut || {
        my.query_drop("TRUNCATE c_invoiceline")?;
        Ok((pg_to_mysql_pipe(src, &my_dst)?, 0))
    })?;
    my.query_drop("DROP TABLE c_invoiceline")?;
    let pipe = case(
        "psql COPY | mysql LOAD DATA pipe",
        &t,
        rows,
        bytes,
        None,
        None,
    );
    let pipe_s = pipe.median_s;
    out.push(pipe);
    let cfg = write_config(
        work,
        "postgres",
        src,
        &format!("driver = \"mysql\"\nurl = \"{}\"", my_dst.url(my_url)),
        "full",
        threads,
        "",
    );
    let (t, rss) = timed(&mut || {
        my.query_drop("DROP TABLE IF EXISTS c_invoiceline")?;
        run_sync(&cfg)
    })?;
    let n: Option<u64> = my.query_first("SELECT count(*) FROM c_invoiceline")?;
    if n != Some(rows) {
        anyhow::bail!("full (pg → mysql) copied {n:?} of {rows} rows");
    }
    out.push(case(
        "full (pg → mysql)",
        &t,
        rows,
        bytes,
        Some(pipe_s),
        Some(rss),
    ));
    Ok(out)
}
