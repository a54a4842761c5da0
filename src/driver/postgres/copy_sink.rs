//! The [`RowSink`] a PostgreSQL target hands to the feed: a `COPY … FROM
//! STDIN` that starts on first use, in binary when the source offers its raw
//! stream for exactly the target's types (with the branch field injected),
//! else in text from [`Value`] rows.

use super::binary_copy::{BranchInjector, BUFFER};
use super::endpoint::ErrCtx;
use super::errors::cancelled;
use super::text_copy::{branch_prefix, push_row};
use crate::driver::{DriverError, RawFormat, Result, RowSink, Value};
use postgres::{Client, CopyInWriter};
use std::io::{self, Write};

/// Passes writes on to the COPY, refusing them once the session is
/// cancelled; errors travel as [`DriverError`]s inside `io::Error`.
pub struct Guard<W: Write> {
    inner: W,
    ctx: ErrCtx,
    doing: String,
}

impl<W: Write> Write for Guard<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.ctx.is_cancelled() {
            return Err(io::Error::other(cancelled(&self.ctx.server, &self.doing)));
        }
        let n = self
            .inner
            .write(buf)
            .map_err(|e| io::Error::other(self.ctx.io(e, &self.doing)))?;
        self.ctx.copied(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner
            .flush()
            .map_err(|e| io::Error::other(self.ctx.io(e, &self.doing)))
    }
}

/// The binary COPY input, with or without the branch field.
pub enum BinaryOut<'c> {
    Inject(BranchInjector<Guard<CopyInWriter<'c>>>),
    Plain(Guard<CopyInWriter<'c>>),
}

impl Write for BinaryOut<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            BinaryOut::Inject(w) => w.write(buf),
            BinaryOut::Plain(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            BinaryOut::Inject(w) => w.write_all(buf),
            BinaryOut::Plain(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            BinaryOut::Inject(w) => w.flush(),
            BinaryOut::Plain(w) => w.flush(),
        }
    }
}

enum State<'c> {
    Idle,
    Binary(BinaryOut<'c>),
    Text(Guard<CopyInWriter<'c>>),
    Failed(DriverError),
}

/// A COPY into one table, started by the first row or the first request
/// for the binary writer.
pub struct CopySink<'c> {
    client: Option<&'c mut Client>,
    ctx: ErrCtx,
    doing: String,
    /// `COPY t (cols…) FROM STDIN`, without its options.
    copy: String,
    binary_ok: bool,
    branch: Option<String>,
    columns: usize,
    state: State<'c>,
    text: Vec<u8>,
    prefix: Vec<u8>,
    freeze: bool,
}

impl<'c> CopySink<'c> {
    /// `copy` lists the branch column first when `branch` is set.
    pub fn new(
        client: &'c mut Client,
        ctx: ErrCtx,
        doing: String,
        copy: String,
        binary_ok: bool,
        branch: Option<&str>,
        columns: usize,
    ) -> CopySink<'c> {
        CopySink {
            client: Some(client),
            ctx,
            doing,
            copy,
            binary_ok,
            prefix: branch.map(branch_prefix).unwrap_or_default(),
            branch: branch.map(str::to_owned),
            columns,
            state: State::Idle,
            text: Vec::new(),
            freeze: false,
        }
    }

    /// Load with `FREEZE`: rows land frozen, so no later vacuum rewrites
    /// them. Only for a table created or truncated in this transaction.
    pub fn freeze(mut self) -> Self {
        self.freeze = true;
        self
    }

    fn start(&mut self, binary: bool) -> Result<()> {
        let Some(client) = self.client.take() else {
            return Err(DriverError::other(format!(
                "{}: {}: the COPY was already started",
                self.ctx.server, self.doing
            )));
        };
        let sql = format!(
            "{} (FORMAT {}{})",
            self.copy,
            if binary { "binary" } else { "text" },
            if self.freeze { ", FREEZE" } else { "" }
        );
        let writer = match client.copy_in(sql.as_str()) {
            Ok(w) => w,
            Err(e) => {
                let err = self.ctx.pg(&e, &self.doing);
                self.state = State::Failed(err.clone());
                return Err(err);
            }
        };
        let guard = Guard {
            inner: writer,
            ctx: self.ctx.clone(),
            doing: self.doing.clone(),
        };
        self.state = match (binary, &self.branch) {
            (true, Some(b)) => State::Binary(BinaryOut::Inject(BranchInjector::new(guard, b))),
            (true, None) => State::Binary(BinaryOut::Plain(guard)),
            (false, _) => {
                self.text.reserve(BUFFER + BUFFER / 4);
                State::Text(guard)
            }
        };
        Ok(())
    }

    /// Ends the COPY; the server's count of rows loaded (0 when no row came).
    pub fn finish(self) -> Result<u64> {
        let ctx = self.ctx;
        let doing = self.doing;
        let io = |e: io::Error| ctx.io(e, &doing);
        let writer = match self.state {
            State::Idle => return Ok(0),
            State::Failed(e) => return Err(e),
            State::Binary(BinaryOut::Inject(w)) => w.finish().map_err(io)?.0,
            State::Binary(BinaryOut::Plain(w)) => w,
            State::Text(mut w) => {
                w.write_all(&self.text).map_err(io)?;
                w
            }
        };
        ctx.check_cancelled(&doing)?;
        writer.inner.finish().map_err(|e| ctx.pg(&e, &doing))
    }
}

impl RowSink for CopySink<'_> {
    fn row(&mut self, values: &[Value]) -> Result<()> {
        if values.len() != self.columns {
            return Err(DriverError::other(format!(
                "{}: {}: a row of {} values for {} columns",
                self.ctx.server,
                self.doing,
                values.len(),
                self.columns
            )));
        }
        if matches!(self.state, State::Idle) {
            self.start(false)?;
        }
        let w = match &mut self.state {
            State::Text(w) => w,
            State::Failed(e) => return Err(e.clone()),
            _ => {
                return Err(DriverError::other(format!(
                    "{}: {}: rows sent after binary COPY data",
                    self.ctx.server, self.doing
                )))
            }
        };
        push_row(&mut self.text, &self.prefix, values);
        if self.text.len() >= BUFFER {
            w.write_all(&self.text)
                .map_err(|e| self.ctx.io(e, &self.doing))?;
            self.text.clear();
        }
        Ok(())
    }

    fn raw(&mut self, format: RawFormat) -> Option<&mut dyn Write> {
        if !self.binary_ok || format != super::BINARY_COPY {
            return None;
        }
        if matches!(self.state, State::Idle) && self.start(true).is_err() {
            return None;
        }
        match &mut self.state {
            State::Binary(w) => Some(w),
            _ => None,
        }
    }
}
