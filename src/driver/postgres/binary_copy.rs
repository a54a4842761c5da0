//! PostgreSQL binary COPY streams, read as they pass: a state machine that
//! finds tuple boundaries across arbitrary chunk splits, so that the
//! passthrough can count tuples and prepend the branch field to each one
//! without decoding a single value or allocating per row.
//!
//! Format: an 11-byte signature, an int32 flags word, an int32 header
//! extension length and that many bytes; then tuples, each an int16 field
//! count followed by fields (int32 length, `-1` for NULL, then the bytes);
//! then the trailer, an int16 `-1`.

use std::io::{self, Write};

/// `PGCOPY\n\377\r\n\0`.
pub const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
const HEADER_LEN: usize = 19;
/// Flag bit 16: the stream carries OIDs (not produced since PostgreSQL 12).
const FLAG_OIDS: u32 = 1 << 16;
/// Output is handed on in buffers of about this size.
pub const BUFFER: usize = 1 << 20;

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Extension(u32),
    Count,
    FieldLen,
    FieldData(u32),
    Done,
}

/// What the scanner reports: the stream's bytes, except each tuple's field
/// count and the trailer, which come as events.
pub trait Events {
    fn bytes(&mut self, b: &[u8]) -> io::Result<()>;
    fn tuple(&mut self, fields: i16) -> io::Result<()>;
    fn trailer(&mut self) -> io::Result<()>;
}

/// The tuple-boundary state machine.
#[derive(Debug, Clone)]
pub struct Scanner {
    state: State,
    fields_left: u16,
    acc: [u8; HEADER_LEN],
    have: usize,
    tuples: u64,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner {
            state: State::Header,
            fields_left: 0,
            acc: [0; HEADER_LEN],
            have: 0,
            tuples: 0,
        }
    }

    /// Tuples seen so far.
    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    /// Has the trailer been seen?
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Errors unless the stream ended cleanly with its trailer.
    pub fn finish(&self) -> io::Result<()> {
        if self.is_done() {
            Ok(())
        } else {
            Err(invalid(format!(
                "binary COPY data ended after {} tuples without its trailer",
                self.tuples
            )))
        }
    }

    /// Collects up to `need` bytes of a fixed-size item into `acc`; true
    /// when complete.
    fn collect(&mut self, data: &[u8], i: &mut usize, need: usize) -> bool {
        let take = (need - self.have).min(data.len() - *i);
        self.acc[self.have..self.have + take].copy_from_slice(&data[*i..*i + take]);
        self.have += take;
        *i += take;
        if self.have == need {
            self.have = 0;
            true
        } else {
            false
        }
    }

    fn next_field(&mut self) {
        self.fields_left -= 1;
        self.state = if self.fields_left == 0 {
            State::Count
        } else {
            State::FieldLen
        };
    }

    /// Scans the next chunk of the stream, reporting to `ev`.
    pub fn feed<E: Events + ?Sized>(&mut self, data: &[u8], ev: &mut E) -> io::Result<()> {
        let mut i = 0;
        let mut span = 0;
        while i < data.len() {
            match self.state {
                State::Header => {
                    if self.collect(data, &mut i, HEADER_LEN) {
                        if &self.acc[..11] != SIGNATURE {
                            return Err(invalid("not a binary COPY stream (bad signature)"));
                        }
                        let flags = u32::from_be_bytes(self.acc[11..15].try_into().unwrap());
                        if flags & FLAG_OIDS != 0 {
                            return Err(invalid(
                                "binary COPY stream carries OIDs, which is not supported",
                            ));
                        }
                        if flags & 0xffff != 0 {
                            return Err(invalid(format!(
                                "binary COPY stream has unknown critical flags {flags:#x}"
                            )));
                        }
                        let ext = u32::from_be_bytes(self.acc[15..19].try_into().unwrap());
                        self.state = if ext > 0 {
                            State::Extension(ext)
                        } else {
                            State::Count
                        };
                    }
                }
                State::Extension(left) => {
                    let take = (left as usize).min(data.len() - i);
                    i += take;
                    let left = left - take as u32;
                    self.state = if left == 0 {
                        State::Count
                    } else {
                        State::Extension(left)
                    };
                }
                State::Count => {
                    if self.have == 0 && span < i {
                        ev.bytes(&data[span..i])?;
                    }
                    let done = self.collect(data, &mut i, 2);
                    span = i;
                    if done {
                        let n = i16::from_be_bytes([self.acc[0], self.acc[1]]);
                        if n == -1 {
                            ev.trailer()?;
                            self.state = State::Done;
                        } else if n < 0 {
                            return Err(invalid(format!("binary COPY tuple with {n} fields")));
                        } else {
                            ev.tuple(n)?;
                            self.tuples += 1;
                            self.fields_left = n as u16;
                            self.state = if n == 0 {
                                State::Count
                            } else {
                                State::FieldLen
                            };
                        }
                    }
                }
                State::FieldLen if self.have == 0 && data.len() - i >= 4 => {
                    // Fast path: skip whole fields while they lie in this chunk.
                    loop {
                        let l = i32::from_be_bytes(data[i..i + 4].try_into().unwrap());
                        if l < -1 {
                            return Err(invalid(format!("binary COPY field of length {l}")));
                        }
                        i += 4;
                        let l = l.max(0) as usize;
                        if data.len() - i < l {
                            self.state = State::FieldData(l as u32);
                            break;
                        }
                        i += l;
                        self.fields_left -= 1;
                        if self.fields_left == 0 {
                            self.state = State::Count;
                            break;
                        }
                        if data.len() - i < 4 {
                            break;
                        }
                    }
                }
                State::FieldLen => {
                    let len = if self.collect(data, &mut i, 4) {
                        Some(i32::from_be_bytes(self.acc[..4].try_into().unwrap()))
                    } else {
                        None
                    };
                    match len {
                        None => {}
                        Some(-1) | Some(0) => self.next_field(),
                        Some(l) if l < 0 => {
                            return Err(invalid(format!("binary COPY field of length {l}")))
                        }
                        Some(l) => self.state = State::FieldData(l as u32),
                    }
                }
                State::FieldData(left) => {
                    let take = (left as usize).min(data.len() - i);
                    i += take;
                    let left = left - take as u32;
                    if left == 0 {
                        self.next_field();
                    } else {
                        self.state = State::FieldData(left);
                    }
                }
                State::Done => {
                    return Err(invalid("binary COPY stream has data after its trailer"));
                }
            }
        }
        if span < data.len() {
            ev.bytes(&data[span..])?;
        }
        Ok(())
    }
}

/// Counts tuples and ignores the bytes.
struct Count;

impl Events for Count {
    fn bytes(&mut self, _: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn tuple(&mut self, _: i16) -> io::Result<()> {
        Ok(())
    }
    fn trailer(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Validates a stream and counts its tuples as it passes.
#[derive(Debug, Default, Clone)]
pub struct TupleCounter {
    scanner: Scanner,
}

impl TupleCounter {
    pub fn new() -> TupleCounter {
        TupleCounter::default()
    }

    pub fn scan(&mut self, data: &[u8]) -> io::Result<()> {
        self.scanner.feed(data, &mut Count)
    }

    pub fn tuples(&self) -> u64 {
        self.scanner.tuples()
    }

    pub fn finish(&self) -> io::Result<u64> {
        self.scanner.finish()?;
        Ok(self.scanner.tuples())
    }
}

/// The rewritten stream, buffered, on its way to `inner`.
struct Out<'a, W: Write> {
    buf: &'a mut Vec<u8>,
    inner: &'a mut W,
    field: &'a [u8],
}

impl<W: Write> Out<'_, W> {
    fn spill(&mut self) -> io::Result<()> {
        if self.buf.len() >= BUFFER {
            self.inner.write_all(self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl<W: Write> Events for Out<'_, W> {
    fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        self.spill()
    }

    fn tuple(&mut self, fields: i16) -> io::Result<()> {
        let n = fields
            .checked_add(1)
            .ok_or_else(|| invalid("binary COPY tuple has too many fields to add one"))?;
        self.buf.extend_from_slice(&n.to_be_bytes());
        self.buf.extend_from_slice(self.field);
        Ok(())
    }

    fn trailer(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        Ok(())
    }
}

/// A writer that takes a binary COPY stream and hands `inner` the same
/// stream with one more field first in every tuple: the branch name as
/// text. Load it with `COPY t (branch, cols…) FROM STDIN (FORMAT binary)`.
pub struct BranchInjector<W: Write> {
    inner: W,
    scanner: Scanner,
    buf: Vec<u8>,
    /// The field to prepend: int32 length, then the UTF-8 bytes.
    field: Vec<u8>,
}

impl<W: Write> BranchInjector<W> {
    pub fn new(inner: W, branch: &str) -> BranchInjector<W> {
        let mut field = Vec::with_capacity(4 + branch.len());
        field.extend_from_slice(&(branch.len() as i32).to_be_bytes());
        field.extend_from_slice(branch.as_bytes());
        BranchInjector {
            inner,
            scanner: Scanner::new(),
            buf: Vec::with_capacity(BUFFER + BUFFER / 4),
            field,
        }
    }

    /// Tuples seen so far.
    pub fn tuples(&self) -> u64 {
        self.scanner.tuples()
    }

    /// Checks that the stream ended with its trailer, hands on what is
    /// buffered, and returns the inner writer and the tuple count.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.scanner.finish()?;
        if !self.buf.is_empty() {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok((self.inner, self.scanner.tuples()))
    }
}

impl<W: Write> Write for BranchInjector<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut out = Out {
            buf: &mut self.buf,
            inner: &mut self.inner,
            field: &self.field,
        };
        self.scanner.feed(data, &mut out)?;
        out.spill()?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        self.inner.flush()
    }
}

#[cfg(test)]
#[path = "binary_copy_tests.rs"]
mod tests;
