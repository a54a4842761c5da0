//! The [`RowSink`] of a merged upsert. It asks the source for key-ordered
//! rows; when the source's raw binary COPY stream arrives it reads the
//! target's rows of the slice, sorted the same way, on the target's own
//! connection inside the write transaction, and keeps only the tuples that
//! differ (see [`super::merge`]). A source that sends decoded rows instead
//! gets the plain staging COPY.

use super::binary_copy::BUFFER;
use super::copy_sink::CopySink;
use super::diff_spool::{DiffSpool, MEMORY_LIMIT};
use super::endpoint::ErrCtx;
use super::errors::cancelled;
use super::merge::{KeyMerge, MergeCounts};
use crate::driver::postgres::binary_key::KeyLayout;
use crate::driver::{DriverError, RawFormat, Result, RowSink, Value};
use postgres::{Client, CopyOutReader};
use std::io::{self, Write};

/// The merge as the source's writer: refuses data once the target session
/// is cancelled, and names the target in its errors.
pub struct MergeWriter<'c> {
    merge: KeyMerge<CopyOutReader<'c>, DiffSpool>,
    ctx: ErrCtx,
    doing: String,
}

impl Write for MergeWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ctx.is_cancelled() {
            return Err(io::Error::other(cancelled(&self.ctx.server, &self.doing)));
        }
        self.merge
            .write(buf)
            .map_err(|e| io::Error::other(self.ctx.io(e, &self.doing)))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How the staging table is made and loaded when the source sends rows.
pub struct StagePlan {
    /// `CREATE TEMP TABLE …`.
    pub create: String,
    /// `COPY stage (cols…) FROM STDIN`, without options.
    pub copy: String,
    pub columns: usize,
}

enum State<'c> {
    Idle,
    Merging(Box<MergeWriter<'c>>),
    Staging(Box<CopySink<'c>>),
    Failed(DriverError),
}

/// What the feed left behind.
pub enum Merged {
    /// The source sent nothing at all.
    Nothing,
    /// The source's stream was merged; `spool` holds the differing tuples.
    Diff {
        counts: MergeCounts,
        spool: DiffSpool,
    },
    /// The source sent rows, now all in the staging table.
    Staged(u64),
}

pub struct MergeSink<'c> {
    client: Option<&'c mut Client>,
    ctx: ErrCtx,
    doing: String,
    layout: KeyLayout,
    /// `COPY (SELECT cols FROM t WHERE … ORDER BY key…) TO STDOUT (FORMAT binary)`.
    target_copy: String,
    stage: StagePlan,
    state: State<'c>,
    stream_open: bool,
}

impl<'c> MergeSink<'c> {
    pub fn new(
        client: &'c mut Client,
        ctx: ErrCtx,
        doing: String,
        layout: KeyLayout,
        target_copy: String,
        stage: StagePlan,
    ) -> MergeSink<'c> {
        MergeSink {
            client: Some(client),
            ctx,
            doing,
            layout,
            target_copy,
            stage,
            state: State::Idle,
            stream_open: false,
        }
    }

    fn fail(&mut self, err: DriverError) -> DriverError {
        self.state = State::Failed(err.clone());
        err
    }

    fn start_merge(&mut self) -> Result<()> {
        let client = self.take_client()?;
        let doing = format!("{} (reading the target's rows to compare)", self.doing);
        let reader = match client.copy_out(self.target_copy.as_str()) {
            Ok(r) => r,
            Err(e) => {
                let err = self.ctx.pg(&e, &doing);
                return Err(self.fail(err));
            }
        };
        self.stream_open = true;
        let spool = DiffSpool::new(MEMORY_LIMIT);
        let merge = KeyMerge::new(self.layout.clone(), reader, BUFFER, spool);
        self.state = State::Merging(Box::new(MergeWriter {
            merge,
            ctx: self.ctx.clone(),
            doing,
        }));
        Ok(())
    }

    fn start_staging(&mut self) -> Result<()> {
        let client = self.take_client()?;
        if let Err(e) = client.batch_execute(&self.stage.create) {
            let err = self.ctx.pg(&e, &self.doing);
            return Err(self.fail(err));
        }
        let sink = CopySink::new(
            client,
            self.ctx.clone(),
            self.doing.clone(),
            self.stage.copy.clone(),
            false,
            None,
            self.stage.columns,
        );
        self.state = State::Staging(Box::new(sink));
        Ok(())
    }

    fn take_client(&mut self) -> Result<&'c mut Client> {
        self.client.take().ok_or_else(|| {
            DriverError::other(format!(
                "{}: {}: the target was already in use by this copy",
                self.ctx.server, self.doing
            ))
        })
    }

    /// Is the target's stream open (started and not read to its end)? A
    /// failed write must then stop it rather than wait for its end.
    pub fn stream_open(&self) -> bool {
        self.stream_open
    }

    /// Ends the feed: completes the merge (reading the rest of the target's
    /// stream) or the staging COPY.
    pub fn finish(&mut self) -> Result<Merged> {
        let ctx = self.ctx.clone();
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Idle => Ok(Merged::Nothing),
            State::Failed(e) => Err(e),
            State::Merging(w) => {
                let MergeWriter { merge, doing, .. } = *w;
                ctx.check_cancelled(&doing)?;
                let (counts, spool) = merge.finish().map_err(|e| ctx.io(e, &doing))?;
                self.stream_open = false;
                Ok(Merged::Diff { counts, spool })
            }
            State::Staging(sink) => Ok(Merged::Staged(sink.finish()?)),
        }
    }
}

impl RowSink for MergeSink<'_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        if matches!(self.state, State::Idle) {
            self.start_staging()?;
        }
        match &mut self.state {
            State::Staging(sink) => sink.row(values),
            State::Failed(e) => Err(e.clone()),
            _ => Err(DriverError::other(format!(
                "{}: {}: rows sent after binary COPY data",
                self.ctx.server, self.doing
            ))),
        }
    }

    fn raw(&mut self, format: RawFormat) -> Option<&mut dyn Write> {
        if format != super::BINARY_COPY {
            return None;
        }
        if matches!(self.state, State::Idle) && self.start_merge().is_err() {
            return None;
        }
        match &mut self.state {
            State::Merging(w) => Some(&mut **w),
            _ => None,
        }
    }

    fn wants_key_order(&self) -> bool {
        true
    }
}
