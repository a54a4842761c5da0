//! Reading a table whose bytes the server cannot convert to UTF-8: the
//! server names no column, so this failure path finds the one to fix at the
//! branch.

use super::ident::quote_ident;
use super::source::PgSource;
use crate::driver::{ColumnKind, DriverError, ReadRequest};
use postgres::fallible_iterator::FallibleIterator;

/// SQLSTATE 22021: bytes the server cannot convert to the client's UTF-8
/// (typically a `SQL_ASCII` branch holding Latin-1 text).
const INVALID_BYTES: &str = "22021";

impl PgSource {
    /// When a read of `table` failed with `original` because some value is
    /// not valid UTF-8 (the server says so but not where): find the column
    /// (one text column at a time, only on this failure path) so the
    /// operator knows what to fix at the branch. Any other error comes back
    /// as it was.
    pub(super) fn name_invalid_column(
        &mut self,
        req: &ReadRequest,
        table: &str,
        original: DriverError,
    ) -> DriverError {
        if !original.message.contains(INVALID_BYTES) {
            return original;
        }
        let server = self.session.server.clone();
        let encoding: String = self
            .session
            .client()
            .query_one("SHOW server_encoding", &[])
            .map(|r| r.get(0))
            .unwrap_or_else(|_| "?".into());
        let text_like = req
            .columns
            .iter()
            .filter(|c| matches!(c.kind, ColumnKind::Text | ColumnKind::Json));
        for c in text_like {
            let sql = format!("SELECT {} FROM {table}", quote_ident(&c.name));
            let bad = match self
                .session
                .client()
                .query_raw(&sql, std::iter::empty::<i32>())
            {
                Ok(mut rows) => loop {
                    match rows.next() {
                        Ok(Some(_)) => continue,
                        Ok(None) => break false,
                        Err(e) => {
                            break e.code().map(|c| c.code() == INVALID_BYTES).unwrap_or(false)
                        }
                    }
                },
                Err(e) => e.code().map(|c| c.code() == INVALID_BYTES).unwrap_or(false),
            };
            if bad {
                return DriverError::other(format!(
                    "{server}: reading {table}: column {} holds bytes that are not valid UTF-8 (the branch database's encoding is {encoding}). \
                     Re-encode those values as UTF-8 at the branch, then resume the batch",
                    quote_ident(&c.name)
                ));
            }
        }
        original
    }
}
