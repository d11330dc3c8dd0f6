//! How a pull reports what it is doing, without knowing who listens.
//!
//! The library never prints; the CLI implements this trait (progress bars on a
//! terminal, nothing otherwise), tests record the calls.

use crate::digest::Digest;

pub trait Progress: Send + Sync {
    /// A blob started downloading; `size` is its descriptor's size.
    fn blob_started(&self, _digest: &Digest, _size: u64) {}
    /// `bytes` more bytes of the blob arrived.
    fn blob_advanced(&self, _digest: &Digest, _bytes: u64) {}
    /// The blob was verified and is in the layout.
    fn blob_finished(&self, _digest: &Digest) {}
    /// The blob was already in the layout; nothing was downloaded.
    fn blob_skipped(&self, _digest: &Digest, _size: u64) {}
}

/// Listens to nothing.
pub struct Silent;

impl Progress for Silent {}
