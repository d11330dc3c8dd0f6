//! The pull: the only module that knows both the registry and the layout.
//!
//! Order matters for crash safety: manifests are resolved first, then every blob
//! is downloaded and verified, then manifests are written, and `index.json` is
//! changed last. A pull stopped at any point leaves the layout as valid as before.

mod convert;
mod download;
mod error;
pub mod inspect;
mod media;
mod probe;
mod progress;
mod resolve;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use oci_spec::image::{Descriptor, MediaType};

pub use convert::REGISTRY_DIGEST_ANNOTATION;
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
use crate::registry::retry::RetryPolicy;
use crate::registry::{ClientOptions, Registry};
use download::{BlobJob, download_all};
use resolve::{ResolveOptions, Resolved, resolve};

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to pick from a multi-platform image.
    pub platform: Platform,
    /// Keep every platform of an index instead of picking one.
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

/// One image as recorded in the layout.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The ref name in `index.json` (the full normalized reference).
    pub name: String,
    /// Digest of what `index.json` points at.
    pub digest: Digest,
    /// Digest of the same document as the registry knows it.
    pub registry_digest: Digest,
    pub media_type: &'static str,
    pub platforms: Vec<String>,
    /// True when a Docker-typed document was stored as its OCI equivalent.
    pub converted: bool,
}

#[derive(Debug, Clone)]
pub struct PullReport {
    pub images: Vec<PulledImage>,
    pub transfer: Transfer,
}

/// Pulls every reference into `layout`, sharing connections and blob downloads.
pub async fn pull(
    layout: &Layout,
    references: &[ImageRef],
    credentials: Arc<dyn Credentials>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<PullReport, PullError> {
    // Held until the pull has recorded its images, so gc cannot delete blobs
    // downloaded but not yet named in index.json.
    let _guard = layout.pull_guard().map_err(|e| PullError {
        reference: references
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
        registry: references
            .first()
            .map(|r| r.api_host().to_string())
            .unwrap_or_default(),
        credential_source: None,
        kind: ImageError::Layout(e),
    })?;
    let mut sources: HashMap<String, String> = HashMap::new();
    let fail = |r: &ImageRef, kind: ImageError, sources: &HashMap<String, String>| PullError {
        reference: r.to_string(),
        registry: r.api_host().to_string(),
        credential_source: sources.get(r.api_host()).cloned(),
        kind,
    };
    let mut registries: HashMap<String, Arc<Registry>> = HashMap::new();
    for r in references {
        let host = r.api_host();
        if registries.contains_key(host) {
            continue;
        }
        let credential = credentials
            .for_registry(&RegistryName::new(r.domain()))
            .map_err(|e| fail(r, ImageError::Credentials(e), &sources))?;
        let credential = credential.map(|(c, source)| {
            tracing::info!("credentials for {host} from {source}");
            sources.insert(host.to_string(), source);
            c
        });
        let mut reg = Registry::connect(host, credential, &opts.client)
            .await
            .map_err(|e| fail(r, e.into(), &sources))?;
        let (creds, name) = (credentials.clone(), RegistryName::new(r.domain()));
        reg.set_refresher(Arc::new(move || {
            creds.invalidate(&name);
            creds.for_registry(&name).ok().flatten().map(|(c, _)| c)
        }));
        registries.insert(host.to_string(), Arc::new(reg));
    }
    let sources = sources;
    let fail = |r: &ImageRef, kind: ImageError| fail(r, kind, &sources);
    let resolve_opts = ResolveOptions {
        platform: &opts.platform,
        all_platforms: opts.all_platforms,
        preserve_digests: opts.preserve_digests,
        retry: &opts.retry,
    };
    let resolving = references.iter().map(|r| {
        let reg = registries[r.api_host()].clone();
        let o = &resolve_opts;
        async move { resolve(reg, r, o).await.map_err(|e| fail(r, e)) }
    });
    let resolved: Vec<Resolved> = futures_util::future::try_join_all(resolving).await?;

    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    for r in &resolved {
        for blob in &r.blobs {
            if seen.insert(blob.digest.clone()) {
                jobs.push(BlobJob {
                    registry: r.registry.clone(),
                    repository: r.repository.clone(),
                    reference: r.reference.to_string(),
                    blob: blob.clone(),
                });
            }
        }
    }
    check_space(layout, &jobs).map_err(|e| fail(&resolved[0].reference, ImageError::Layout(e)))?;
    let transfer = download_all(layout, jobs, opts.jobs, &opts.retry, progress)
        .await
        .map_err(|(reference, kind)| {
            let r = resolved
                .iter()
                .find(|r| r.reference.to_string() == reference)
                .expect("a resolved reference");
            fail(&r.reference, kind)
        })?;

    let mut images = Vec::new();
    for r in &resolved {
        let image = record(layout, r).map_err(|e| fail(&r.reference, e))?;
        images.push(image);
    }
    Ok(PullReport { images, transfer })
}

/// Stops before downloading when what is still missing cannot fit on the disk.
fn check_space(layout: &Layout, jobs: &[BlobJob]) -> Result<(), crate::layout::LayoutError> {
    use crate::layout::Check;
    let mut needed = 0u64;
    for job in jobs {
        let b = &job.blob;
        if !layout.has_blob(&b.digest, b.size, Check::Size)? {
            needed += b.size.saturating_sub(layout.partial_len(&b.digest));
        }
    }
    match layout.free_space() {
        Some(available) if needed > available => Err(crate::layout::LayoutError::NoSpace {
            path: layout.root().to_path_buf(),
            needed,
            available,
        }),
        _ => Ok(()),
    }
}

/// Writes the image's manifests (children first) and then its `index.json` entry.
fn record(layout: &Layout, r: &Resolved) -> Result<PulledImage, ImageError> {
    for doc in r.children.iter().chain(std::iter::once(&r.top)) {
        let written = layout.write_blob(&doc.bytes)?;
        debug_assert_eq!(written, doc.digest);
    }
    let converted = r.top.digest != r.registry_digest;
    let mut desc = Descriptor::new(
        MediaType::from(r.top.media_type),
        r.top.bytes.len() as u64,
        oci_spec::image::Digest::try_from(r.top.digest.to_string().as_str())
            .expect("a valid digest"),
    );
    if let Some(p) = r
        .top_platform
        .as_ref()
        .and_then(|p| serde_json::from_value(p.clone()).ok())
    {
        desc.set_platform(Some(p));
    }
    if converted {
        desc.set_annotations(Some(HashMap::from([(
            REGISTRY_DIGEST_ANNOTATION.to_string(),
            r.registry_digest.to_string(),
        )])));
    }
    let name = r.reference.normalized();
    layout.add_image(&name, &desc)?;
    let platforms = match &r.config {
        Some(config) if r.platforms.is_empty() => {
            config_platform(layout, config).into_iter().collect()
        }
        _ => r.platforms.clone(),
    };
    Ok(PulledImage {
        name,
        digest: r.top.digest.clone(),
        registry_digest: r.registry_digest.clone(),
        media_type: r.top.media_type,
        platforms,
        converted,
    })
}

/// The platform an image config declares, for images that are not in an index.
fn config_platform(layout: &Layout, config: &Digest) -> Option<String> {
    let bytes = layout.read_blob(config, media::MAX_CONFIG_BYTES).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let field = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    };
    (!field("os").is_empty())
        .then(|| Platform::new(field("os"), field("architecture"), field("variant")).to_string())
}
