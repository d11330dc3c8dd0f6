//! What a push reports when it is over.

use super::error::PushError;
use crate::digest::Digest;

/// One image now at its destination.
#[derive(Debug, Clone)]
pub struct PushedImage {
    /// Its name in the layout.
    pub name: String,
    /// Where it is now (`HOST/REPOSITORY:TAG` or `@DIGEST`).
    pub target: String,
    /// The top document's digest: the same in the layout and at the registry.
    pub digest: Digest,
    pub media_type: String,
    /// Manifests and indexes it has (the top one included).
    pub manifests: usize,
    /// Bytes of its blobs and documents.
    pub size: u64,
}

/// What crossed the network, over all images: each blob counted once per
/// repository it went to.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushTransfer {
    pub uploaded_blobs: u64,
    pub uploaded_bytes: u64,
    /// Bytes sent, retries included.
    pub sent_bytes: u64,
    pub existing_blobs: u64,
    pub existing_bytes: u64,
    pub mounted_blobs: u64,
    pub mounted_bytes: u64,
}

#[derive(Debug)]
pub struct PushReport {
    /// One per request, in request order.
    pub results: Vec<Result<PushedImage, PushError>>,
    pub transfer: PushTransfer,
}

impl PushReport {
    pub fn images(&self) -> impl Iterator<Item = &PushedImage> {
        self.results.iter().filter_map(|r| r.as_ref().ok())
    }
}
