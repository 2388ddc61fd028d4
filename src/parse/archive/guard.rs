//! The limits of a zip member enforced while it is decompressed, on what is read rather than on what the
//! archive declares: a member is cut at its declared size, and refused once it has decompressed to more than
//! `--max-compression-ratio` times the compressed bytes actually consumed from the archive.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::parse::limits::RATIO_CHECKED_FROM;

/// A member's decompressed bytes, counted against its limits as they are read.
pub struct Guard<R> {
    inner: R,
    /// Decompressed bytes handed out so far.
    read: u64,
    /// The size the archive declares for the member (no more is ever handed out).
    declared: u64,
    /// Bytes the archive's reader has read from the archive (compressed data and the local header).
    consumed: Arc<AtomicU64>,
    /// `--max-compression-ratio`.
    max_ratio: u64,
}

impl<R: Read> Guard<R> {
    /// Guards `inner`, the decompressed member, whose compressed bytes are counted in `consumed`.
    pub fn new(inner: R, declared: u64, consumed: Arc<AtomicU64>, max_ratio: u64) -> Self {
        Self { inner, read: 0, declared, consumed, max_ratio }
    }
}

/// The error of a member that breaks a limit while it is read.
fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.declared {
            return Err(refused(format!(
                "the zip member decompresses to more than its declared {} bytes (a damaged or hostile archive); \
                 not read further",
                self.declared
            )));
        }
        let consumed = self.consumed.load(Ordering::Relaxed).max(1);
        if self.read >= RATIO_CHECKED_FROM && self.read > consumed.saturating_mul(self.max_ratio) {
            return Err(refused(format!(
                "the zip member decompressed to more than {}:1 of its compressed bytes (a zip bomb?); not read \
                 further; --max-compression-ratio raises the limit",
                self.max_ratio
            )));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_cut_at_its_declared_size() {
        let consumed = Arc::new(AtomicU64::new(10));
        let mut guard = Guard::new(&[7u8; 100][..], 50, consumed, 200);
        let mut out = Vec::new();
        let error = guard.read_to_end(&mut out).unwrap_err();
        assert!(error.to_string().contains("declared 50 bytes"), "{error}");
    }

    #[test]
    fn a_high_ratio_is_refused_only_past_the_small_size() {
        let consumed = Arc::new(AtomicU64::new(1000));
        let small = vec![0u8; 500_000];
        let mut out = Vec::new();
        Guard::new(&small[..], u64::MAX, consumed.clone(), 200).read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 500_000, "500:1 under 1 MiB is no bomb");
        let large = vec![0u8; 3 << 20];
        let error = Guard::new(&large[..], u64::MAX, consumed, 200).read_to_end(&mut Vec::new()).unwrap_err();
        assert!(error.to_string().contains("--max-compression-ratio"), "{error}");
    }
}
