//! What the journal knows ahead of a copy: how many rows each table
//! brought the last time it completed (the progress bars' expectation when
//! the source has no estimate, and for incremental copies, which read only
//! what changed), and each table's last description at each connection
//! (the schema plan of a batch uses it for a branch that cannot be reached).

use super::{now_utc, Journal, Result};
use rusqlite::params;
use std::collections::HashMap;

impl Journal {
    /// Record the description (JSON) of `table` at `connection`.
    pub fn record_description(
        &mut self,
        connection: &str,
        table: &str,
        description: &str,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO table_descriptions (connection_name, table_name, description, described_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (connection_name, table_name)
                 DO UPDATE SET description = excluded.description, described_at = excluded.described_at",
                params![connection, table, description, now_utc()],
            )
            .map(|_| ())
        })
    }

    /// The last recorded description of `table` at `connection`, and when.
    pub fn last_description(
        &self,
        connection: &str,
        table: &str,
    ) -> Result<Option<(String, String)>> {
        let rows = self.query_vec(
            "SELECT description, described_at FROM table_descriptions
             WHERE connection_name = ?1 AND table_name = ?2",
            params![connection, table],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )?;
        Ok(rows.into_iter().next())
    }
}

impl Journal {
    /// Rows read by the newest completed copy of each (connection, table).
    pub fn last_row_counts(&self) -> Result<HashMap<(String, String), u64>> {
        // SQLite gives the bare columns of the row that holds max(id).
        let rows = self.query_vec(
            "SELECT connection_name, table_name, records_processed, max(id)
             FROM sync_progress WHERE status = 'completed'
             GROUP BY connection_name, table_name",
            [],
            |r| {
                Ok((
                    (r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        Ok(rows
            .into_iter()
            .map(|(k, n)| (k, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::{Journal, NewProgress, RowCounts};

    #[test]
    fn the_newest_completed_count_of_each_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let rows = [NewProgress {
            connection_name: "b1".into(),
            table_name: "t".into(),
            model_name: "T".into(),
            step: 1,
        }];
        for (n, complete) in [(10, true), (25, true), (99, false)] {
            let id = crate::journal::new_batch_id();
            j.create_batch(&id, "{}", &rows).unwrap();
            j.start_progress(&id, "b1", "t").unwrap();
            if complete {
                let counts = RowCounts {
                    processed: n,
                    skipped: 0,
                    ..Default::default()
                };
                j.complete_progress(&id, "b1", "t", counts).unwrap();
            }
        }
        let counts = j.last_row_counts().unwrap();
        assert_eq!(counts.get(&("b1".into(), "t".into())), Some(&25));
        assert_eq!(counts.len(), 1);
    }
}
