//! What to push, and how.

use oci_spec::image::Descriptor;

use crate::reference::ImageRef;
use crate::registry::ClientOptions;
use crate::registry::retry::RetryPolicy;

/// Blobs larger than this go up in chunks of this size (PATCH after PATCH),
/// streamed from the file; smaller ones in one PUT. 32 MiB is far above the
/// 5 MiB ECR asks of every chunk but the last, and few enough requests for
/// a 10 GB layer; a registry's `OCI-Chunk-Min-Length` raises it.
pub const CHUNK_SIZE: u64 = 32 << 20;

/// One image of the layout and where it goes.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// Its name in the layout (`org.opencontainers.image.ref.name`).
    pub name: String,
    /// Its `index.json` entry.
    pub descriptor: Descriptor,
    /// The destination: registry, repository, and a tag or a digest.
    pub target: ImageRef,
}

#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Blobs uploaded at once.
    pub jobs: usize,
    /// The size of a chunk, and the size above which a blob is chunked.
    pub chunk_size: u64,
    pub client: ClientOptions,
    pub retry: RetryPolicy,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            jobs: 4,
            chunk_size: CHUNK_SIZE,
            client: ClientOptions::default(),
            retry: RetryPolicy::default(),
        }
    }
}
