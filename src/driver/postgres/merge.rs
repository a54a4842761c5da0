//! The key-ordered merge behind fast upserts: the source's binary COPY
//! stream is written into a [`KeyMerge`], which walks the target's stream of
//! the same columns (both sorted by the key) side by side with it, counts
//! tuples that are byte-for-byte identical to the target's, and passes only
//! new or changed tuples on. Target rows the source does not have are left
//! alone (upsert never deletes). Only key fields are decoded; the rest of a
//! tuple is compared as bytes. Memory stays bounded: tuples are compared in
//! place and only one cut by a chunk boundary is copied.
//!
//! Skipping needs nothing but a key match and identical bytes, so a source
//! that ignores the requested order costs speed (more rows are passed on),
//! never correctness.

use super::binary_key::{key_fields, KeyLayout};
use super::key_text::key_text;
use super::tuple_frame::{frame, header, Frame, TupleReader};
use crate::driver::error::repeated_key;
use std::cmp::Ordering;
use std::io::{self, BufRead, Write};
use std::ops::Range;

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Where the tuples that differ go, one complete tuple per call.
pub trait DiffSink {
    fn tuple(&mut self, tuple: &[u8]) -> io::Result<()>;
}

impl DiffSink for Vec<u8> {
    fn tuple(&mut self, tuple: &[u8]) -> io::Result<()> {
        self.extend_from_slice(tuple);
        Ok(())
    }
}

/// What a finished merge saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Tuples of the source.
    pub source: u64,
    /// Source tuples identical to the target's tuple of the same key.
    pub identical: u64,
    /// Source tuples passed on (new keys or changed content).
    pub differing: u64,
    /// Tuples read from the target.
    pub target: u64,
}

/// Where the source stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header,
    Tuples,
    Done,
}

/// A writer for the source's binary COPY stream that merges it with the
/// target's stream `target` and hands differing tuples to `diff`.
pub struct KeyMerge<R: BufRead, D: DiffSink> {
    layout: KeyLayout,
    target: TupleReader<R>,
    target_keys: Vec<Option<Range<usize>>>,
    target_started: bool,
    diff: D,
    phase: Phase,
    /// The start of the stream, or of a tuple, cut by a chunk boundary.
    pending: Vec<u8>,
    source_keys: Vec<Option<Range<usize>>>,
    /// The previous source tuple's key fields, to catch duplicate keys.
    prev: Vec<u8>,
    prev_keys: Vec<Option<Range<usize>>>,
    counts: MergeCounts,
}

impl<R: BufRead, D: DiffSink> KeyMerge<R, D> {
    /// `target` is the target's stream (`COPY (SELECT … ORDER BY key…) TO
    /// STDOUT (FORMAT binary)`), read with a buffer of `capacity` bytes.
    pub fn new(layout: KeyLayout, target: R, capacity: usize, diff: D) -> KeyMerge<R, D> {
        KeyMerge {
            layout,
            target: TupleReader::new(target, capacity),
            target_keys: Vec::new(),
            target_started: false,
            diff,
            phase: Phase::Header,
            pending: Vec::new(),
            source_keys: Vec::new(),
            prev: Vec::new(),
            prev_keys: Vec::new(),
            counts: MergeCounts::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> MergeCounts {
        MergeCounts {
            target: self.target.tuples(),
            ..self.counts
        }
    }

    /// Moves the target stream on and finds the new tuple's keys.
    fn advance_target(&mut self) -> io::Result<()> {
        self.target.advance()?;
        if let Some(t) = self.target.current() {
            key_fields(&self.layout, t, &mut self.target_keys)
                .map_err(|e| invalid(format!("target stream: {e}")))?;
        }
        Ok(())
    }

    /// One complete source tuple.
    fn merge_tuple(&mut self, s: &[u8]) -> io::Result<()> {
        if !self.target_started {
            self.target_started = true;
            self.advance_target()?;
        }
        key_fields(&self.layout, s, &mut self.source_keys)
            .map_err(|e| invalid(format!("source stream: {e}")))?;
        self.counts.source += 1;
        if self.counts.source > 1
            && self
                .layout
                .compare(&self.prev, &self.prev_keys, s, &self.source_keys)
                == Ordering::Equal
        {
            let names: Vec<String> = self.layout.named.iter().map(|(n, _)| n.clone()).collect();
            let value: Vec<Option<String>> = self
                .layout
                .named
                .iter()
                .zip(&self.source_keys)
                .map(|((_, ty), at)| {
                    let bytes = &s[at.clone()?];
                    Some(key_text(ty, bytes).unwrap_or_else(|| format!("{bytes:02x?}")))
                })
                .collect();
            return Err(invalid(repeated_key(&names, &value, None)));
        }
        self.remember_key(s);
        while let Some(t) = self.target.current() {
            match self
                .layout
                .compare(t, &self.target_keys, s, &self.source_keys)
            {
                // A target row the source does not have: left alone.
                Ordering::Less => self.advance_target()?,
                Ordering::Equal => {
                    let same = t == s;
                    self.advance_target()?;
                    if same {
                        self.counts.identical += 1;
                        return Ok(());
                    }
                    break;
                }
                Ordering::Greater => break,
            }
        }
        self.counts.differing += 1;
        self.diff.tuple(s)
    }

    fn remember_key(&mut self, s: &[u8]) {
        self.prev.clear();
        self.prev_keys.clear();
        for r in &self.source_keys {
            self.prev_keys.push(r.as_ref().map(|r| {
                let at = self.prev.len();
                self.prev.extend_from_slice(&s[r.clone()]);
                at..self.prev.len()
            }));
        }
    }

    /// Completes the header or the tuple in `pending` from `data`; returns
    /// the bytes of `data` used.
    fn complete_pending(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut used = 0;
        loop {
            if self.phase == Phase::Header {
                match header(&self.pending)? {
                    Some(n) if n == self.pending.len() => {
                        self.pending.clear();
                        self.phase = Phase::Tuples;
                        return Ok(used);
                    }
                    Some(_) => unreachable!("the header is completed one byte at a time"),
                    None => {}
                }
                if used == data.len() {
                    return Ok(used);
                }
                self.pending.push(data[used]);
                used += 1;
                continue;
            }
            match frame(&self.pending)? {
                Frame::Tuple(n) => {
                    debug_assert_eq!(n, self.pending.len());
                    let tuple = std::mem::take(&mut self.pending);
                    let r = self.merge_tuple(&tuple);
                    self.pending = tuple;
                    self.pending.clear();
                    r?;
                    return Ok(used);
                }
                Frame::Trailer => {
                    self.pending.clear();
                    self.phase = Phase::Done;
                    return Ok(used);
                }
                Frame::Need(n) => {
                    let take = (n - self.pending.len()).min(data.len() - used);
                    if take == 0 {
                        return Ok(used);
                    }
                    self.pending.extend_from_slice(&data[used..used + take]);
                    used += take;
                }
            }
        }
    }

    /// Ends the merge: checks that the source stream was complete, reads
    /// the rest of the target's stream, and returns the counts and the sink.
    pub fn finish(mut self) -> io::Result<(MergeCounts, D)> {
        if self.phase != Phase::Done {
            return Err(invalid(format!(
                "the source's binary COPY data ended after {} tuples without its trailer",
                self.counts.source
            )));
        }
        if !self.target_started {
            self.advance_target()?;
        }
        while self.target.current().is_some() {
            self.target.advance()?;
        }
        Ok((self.counts(), self.diff))
    }
}

impl<R: BufRead, D: DiffSink> Write for KeyMerge<R, D> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        if self.phase != Phase::Done && (!self.pending.is_empty() || self.phase == Phase::Header) {
            let used = self.complete_pending(rest)?;
            rest = &rest[used..];
        }
        while !rest.is_empty() {
            if self.phase == Phase::Done {
                return Err(invalid(
                    "the source's binary COPY data goes on after its trailer",
                ));
            }
            match frame(rest)? {
                Frame::Tuple(n) => {
                    self.merge_tuple(&rest[..n])?;
                    rest = &rest[n..];
                }
                Frame::Trailer => {
                    self.phase = Phase::Done;
                    rest = &rest[2..];
                }
                Frame::Need(_) => {
                    self.pending.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
