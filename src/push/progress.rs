//! What a push reports as it goes, without knowing who listens (the CLI's
//! JSON events; tests). Every method has an empty default.

use super::error::PushError;
use super::report::PushedImage;
use crate::digest::Digest;
use crate::registry::retry::Retrying;

/// How a blob came to be in a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// HEAD found it there already.
    Exists,
    /// Linked from another repository of the registry, without sending it.
    Mounted,
    /// Sent.
    Uploaded,
}

pub trait Progress: Send + Sync {
    /// Credentials for `registry` (an API host) came from `source` (`None`: anonymous).
    fn credentials(&self, _registry: &str, _source: Option<&str>) {}
    /// A request for `target` failed in a way worth another attempt.
    fn retrying(&self, _target: &str, _retry: &Retrying<'_>) {}
    /// A blob started uploading to `repository` (`chunked`: in PATCH chunks).
    fn blob_started(&self, _repository: &str, _digest: &Digest, _size: u64, _chunked: bool) {}
    /// The blob is in `repository`: `sent` bytes crossed the network for it
    /// (0 unless uploaded; more than its size when an attempt started over);
    /// `from` is the repository a mount came from.
    fn blob_finished(
        &self,
        _repository: &str,
        _digest: &Digest,
        _size: u64,
        _outcome: BlobOutcome,
        _sent: u64,
        _from: Option<&str>,
    ) {
    }
    /// A manifest or index is at `target` (`pushed`: false when it was there).
    fn manifest_finished(&self, _target: &str, _digest: &Digest, _media_type: &str, _pushed: bool) {
    }
    fn image_done(&self, _image: &PushedImage) {}
    fn image_failed(&self, _error: &PushError) {}
}

/// Listens to nothing.
pub struct Silent;

impl Progress for Silent {}
