//! The tuples an upsert merge found new or changed, held until the target's
//! stream has ended and the connection is free to load them into the staging
//! table. A few megabytes stay in memory; beyond that they go to an unnamed
//! temporary file, so memory stays bounded however much has changed.

use super::binary_copy::BUFFER;
use super::merge::DiffSink;
use super::tuple_frame::plain_header;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes kept in memory before the spool moves to a file.
pub const MEMORY_LIMIT: usize = 16 << 20;

/// A binary COPY stream (header, tuples, trailer) being built.
pub struct DiffSpool {
    mem: Vec<u8>,
    file: Option<File>,
    limit: usize,
    tuples: u64,
    bytes: u64,
}

impl DiffSpool {
    /// A spool that keeps up to `limit` bytes in memory.
    pub fn new(limit: usize) -> DiffSpool {
        DiffSpool {
            mem: plain_header().to_vec(),
            file: None,
            limit,
            tuples: 0,
            bytes: 0,
        }
    }

    /// Tuples held.
    pub fn tuples(&self) -> u64 {
        self.tuples
    }

    /// Has the spool moved to a file?
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Bytes of tuples held.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            self.file = Some(anonymous_file()?);
        }
        if let Some(f) = &mut self.file {
            f.write_all(&self.mem)?;
        }
        self.mem.clear();
        Ok(())
    }

    /// Writes the whole stream to `out`: header, tuples, trailer.
    pub fn copy_to(mut self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.seek(SeekFrom::Start(0))?;
            let mut buf = vec![0u8; BUFFER];
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                out.write_all(&buf[..n])?;
            }
        }
        self.mem.extend_from_slice(&(-1i16).to_be_bytes());
        out.write_all(&self.mem)
    }
}

impl DiffSink for DiffSpool {
    fn tuple(&mut self, tuple: &[u8]) -> io::Result<()> {
        if self.mem.len() + tuple.len() > self.limit && !self.mem.is_empty() {
            self.spill()?;
        }
        self.mem.extend_from_slice(tuple);
        self.tuples += 1;
        self.bytes += tuple.len() as u64;
        Ok(())
    }
}

/// A new file in the temporary directory, readable only by us, whose name
/// is removed at once: the data goes away with the handle, even after a kill.
fn anonymous_file() -> io::Result<File> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    let path: PathBuf = dir.join(format!(
        "branchsync-upsert-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let file = opts.open(&path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "cannot create a spool file for changed rows in {} ({e}); point TMPDIR at a writable directory with room",
                dir.display()
            ),
        )
    })?;
    // On Windows an open file cannot be removed; it is then left behind.
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple(i: u8) -> Vec<u8> {
        let mut t = 1i16.to_be_bytes().to_vec();
        t.extend_from_slice(&3i32.to_be_bytes());
        t.extend_from_slice(&[i, i, i]);
        t
    }

    #[test]
    fn memory_and_file_give_the_same_stream() {
        let mut small = DiffSpool::new(20);
        let mut large = DiffSpool::new(1 << 20);
        for i in 0..100 {
            small.tuple(&tuple(i)).unwrap();
            large.tuple(&tuple(i)).unwrap();
        }
        assert!(small.spilled());
        assert!(!large.spilled());
        assert_eq!((small.tuples(), small.bytes()), (100, 900));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        small.copy_to(&mut a).unwrap();
        large.copy_to(&mut b).unwrap();
        assert_eq!(a, b);
        assert_eq!(&a[..19], &plain_header());
        assert_eq!(a.len(), 19 + 900 + 2);
        assert_eq!(&a[a.len() - 2..], &[0xff, 0xff]);
    }

    #[test]
    fn an_empty_spool_is_header_and_trailer() {
        let mut out = Vec::new();
        DiffSpool::new(10).copy_to(&mut out).unwrap();
        assert_eq!(out.len(), 21);
    }
}
