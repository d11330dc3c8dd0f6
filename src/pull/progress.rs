//! What a pull reports as it goes, without knowing who listens.
//!
//! The library never prints; the CLI implements this trait (progress bars on a
//! terminal, JSON events with `--json`, nothing otherwise), tests record the
//! calls. Every method has an empty default so a listener picks what it needs.

use super::error::{ImageError, PullError};
use super::{PulledImage, ResolvedImage};
use crate::digest::Digest;
use crate::registry::retry::Retrying;

pub trait Progress: Send + Sync {
    /// Credentials for `registry` (an API host) came from `source`, or none
    /// were found and the registry is asked anonymously.
    fn credentials(&self, _registry: &str, _source: Option<&str>) {}
    /// A reference was resolved to the manifests that will be stored.
    fn resolved(&self, _image: &ResolvedImage) {}
    /// A request for `reference` failed in a way worth another attempt.
    fn retrying(&self, _reference: &str, _retry: &Retrying<'_>) {}
    /// A blob started downloading; `size` is its descriptor's size and the
    /// first `resumed_from` bytes were already on disk from an earlier attempt.
    fn blob_started(&self, _digest: &Digest, _size: u64, _resumed_from: u64) {}
    /// `bytes` more bytes of the blob arrived.
    fn blob_advanced(&self, _digest: &Digest, _bytes: u64) {}
    /// The blob was verified and is in the layout; `fetched` bytes of it
    /// crossed the network in this run.
    fn blob_finished(&self, _digest: &Digest, _size: u64, _fetched: u64) {}
    /// The blob was already in the layout; nothing was downloaded.
    fn blob_skipped(&self, _digest: &Digest, _size: u64) {}
    /// The blob is being fetched from `source` (a host): the first source
    /// that has it, or the next after one failed.
    fn blob_source(&self, _digest: &Digest, _source: &str) {}
    /// A mirror (`source`, a host) could not serve `what` (connecting, a
    /// manifest, a blob) and the next source is tried.
    fn source_skipped(&self, _source: &str, _what: &str, _error: &ImageError) {}
    /// The image is recorded in `index.json`.
    fn image_done(&self, _image: &PulledImage) {}
    /// The image could not be pulled; the others go on.
    fn image_failed(&self, _error: &PullError) {}
}

/// Listens to nothing.
pub struct Silent;

impl Progress for Silent {}

/// Both listeners hear everything: progress bars and JSON events at once.
impl<A: Progress, B: Progress> Progress for (A, B) {
    fn credentials(&self, registry: &str, source: Option<&str>) {
        self.0.credentials(registry, source);
        self.1.credentials(registry, source);
    }
    fn resolved(&self, image: &ResolvedImage) {
        self.0.resolved(image);
        self.1.resolved(image);
    }
    fn retrying(&self, reference: &str, retry: &Retrying<'_>) {
        self.0.retrying(reference, retry);
        self.1.retrying(reference, retry);
    }
    fn blob_started(&self, digest: &Digest, size: u64, resumed_from: u64) {
        self.0.blob_started(digest, size, resumed_from);
        self.1.blob_started(digest, size, resumed_from);
    }
    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        self.0.blob_advanced(digest, bytes);
        self.1.blob_advanced(digest, bytes);
    }
    fn blob_finished(&self, digest: &Digest, size: u64, fetched: u64) {
        self.0.blob_finished(digest, size, fetched);
        self.1.blob_finished(digest, size, fetched);
    }
    fn blob_skipped(&self, digest: &Digest, size: u64) {
        self.0.blob_skipped(digest, size);
        self.1.blob_skipped(digest, size);
    }
    fn blob_source(&self, digest: &Digest, source: &str) {
        self.0.blob_source(digest, source);
        self.1.blob_source(digest, source);
    }
    fn source_skipped(&self, source: &str, what: &str, error: &ImageError) {
        self.0.source_skipped(source, what, error);
        self.1.source_skipped(source, what, error);
    }
    fn image_done(&self, image: &PulledImage) {
        self.0.image_done(image);
        self.1.image_done(image);
    }
    fn image_failed(&self, error: &PullError) {
        self.0.image_failed(error);
        self.1.image_failed(error);
    }
}

impl<P: Progress + ?Sized> Progress for &P {
    fn credentials(&self, registry: &str, source: Option<&str>) {
        (**self).credentials(registry, source);
    }
    fn resolved(&self, image: &ResolvedImage) {
        (**self).resolved(image);
    }
    fn retrying(&self, reference: &str, retry: &Retrying<'_>) {
        (**self).retrying(reference, retry);
    }
    fn blob_started(&self, digest: &Digest, size: u64, resumed_from: u64) {
        (**self).blob_started(digest, size, resumed_from);
    }
    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        (**self).blob_advanced(digest, bytes);
    }
    fn blob_finished(&self, digest: &Digest, size: u64, fetched: u64) {
        (**self).blob_finished(digest, size, fetched);
    }
    fn blob_skipped(&self, digest: &Digest, size: u64) {
        (**self).blob_skipped(digest, size);
    }
    fn blob_source(&self, digest: &Digest, source: &str) {
        (**self).blob_source(digest, source);
    }
    fn source_skipped(&self, source: &str, what: &str, error: &ImageError) {
        (**self).source_skipped(source, what, error);
    }
    fn image_done(&self, image: &PulledImage) {
        (**self).image_done(image);
    }
    fn image_failed(&self, error: &PullError) {
        (**self).image_failed(error);
    }
}
