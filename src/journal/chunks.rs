//! The committed chunks of large copies (`sync_chunks`, schema version 5):
//! one row per key-range chunk the target committed, so that `sync-status`
//! and the operator can see how far a long copy got and where a resume goes
//! on. The target's own stage is what a resume trusts (it commits its mark
//! with the rows); this is the record of it.

use super::{now_utc, Journal, Result};
use rusqlite::params;

/// One committed chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRow {
    pub chunk_no: u32,
    /// The key's text forms (JSON array); `None` for the last chunk.
    pub upper_key: Option<String>,
    pub rows: u64,
    pub committed_at: String,
}

impl Journal {
    /// The target committed chunk `chunk_no` of this copy.
    pub fn record_chunk(
        &mut self,
        batch_id: &str,
        conn: &str,
        table: &str,
        chunk_no: u32,
        upper_key: Option<&str>,
        rows: u64,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_chunks (batch_id, connection_name, table_name, chunk_no, upper_key, rows, committed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (batch_id, connection_name, table_name, chunk_no)
                 DO UPDATE SET upper_key = excluded.upper_key, rows = excluded.rows, committed_at = excluded.committed_at",
                params![batch_id, conn, table, chunk_no as i64, upper_key, rows as i64, now_utc()],
            )?;
            Ok(())
        })
    }

    /// The committed chunks of one copy, in order.
    pub fn chunks(&self, batch_id: &str, conn: &str, table: &str) -> Result<Vec<ChunkRow>> {
        self.query_vec(
            "SELECT chunk_no, upper_key, rows, committed_at FROM sync_chunks
             WHERE batch_id = ?1 AND connection_name = ?2 AND table_name = ?3 ORDER BY chunk_no",
            params![batch_id, conn, table],
            |r| {
                Ok(ChunkRow {
                    chunk_no: r.get::<_, i64>(0)? as u32,
                    upper_key: r.get(1)?,
                    rows: r.get::<_, i64>(2)? as u64,
                    committed_at: r.get(3)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::NewProgress;

    #[test]
    fn chunks_are_recorded_in_order_and_a_repeat_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("j.db")).unwrap();
        let id = crate::journal::new_batch_id();
        let rows = [NewProgress {
            connection_name: "pgsql_lmp".into(),
            table_name: "t".into(),
            model_name: "T".into(),
            step: 2,
        }];
        j.create_batch(&id, "{}", &rows).unwrap();
        j.record_chunk(&id, "pgsql_lmp", "t", 2, None, 5).unwrap();
        j.record_chunk(&id, "pgsql_lmp", "t", 1, Some("[\"10\"]"), 10)
            .unwrap();
        j.record_chunk(&id, "pgsql_lmp", "t", 2, None, 7).unwrap();
        let got = j.chunks(&id, "pgsql_lmp", "t").unwrap();
        let summary: Vec<(u32, Option<&str>, u64)> = got
            .iter()
            .map(|c| (c.chunk_no, c.upper_key.as_deref(), c.rows))
            .collect();
        assert_eq!(summary, [(1, Some("[\"10\"]"), 10), (2, None, 7)]);
    }
}
