//! The key a source sent twice, for the error of a merge whose staged rows
//! repeat a key. PostgreSQL refuses such a merge with SQLSTATE 21000 (`ON
//! CONFLICT DO UPDATE command cannot affect row a second time`), naming
//! neither the key nor the value; a source table without a primary key on
//! the `[[table]]`'s key is the usual cause. The merge runs under a
//! savepoint, so that after the refusal the staged rows can still be asked
//! for one repeated key.

use super::endpoint::Session;
use super::ident::{quote_ident, quote_list};
use crate::driver::DriverError;
use postgres::error::SqlState;

/// The savepoint around the merge statement.
pub const SAVEPOINT: &str = "branchsync_merge";

/// Is `e` PostgreSQL's refusal to update one row twice in a statement?
pub fn is_repeated_key(e: &postgres::Error) -> bool {
    e.code() == Some(&SqlState::CARDINALITY_VIOLATION)
}

/// The error for a merge of `stage` refused as [`is_repeated_key`]: names
/// `named`, the key columns and one key value found twice in the stage.
/// When the stage cannot be asked, the server's error with the same fix.
pub fn error(
    session: &mut Session,
    e: &postgres::Error,
    doing: &str,
    named: &str,
    stage: &str,
    key: &[String],
    branch: Option<&str>,
) -> DriverError {
    let found = session
        .client()
        .batch_execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
        .and_then(|_| one_repeated(session, stage, key));
    match found {
        Ok(Some(value)) => DriverError::duplicate_key(named, key, &value, branch),
        _ => {
            let mut err = session.err(e, doing);
            err.message.push_str(&format!(
                "; the source sent one key ({}) more than once: declare the columns that are unique at the source as the [[table]]'s key, or remove the duplicates at the branch",
                key.join(", ")
            ));
            err
        }
    }
}

/// One key value (as text) that more than one row of `stage` holds.
fn one_repeated(
    session: &mut Session,
    stage: &str,
    key: &[String],
) -> Result<Option<Vec<Option<String>>>, postgres::Error> {
    let texts: Vec<String> = key
        .iter()
        .map(|k| format!("{}::text", quote_ident(k)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {stage} GROUP BY {} HAVING count(*) > 1 LIMIT 1",
        texts.join(", "),
        quote_list(key.iter().map(String::as_str))
    );
    let rows = session.client().query(sql.as_str(), &[])?;
    Ok(rows
        .first()
        .map(|r| (0..key.len()).map(|i| r.get(i)).collect()))
}
