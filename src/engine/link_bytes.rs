//! Bytes read from a branch that the engine can count honestly: the raw
//! stream a source hands straight to the target (PostgreSQL's COPY data),
//! which passes through the engine. Decoded rows and range checksums travel
//! inside the drivers, where the engine sees no bytes; such copies journal
//! NULL rather than an estimate.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the raw streams of one attempt carried.
#[derive(Debug, Default)]
pub struct LinkTally {
    bytes: AtomicU64,
    rows: AtomicU64,
}

impl LinkTally {
    pub fn add_rows(&self, n: u64) {
        self.rows.fetch_add(n, Ordering::Relaxed);
    }

    /// The bytes read, when every one of the `rows` the write reports came
    /// through a raw stream of this attempt (so the count is whole); `None`
    /// otherwise (decoded rows, range checksums, chunks of an earlier run).
    pub fn bytes_read(&self, rows: u64) -> Option<u64> {
        let bytes = self.bytes.load(Ordering::Relaxed);
        (bytes > 0 && self.rows.load(Ordering::Relaxed) == rows).then_some(bytes)
    }
}

/// A raw stream's writer that counts the bytes passed on.
pub struct TallyWriter<'w, 't> {
    pub inner: &'w mut dyn Write,
    pub tally: &'t LinkTally,
}

impl Write for TallyWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.tally.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_only_when_every_row_came_raw() {
        let tally = LinkTally::default();
        let mut out = Vec::new();
        let mut w = TallyWriter {
            inner: &mut out,
            tally: &tally,
        };
        w.write_all(b"PGCOPY\n\xff\r\n\0 some tuples").unwrap();
        tally.add_rows(3);
        let n = out.len() as u64;
        assert_eq!(tally.bytes_read(3), Some(n));
        assert_eq!(tally.bytes_read(4), None, "a row that came decoded");
        assert_eq!(LinkTally::default().bytes_read(0), None, "no raw stream");
    }
}
