//! A `full` copy into a target that can stage (see [`Target::can_stage`]):
//! the source is read in key-range chunks of `[engine] chunk_rows` rows, each
//! written into the stage in its own target transaction and then recorded in
//! the journal; when every chunk is in, the target publishes the stage at
//! once. A cut, a kill or a power loss costs at most the chunk in flight: the
//! next attempt (or the resume of the batch) asks the target what its stage
//! holds and goes on after the last committed chunk.
//!
//! Chunks come from separate source reads, each in its own snapshot: a
//! chunked copy of a table that changes while it is read is consistent per
//! chunk, not as a whole (a resumed copy could never be otherwise).

use super::live::LiveTable;
use super::progress::JobBar;
use super::worker::{CountingSink, RunContext};
use crate::driver::{
    Chunk, DriverError, ErrorKind, KeyRange, ReadRequest, RejectSink, RowSink, Source, Target,
    WriteOutcome, WritePlan,
};

/// What the staged copy of one job works with.
pub struct StagedCopy<'a, 'r> {
    pub conn: &'a str,
    pub table: &'a str,
    pub plan: &'a WritePlan<'a>,
    pub req: &'a ReadRequest<'r>,
    pub bar: &'a JobBar,
    pub live: &'a LiveTable,
}

impl RunContext<'_> {
    /// Runs the staged copy; `progressed` is set once a chunk is committed
    /// by this attempt (such an attempt does not count as a retry).
    pub(super) fn staged_copy(
        &self,
        job: &StagedCopy,
        source: &mut dyn Source,
        target: &mut dyn Target,
        rejects: &mut dyn RejectSink,
        progressed: &mut bool,
    ) -> Result<WriteOutcome, DriverError> {
        let (conn, table) = (job.conn, job.table);
        let run = self.batch_id;
        let p = self.log_prefix;
        let mut state = target.stage_open(job.plan, run)?;
        if state.chunks > 0 {
            log::info!(
                "{p}: Resuming {table} from {conn} after chunk {} ({} records already staged)",
                state.chunks,
                state.rows
            );
            job.bar.add_rows(state.rows);
        }
        while !state.loaded {
            let lower = state.last.clone();
            let upper = source.key_bound(job.req, lower.as_deref(), self.chunk_rows)?;
            let range = KeyRange {
                lower: lower.as_deref(),
                upper: upper.as_deref(),
            };
            let chunk = Chunk {
                number: state.chunks + 1,
                range,
            };
            let req = ReadRequest {
                range,
                ..job.req.clone()
            };
            let rows = {
                let mut feed = |sink: &mut dyn RowSink| {
                    let mut counting = CountingSink::new(sink, job.bar, job.live);
                    let n = source.read(&req, &mut counting, rejects);
                    counting.flush();
                    n
                };
                target.stage_chunk(job.plan, run, &chunk, &mut feed)?
            };
            let bound = upper
                .as_ref()
                .map(|u| serde_json::to_string(u).unwrap_or_default());
            let recorded = self.journal(|j| {
                j.record_chunk(run, conn, table, chunk.number, bound.as_deref(), rows)
            });
            if recorded.is_none() {
                return Err(DriverError::new(
                    ErrorKind::Cancelled,
                    "the journal could not be written",
                ));
            }
            *progressed = true;
            self.attempt_alive(conn, table);
            if upper.is_some() || chunk.number > 1 {
                log::info!(
                    "{p}: Chunk {} of {table} from {conn} committed ({rows} records)",
                    chunk.number
                );
            }
            state.chunks = chunk.number;
            state.rows += rows;
            state.loaded = upper.is_none();
            state.last = upper;
        }
        // The key is built on the loaded stage, then it is swapped in.
        job.bar.phase("building indexes");
        target.stage_publish(job.plan, run)?;
        Ok(WriteOutcome {
            processed: state.rows,
            ..WriteOutcome::default()
        })
    }
}
