//! The MySQL driver's own facts against the real local MariaDB/MySQL
//! (`BRANCHSYNC_TEST_MYSQL`): the `full` bulk path (`LOAD DATA LOCAL
//! INFILE` from memory) stores awkward values exactly and refuses what a
//! column cannot hold; a server that refuses local files gets `INSERT`s,
//! said once in the log; sessions honour the statement timeout, stop on a
//! cancel (`KILL QUERY`), take `password_env`, and keep `sslmode`.

mod common;
#[path = "driver_mysql/load.rs"]
mod load;
#[path = "driver_mysql/refused.rs"]
mod refused;
#[path = "driver_mysql/session.rs"]
mod session;
#[path = "driver_mysql/tls.rs"]
mod tls;

use branchsync::config::{EngineConfig, Mode, ServerConfig};
use branchsync::driver::{open_endpoint, Column, Endpoint, Result, RowSink, Value, WritePlan};
use common::mysql::MyDb;
use mysql::prelude::Queryable;

/// A `[[connection]]`/`[target]` entry for `url`, with `extra` TOML keys.
pub fn server(name: &str, url: &str, extra: &str) -> ServerConfig {
    let mut s: ServerConfig = toml::from_str(&format!(
        "name = {name:?}\ndriver = \"mysql\"\nurl = {url:?}\n{extra}"
    ))
    .unwrap();
    s.name = name.to_owned();
    s
}

pub fn open(server: &ServerConfig, engine: &EngineConfig) -> Result<Box<dyn Endpoint>> {
    open_endpoint(server, engine, 4)
}

/// The endpoint of a test database, with the default engine settings.
pub fn endpoint(db: &MyDb) -> Box<dyn Endpoint> {
    open(&server("target", &db.url, ""), &EngineConfig::default()).unwrap()
}

/// The columns of `table` as the driver reads them.
pub fn columns(ep: &dyn Endpoint, table: &str) -> Vec<Column> {
    ep.source()
        .unwrap()
        .describe(None, table)
        .unwrap()
        .unwrap()
        .columns
}

/// Writes `rows` into `table` of `db` with `mode`, as branch `br` when
/// the table has a `branch` column first.
pub fn write(db: &MyDb, table: &str, mode: Mode, rows: &[Vec<Value>]) -> Result<u64> {
    let ep = endpoint(db);
    let all = columns(&*ep, table);
    let branched = all.first().is_some_and(|c| c.name == "branch");
    let cols: Vec<Column> = all.into_iter().skip(usize::from(branched)).collect();
    let key = vec![cols[0].name.clone()];
    let plan = WritePlan {
        schema: "",
        table,
        columns: &cols,
        key: &key,
        mode,
        cursor: None,
        branch: branched.then_some(("branch", "br")),
        partition_by_branch: false,
        key_unique_at_source: true,
    };
    let mut t = ep.target()?;
    t.prepare(&plan)?;
    let outcome = t.write(&plan, &mut |sink: &mut dyn RowSink| {
        for r in rows {
            sink.row(r)?;
        }
        Ok(rows.len() as u64)
    })?;
    Ok(outcome.processed)
}

/// `LOAD DATA` statements the server has run, all sessions together.
pub fn loads_run() -> u64 {
    let (_, n): (String, u64) = MyDb::admin()
        .query_first("SHOW GLOBAL STATUS LIKE 'Com_load'")
        .unwrap()
        .unwrap();
    n
}
