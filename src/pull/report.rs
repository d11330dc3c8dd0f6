//! What a pull tells its caller: each reference as resolved, each image as
//! recorded, and what crossed the network.

use super::error::PullError;
use crate::digest::Digest;

/// A reference resolved at its registry, before any blob is fetched.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The reference as requested.
    pub reference: String,
    pub registry: String,
    /// The host the documents came from: the registry, a mirror, or "the
    /// layout" (a pinned digest already stored).
    pub source: String,
    /// What the reference names at the registry (an index, or a manifest).
    pub digest: Digest,
    pub media_type: String,
    /// The image manifests chosen, by platform (`None`: the manifest does not say).
    pub manifests: Vec<(Option<String>, Digest)>,
    /// Blobs (configs and layers) the image needs, and their total size.
    pub blobs: usize,
    pub blob_bytes: u64,
}

/// One image as recorded in the layout.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The reference as requested.
    pub reference: String,
    /// The ref name in `index.json` (the full normalized reference).
    pub name: String,
    /// Digest of what `index.json` points at.
    pub digest: Digest,
    /// Digest of the same document as the registry knows it.
    pub registry_digest: Digest,
    pub media_type: String,
    pub platforms: Vec<String>,
    /// True when a Docker-typed document was stored as its OCI equivalent.
    pub converted: bool,
    /// Bytes of everything the image references: manifests, configs, layers.
    pub size: u64,
}

/// What the transfers amounted to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Transfer {
    /// Blobs downloaded in this run (wholly or the rest of a partial one).
    pub fetched_blobs: usize,
    /// Bytes that crossed the network for them.
    pub fetched_bytes: u64,
    /// Blobs that were already in the layout.
    pub reused_blobs: usize,
    pub reused_bytes: u64,
}

impl Transfer {
    pub fn reused(&mut self, size: u64) {
        self.reused_blobs += 1;
        self.reused_bytes += size;
    }

    pub fn fetched(&mut self, bytes: u64) {
        self.fetched_blobs += 1;
        self.fetched_bytes += bytes;
    }
}

/// How each requested image fared, in request order, and what crossed the network.
#[derive(Debug)]
pub struct PullReport {
    pub results: Vec<Result<PulledImage, PullError>>,
    pub transfer: Transfer,
}

impl PullReport {
    pub fn images(&self) -> impl Iterator<Item = &PulledImage> {
        self.results.iter().filter_map(|r| r.as_ref().ok())
    }

    pub fn failures(&self) -> impl Iterator<Item = &PullError> {
        self.results.iter().filter_map(|r| r.as_ref().err())
    }
}
