//! The pull: the only module that knows both the registry and the layout.
//!
//! Order matters for crash safety: manifests are resolved first, then every blob
//! is downloaded and verified, then manifests are written, and `index.json` is
//! changed last. A pull stopped at any point leaves the layout as valid as before.
//!
//! Each image succeeds or fails on its own: a prefetch list with one bad entry
//! still stores the others, and the report says which failed and why.

mod connect;
mod convert;
mod current;
mod download;
mod error;
pub mod inspect;
mod media;
mod plan;
mod probe;
mod progress;
mod record;
mod resolve;
mod select;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

pub use convert::REGISTRY_DIGEST_ANNOTATION;
pub use current::SOURCE_ANNOTATION;
pub use download::Transfer;
pub use error::{ImageError, PullError};
pub use media::ACCEPT;
pub use probe::{Probe, probe};
pub use progress::{Progress, Silent};

use crate::auth::{AuthError, Chain, Credential, RegistryName};
use crate::digest::Digest;
use crate::layout::Layout;
use crate::platform::Platform;
use crate::reference::ImageRef;
use crate::registry::ClientOptions;
use crate::registry::retry::RetryPolicy;
use connect::connect_all;
use download::download_all;
use plan::{Found, blob_jobs, check_space, summary};
use resolve::{ResolveOptions, resolve};

/// References resolved at once (manifest requests in flight), in request order.
pub const RESOLVE_CONCURRENCY: usize = 8;

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to pick from a multi-platform image, unless a request says.
    pub platform: Platform,
    /// Keep every platform of an index instead of picking one, for every request.
    pub all_platforms: bool,
    /// Store Docker-typed manifests as the registry sent them, not as OCI.
    pub preserve_digests: bool,
    /// Blobs downloaded at once.
    pub jobs: usize,
    pub client: ClientOptions,
    pub retry: RetryPolicy,
}

/// Where credentials for a registry come from.
pub trait Credentials: Send + Sync {
    /// The credential for `registry` and a description of its source, or none.
    fn for_registry(
        &self,
        registry: &RegistryName,
    ) -> Result<Option<(Credential, String)>, AuthError>;
    /// Forget cached answers for `registry`; the registry said they expired.
    fn invalidate(&self, _registry: &RegistryName) {}
}

impl Credentials for Chain {
    fn for_registry(
        &self,
        registry: &RegistryName,
    ) -> Result<Option<(Credential, String)>, AuthError> {
        let r = self.resolve(registry)?;
        Ok(r.credential.zip(r.source))
    }

    fn invalidate(&self, registry: &RegistryName) {
        Chain::invalidate(self, registry);
    }
}

/// No credentials anywhere.
pub struct Anonymous;

impl Credentials for Anonymous {
    fn for_registry(&self, _: &RegistryName) -> Result<Option<(Credential, String)>, AuthError> {
        Ok(None)
    }
}

/// One image to pull, with what it overrides of the pull's options.
#[derive(Debug, Clone)]
pub struct ImageRequest {
    pub reference: ImageRef,
    /// This image's platform, instead of [`PullOptions::platform`].
    pub platform: Option<Platform>,
    /// Keep every platform of this image.
    pub all_platforms: bool,
}

impl From<ImageRef> for ImageRequest {
    fn from(reference: ImageRef) -> Self {
        ImageRequest {
            reference,
            platform: None,
            all_platforms: false,
        }
    }
}

/// A reference resolved at its registry, before any blob is fetched.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The reference as requested.
    pub reference: String,
    pub registry: String,
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

/// Pulls every request into `layout`, sharing connections, tokens and blob
/// downloads. Fails as a whole only when the layout cannot be used at all
/// (its gc lock, or too little disk for what is missing); otherwise each
/// image's outcome is in the report.
pub async fn pull(
    layout: &Layout,
    requests: &[ImageRequest],
    credentials: Arc<dyn Credentials>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<PullReport, PullError> {
    let whole = |r: Option<&ImageRequest>, kind: ImageError| PullError {
        reference: r.map(|r| r.reference.to_string()).unwrap_or_default(),
        registry: r
            .map(|r| r.reference.api_host().to_string())
            .unwrap_or_default(),
        credential_source: None,
        kind,
    };
    // Held until the pull has recorded its images, so gc cannot delete blobs
    // downloaded but not yet named in index.json.
    let _guard = layout
        .pull_guard()
        .map_err(|e| whole(requests.first(), ImageError::Layout(e)))?;
    let plans: Vec<(ResolveOptions, String)> = requests
        .iter()
        .map(|req| {
            let o = ResolveOptions {
                platform: req.platform.as_ref().unwrap_or(&opts.platform),
                all_platforms: opts.all_platforms || req.all_platforms,
                preserve_digests: opts.preserve_digests,
                retry: &opts.retry,
                progress,
            };
            let selection = current::selection(o.platform, o.all_platforms, o.preserve_digests);
            (o, selection)
        })
        .collect();
    // Pinned digests already stored need no registry at all, not even to connect.
    let mut pinned = Vec::with_capacity(requests.len());
    for (req, (_, selection)) in requests.iter().zip(&plans) {
        pinned.push(current::check(layout, None, &req.reference, selection).await);
    }
    let connections = connect_all(
        requests
            .iter()
            .zip(&pinned)
            .filter(|(_, p)| p.is_none())
            .map(|(r, _)| &r.reference),
        &credentials,
        opts,
        progress,
    )
    .await;
    let fail = |r: &ImageRef, kind: ImageError| {
        PullError::new(r, connections.sources.get(r.api_host()).cloned(), kind)
    };
    let resolving = requests
        .iter()
        .zip(&plans)
        .zip(pinned)
        .map(|((req, plan), pinned)| {
            let r = &req.reference;
            let (resolve_opts, selection) = plan;
            let fail = &fail;
            let connections = &connections;
            async move {
                if let Some(c) = pinned {
                    progress.resolved(&c.resolved_image(r));
                    return Ok(Found::Current(Box::new(c)));
                }
                let connection = connections.registries[r.api_host()].clone();
                let registry = connection.map_err(|e| fail(r, ImageError::Shared(e)))?;
                // A digest was checked above, against the layout alone; a tag needs HEAD.
                let found = if r.digest().is_none() {
                    current::check(layout, Some(&registry), r, selection).await
                } else {
                    None
                };
                if let Some(c) = found {
                    progress.resolved(&c.resolved_image(r));
                    return Ok(Found::Current(Box::new(c)));
                }
                let resolved = resolve(registry, r, resolve_opts)
                    .await
                    .map_err(|e| fail(r, e))?;
                progress.resolved(&summary(&resolved));
                Ok(Found::Resolved(Box::new(resolved)))
            }
        });
    // A list of hundreds of images must not become hundreds of simultaneous
    // manifest requests: registries rate-limit bursts.
    let mut results: Vec<Result<Found, PullError>> = futures_util::stream::iter(resolving)
        .buffered(RESOLVE_CONCURRENCY)
        .collect()
        .await;
    let failed: Mutex<HashSet<usize>> = Mutex::new(HashSet::new());
    for (i, r) in results.iter().enumerate() {
        if let Err(e) = r {
            progress.image_failed(e);
            failed.lock().expect("not poisoned").insert(i);
        }
    }

    let jobs = blob_jobs(&results);
    if let Some(first) = jobs.first() {
        let first_image = first.images().next().expect("a job serves an image");
        let r = &requests[first_image].reference;
        check_space(layout, &jobs).map_err(|e| fail(r, ImageError::Layout(e)))?;
    }
    let fetching: HashSet<Digest> = jobs.iter().map(|j| j.blob.digest.clone()).collect();
    let (mut transfer, blob_failures) =
        download_all(layout, jobs, opts.jobs, &opts.retry, progress, &failed).await;
    for f in blob_failures {
        let shared = Arc::new(f.error);
        for i in f.images {
            if results[i].is_ok() {
                let e = fail(&requests[i].reference, ImageError::Shared(shared.clone()));
                progress.image_failed(&e);
                results[i] = Err(e);
            }
        }
    }
    let mut counted = HashSet::new();
    for c in results.iter().flatten().filter_map(Found::current) {
        for b in c.layer_and_config_blobs() {
            // A blob another image also needs was reported by its download.
            if !fetching.contains(&b.digest) && counted.insert(b.digest.clone()) {
                progress.blob_skipped(&b.digest, b.size);
                transfer.reused_blobs += 1;
                transfer.reused_bytes += b.size;
            }
        }
    }

    let mut recorded = Vec::with_capacity(results.len());
    for r in results {
        let outcome = match r {
            Ok(Found::Resolved(r)) => record::record(layout, &r).map_err(|e| fail(&r.reference, e)),
            Ok(Found::Current(c)) => Ok(c.image),
            Err(e) => {
                recorded.push(Err(e));
                continue;
            }
        };
        match &outcome {
            Ok(image) => progress.image_done(image),
            Err(e) => progress.image_failed(e),
        }
        recorded.push(outcome);
    }
    Ok(PullReport {
        results: recorded,
        transfer,
    })
}
