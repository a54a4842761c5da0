//! The bytes a completed copy journals. Outside `mirror`, what the engine
//! can count honestly: the raw stream a source hands straight to the target
//! (PostgreSQL's COPY data), which passes through the engine, and what the
//! target's driver says it sent. Decoded rows travel inside the drivers,
//! where the engine sees no bytes; such copies journal NULL rather than an
//! estimate. A `mirror` by range checksums journals what its drivers
//! counted on the sockets of both links ([`WriteOutcome::link`]).

use crate::config::Mode;
use crate::driver::WriteOutcome;
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

/// (bytes read, bytes written) of a completed copy in `mode`: for `mirror`
/// both links' bytes where both ends counted them (NULL for the streaming
/// merge); otherwise the raw stream's bytes when whole, and what the
/// target's driver `sent`, except for a `staged` copy that may hold chunks
/// of an earlier run.
pub fn journaled_bytes(
    outcome: &WriteOutcome,
    mode: Mode,
    staged: bool,
    tally: &LinkTally,
    sent: impl FnOnce() -> Option<u64>,
) -> (Option<u64>, Option<u64>) {
    if mode == Mode::Mirror {
        return (
            outcome.link.map(|l| l.read),
            outcome.link.map(|l| l.written),
        );
    }
    let read = tally.bytes_read(outcome.processed);
    let whole = !staged || read.is_some();
    (read, whole.then(sent).flatten())
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

    #[test]
    fn mirror_journals_its_links_and_the_other_modes_their_streams() {
        let link = crate::driver::LinkBytes {
            read: 7_000,
            written: 900,
        };
        let mut o = WriteOutcome {
            processed: 10,
            link: Some(link),
            ..WriteOutcome::default()
        };
        let tally = LinkTally::default();
        let sent = || Some(123);
        assert_eq!(
            journaled_bytes(&o, Mode::Mirror, false, &tally, sent),
            (Some(7_000), Some(900))
        );
        o.link = None;
        assert_eq!(
            journaled_bytes(&o, Mode::Mirror, false, &tally, sent),
            (None, None),
            "the streaming merge counts nothing"
        );
        assert_eq!(
            journaled_bytes(&o, Mode::Upsert, false, &tally, sent),
            (None, Some(123))
        );
        assert_eq!(
            journaled_bytes(&o, Mode::Full, true, &tally, sent),
            (None, None),
            "a staged copy without a whole stream"
        );
    }
}
