//! Keys a source sends twice. `INSERT … ON DUPLICATE KEY UPDATE` takes a
//! repeated key without a word (the later row wins), so a write whose
//! source may repeat keys (`mirror`, and `upsert`/`incremental` from a table
//! without a primary key on the key) also records every key it sends in a
//! temporary table whose primary key refuses a repeat (error 1062). This
//! module owns that table and turns the refusal into an error that names
//! the key columns and one repeated value.

use super::session::Session;
use super::values::ident;
use crate::config::Mode;
use crate::driver::{DriverError, WritePlan};
use mysql::prelude::Queryable;

/// The temporary table of the keys sent.
pub const SEEN: &str = "`branchsync_seen`";

/// The rows of the failed statement, without a key constraint.
const SENT: &str = "`branchsync_sent`";

/// Does a write of `plan` record the keys it sends?
pub fn recorded(plan: &WritePlan) -> bool {
    plan.mode == Mode::Mirror || (plan.mode != Mode::Full && !plan.key_unique_at_source)
}

/// Creates the (empty) table of keys sent, with the target's key types.
pub fn create(
    s: &mut Session,
    plan: &WritePlan,
    target: &str,
    doing: &str,
) -> crate::driver::Result<()> {
    let keys: Vec<String> = plan.key.iter().map(|k| ident(k)).collect();
    s.exec(&format!("DROP TEMPORARY TABLE IF EXISTS {SEEN}"), doing)?;
    s.exec(
        &format!(
            "CREATE TEMPORARY TABLE {SEEN} (PRIMARY KEY ({0})) ENGINE=InnoDB AS SELECT {0} FROM {target} WHERE 0",
            keys.join(", ")
        ),
        doing,
    )
}

/// Is `e` the refusal of a repeated key?
pub fn is_repeat(e: &mysql::Error) -> bool {
    matches!(e, mysql::Error::MySqlError(m) if m.code == 1062)
}

/// The error for `insert` (`INSERT INTO seen VALUES …`, refused as
/// [`is_repeat`]): one key value the source sent twice, found among the
/// statement's rows and the keys recorded before it.
pub fn error(
    s: &mut Session,
    plan: &WritePlan,
    insert: &str,
    e: &mysql::Error,
    doing: &str,
) -> DriverError {
    let named = format!("{}: table {}", s.name, plan.table);
    let branch = plan.branch.map(|(_, name)| name);
    match find(s, plan, insert) {
        Ok(Some(value)) => DriverError::duplicate_key(&named, plan.key, &value, branch),
        _ => {
            let mut err = s.err(e, doing);
            err.message.push_str(&format!(
                "; the source sent one key ({}) more than once: declare the columns that are unique at the source as the [[table]]'s key, or remove the duplicates at the branch",
                plan.key.join(", ")
            ));
            err
        }
    }
}

/// One key value held by two of the statement's rows, or by one of them
/// and a key recorded before.
fn find(
    s: &mut Session,
    plan: &WritePlan,
    insert: &str,
) -> Result<Option<Vec<Option<String>>>, mysql::Error> {
    let Some((_, rows)) = insert.split_once(" VALUES ") else {
        return Ok(None);
    };
    let keys: Vec<String> = plan.key.iter().map(|k| ident(k)).collect();
    let cols = keys.join(", ");
    let conn = s.conn();
    conn.query_drop(format!("DROP TEMPORARY TABLE IF EXISTS {SENT}"))?;
    conn.query_drop(format!(
        "CREATE TEMPORARY TABLE {SENT} ENGINE=InnoDB AS SELECT {cols} FROM {SEEN} WHERE 0"
    ))?;
    conn.query_drop(format!("INSERT INTO {SENT} VALUES {rows}"))?;
    let texts: Vec<String> = keys.iter().map(|k| format!("CAST({k} AS CHAR)")).collect();
    let row: Option<mysql::Row> = conn.query_first(format!(
        "SELECT {} FROM (SELECT {cols} FROM {SENT} UNION ALL SELECT {cols} FROM {SEEN}) x \
         GROUP BY {cols} HAVING count(*) > 1 LIMIT 1",
        texts.join(", ")
    ))?;
    let _ = conn.query_drop(format!("DROP TEMPORARY TABLE {SENT}"));
    Ok(row.map(|r| {
        (0..keys.len())
            .map(|i| {
                r.get_opt::<Option<String>, _>(i)
                    .and_then(|v| v.ok())
                    .flatten()
            })
            .collect()
    }))
}
