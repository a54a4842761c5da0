//! Whole tuples out of a binary COPY stream, for code that must look at a
//! tuple as one slice (the upsert merge compares tuples bytewise). The
//! [`super::binary_copy::Scanner`] walks a stream that passes through;
//! these functions say where a tuple ends, or how many bytes are still
//! missing, so that callers can keep tuples in place and copy only the one
//! cut by a chunk boundary.

use super::binary_copy::SIGNATURE;
use std::io::{self, BufRead};

/// The fixed part of the header: signature, flags, extension length.
pub const HEADER_LEN: usize = 19;

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// What starts at a tuple boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A complete tuple of this many bytes.
    Tuple(usize),
    /// The 2-byte trailer.
    Trailer,
    /// Incomplete: at least this many bytes (from the boundary) are needed
    /// to learn more; never more than the rest of the tuple.
    Need(usize),
}

/// Frames what starts at `buf[0]`, a tuple boundary.
pub fn frame(buf: &[u8]) -> io::Result<Frame> {
    if buf.len() < 2 {
        return Ok(Frame::Need(2));
    }
    let n = i16::from_be_bytes([buf[0], buf[1]]);
    if n == -1 {
        return Ok(Frame::Trailer);
    }
    if n < 0 {
        return Err(invalid(format!("binary COPY tuple with {n} fields")));
    }
    let mut at = 2usize;
    for _ in 0..n {
        if buf.len() < at + 4 {
            return Ok(Frame::Need(at + 4));
        }
        let len = i32::from_be_bytes(buf[at..at + 4].try_into().unwrap_or_default());
        if len < -1 {
            return Err(invalid(format!("binary COPY field of length {len}")));
        }
        at += 4 + len.max(0) as usize;
        if buf.len() < at {
            return Ok(Frame::Need(at));
        }
    }
    Ok(Frame::Tuple(at))
}

/// The length of the complete header at `buf[0]` (signature, flags,
/// extension), `Ok(None)` when more bytes are needed, or an error when it
/// is not a header this code can read.
pub fn header(buf: &[u8]) -> io::Result<Option<usize>> {
    if buf.len() < HEADER_LEN {
        if !SIGNATURE.starts_with(&buf[..buf.len().min(SIGNATURE.len())]) {
            return Err(invalid("not a binary COPY stream (bad signature)"));
        }
        return Ok(None);
    }
    if &buf[..11] != SIGNATURE {
        return Err(invalid("not a binary COPY stream (bad signature)"));
    }
    let flags = u32::from_be_bytes(buf[11..15].try_into().unwrap_or_default());
    if flags != 0 {
        return Err(invalid(format!(
            "binary COPY stream has flags {flags:#x} (OIDs or unknown critical flags), which is not supported"
        )));
    }
    let ext = u32::from_be_bytes(buf[15..19].try_into().unwrap_or_default()) as usize;
    let total = HEADER_LEN + ext;
    Ok((buf.len() >= total).then_some(total))
}

/// Bytes a refill waits for at least (when the buffer is that large):
/// about 400 tuples of a typical ERP table, few calls, little latency.
const FILL_BATCH: usize = 64 * 1024;

/// The header of a stream this code writes: no flags, no extension.
pub fn plain_header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..11].copy_from_slice(SIGNATURE);
    h
}

/// Reads the tuples of a binary COPY stream from a [`BufRead`] into its own
/// large buffer, so that the current tuple is one slice in place.
pub struct TupleReader<R: BufRead> {
    reader: R,
    buf: Vec<u8>,
    /// The current tuple is `buf[start..start + len]` (len 0: none).
    start: usize,
    len: usize,
    end: usize,
    header_done: bool,
    trailer_seen: bool,
    reader_ended: bool,
    tuples: u64,
}

impl<R: BufRead> TupleReader<R> {
    /// A reader with a buffer of `capacity` bytes (grown for larger tuples).
    pub fn new(reader: R, capacity: usize) -> TupleReader<R> {
        TupleReader {
            reader,
            buf: vec![0; capacity.max(64)],
            start: 0,
            len: 0,
            end: 0,
            header_done: false,
            trailer_seen: false,
            reader_ended: false,
            tuples: 0,
        }
    }

    /// The current tuple, `None` once the stream has ended.
    pub fn current(&self) -> Option<&[u8]> {
        (self.len > 0).then(|| &self.buf[self.start..self.start + self.len])
    }

    /// Tuples read so far.
    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    /// Moves the unread bytes to the front and reads behind them until at
    /// least `need` bytes (and a batch worth the call) are unread; false
    /// when the reader had nothing more.
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.reader_ended {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if need > self.buf.len() {
            self.buf.resize(need.next_power_of_two(), 0);
        }
        let want = need.max(self.buf.len().min(FILL_BATCH));
        let before = self.end;
        while self.end < want {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                self.reader_ended = true;
                break;
            }
            let n = chunk.len().min(self.buf.len() - self.end);
            self.buf[self.end..self.end + n].copy_from_slice(&chunk[..n]);
            self.reader.consume(n);
            self.end += n;
        }
        Ok(self.end > before)
    }

    /// Moves to the next tuple (the first one on the first call).
    pub fn advance(&mut self) -> io::Result<()> {
        self.start += self.len;
        self.len = 0;
        if self.trailer_seen {
            return Ok(());
        }
        if !self.header_done {
            loop {
                match header(&self.buf[self.start..self.end])? {
                    Some(n) => {
                        self.start += n;
                        self.header_done = true;
                        break;
                    }
                    None => {
                        let need = (self.end - self.start).max(HEADER_LEN) + 64;
                        if !self.fill(need)? {
                            return Err(invalid("binary COPY stream ended inside its header"));
                        }
                    }
                }
            }
        }
        loop {
            match frame(&self.buf[self.start..self.end])? {
                Frame::Tuple(n) => {
                    self.len = n;
                    self.tuples += 1;
                    return Ok(());
                }
                Frame::Trailer => {
                    self.start += 2;
                    self.trailer_seen = true;
                    if self.start < self.end || self.fill(1)? {
                        return Err(invalid("binary COPY stream has data after its trailer"));
                    }
                    return Ok(());
                }
                Frame::Need(n) => {
                    if !self.fill(n)? {
                        return Err(invalid(format!(
                            "binary COPY data ended after {} tuples without its trailer",
                            self.tuples
                        )));
                    }
                }
            }
        }
    }
}
