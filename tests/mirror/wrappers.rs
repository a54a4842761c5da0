//! Wrappers around real checksum sides: a link that dies, digests that
//! collide, a target that records instead of writing.

use branchsync::driver::checksum::{
    BucketSum, Buckets, CanonRow, KeyText, MirrorTarget, Parent, RangeChecksums,
};
use branchsync::driver::DriverError;

/// A source whose link dies after `calls` calls.
pub struct Dying<'a> {
    pub inner: Box<dyn RangeChecksums + 'a>,
    pub calls: u32,
}

impl Dying<'_> {
    fn tick(&mut self) -> Result<(), DriverError> {
        if self.calls == 0 {
            return Err(DriverError::other("the branch link died"));
        }
        self.calls -= 1;
        Ok(())
    }
}

impl RangeChecksums for Dying<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>, DriverError> {
        self.tick()?;
        self.inner.checksums(level)
    }
    fn split(&mut self, l: &Buckets, p: &[Parent]) -> Result<Vec<Vec<KeyText>>, DriverError> {
        self.tick()?;
        self.inner.split(l, p)
    }
    fn first_bounds(&mut self, rows: u64) -> Result<Vec<KeyText>, DriverError> {
        self.tick()?;
        self.inner.first_bounds(rows)
    }
    fn rows(
        &mut self,
        l: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<(), DriverError>,
    ) -> Result<(), DriverError> {
        self.tick()?;
        self.inner.rows(l, each)
    }
    fn key_positions(&self) -> &[usize] {
        self.inner.key_positions()
    }
}

/// Checksums whose digest says nothing for buckets of at most `leaf` rows.
pub struct Colliding<'a> {
    pub inner: Box<dyn RangeChecksums + 'a>,
    pub leaf: u64,
}

impl RangeChecksums for Colliding<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>, DriverError> {
        let mut sums = self.inner.checksums(level)?;
        for s in &mut sums {
            if s.rows <= self.leaf {
                s.digest = [7; 16];
            }
        }
        Ok(sums)
    }
    fn split(&mut self, l: &Buckets, p: &[Parent]) -> Result<Vec<Vec<KeyText>>, DriverError> {
        self.inner.split(l, p)
    }
    fn first_bounds(&mut self, rows: u64) -> Result<Vec<KeyText>, DriverError> {
        self.inner.first_bounds(rows)
    }
    fn rows(
        &mut self,
        l: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<(), DriverError>,
    ) -> Result<(), DriverError> {
        self.inner.rows(l, each)
    }
    fn key_positions(&self) -> &[usize] {
        self.inner.key_positions()
    }
}

/// A target that records what it would write.
pub struct Recorder<'a> {
    pub inner: Colliding<'a>,
    pub upserts: Vec<Vec<Option<String>>>,
}

impl RangeChecksums for Recorder<'_> {
    fn checksums(&mut self, level: &Buckets) -> Result<Vec<BucketSum>, DriverError> {
        self.inner.checksums(level)
    }
    fn split(&mut self, l: &Buckets, p: &[Parent]) -> Result<Vec<Vec<KeyText>>, DriverError> {
        self.inner.split(l, p)
    }
    fn first_bounds(&mut self, rows: u64) -> Result<Vec<KeyText>, DriverError> {
        self.inner.first_bounds(rows)
    }
    fn rows(
        &mut self,
        l: &Buckets,
        each: &mut dyn FnMut(CanonRow) -> Result<(), DriverError>,
    ) -> Result<(), DriverError> {
        self.inner.rows(l, each)
    }
    fn key_positions(&self) -> &[usize] {
        self.inner.key_positions()
    }
}

impl MirrorTarget for Recorder<'_> {
    fn upsert(&mut self, rows: &[Vec<Option<String>>]) -> Result<u64, DriverError> {
        self.upserts.extend_from_slice(rows);
        Ok(rows.len() as u64)
    }
    fn delete_keys(&mut self, keys: &[KeyText]) -> Result<u64, DriverError> {
        panic!("nothing to delete: {keys:?}")
    }
    fn delete_buckets(&mut self, _: &Buckets) -> Result<u64, DriverError> {
        panic!("nothing to delete")
    }
}
