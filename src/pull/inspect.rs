//! `regpull inspect`: what an image is (platforms, config, layers) without
//! downloading a layer: from the registry, fetching only the manifests and the
//! small config blob, or from a local layout (`local`).
//!
//! Every document is checked against the digest it was asked by, as a pull
//! does, before anything is read from it.

mod local;
mod summary;

use serde_json::Value;

pub use local::{LocalImage, inspect_local, local_image};
pub use summary::{ConfigSummary, InspectError, Inspection, LayerSummary, PlatformEntry};

use super::error::{ImageError, PullError};
use super::fetch::{Retry, fetch};
use super::media::{self, Kind, MAX_CONFIG_BYTES};
use crate::digest::{Digest, Verifier};
use crate::platform::Platform;
use crate::reference::{ImageRef, Target};
use crate::registry::retry::{RetryPolicy, unreported};
use crate::registry::{ClientOptions, Login, Registry};

/// Inspects `reference` on its registry, choosing `platform` from an index;
/// every request is retried under `retry`.
pub async fn inspect(
    reference: &ImageRef,
    login: Login,
    opts: &ClientOptions,
    retry: &RetryPolicy,
    platform: &Platform,
) -> Result<Inspection, InspectError> {
    let retry = Retry {
        policy: retry,
        notice: &unreported,
    };
    let registry = Registry::connect(
        reference.api_host(),
        login,
        opts,
        retry.policy,
        retry.notice,
    )
    .await
    .map_err(|e| InspectError::remote(PullError::new(reference, None, e.into())))?;
    let fail = |kind: ImageError| {
        InspectError::remote(PullError::new(
            reference,
            registry.credential_source(),
            kind,
        ))
    };
    let repo = reference.repository();
    let (top_digest, kind, top) = fetch_document(&registry, repo, reference.target(), retry)
        .await
        .map_err(fail)?;
    let mut found = summary::Found::new(reference, top_digest, kind);
    let manifest = if kind.is_index() {
        let digest = found.choose(&top, platform).map_err(fail)?;
        let (_, child_kind, child) =
            fetch_document(&registry, repo, Target::Digest(&digest), retry)
                .await
                .map_err(fail)?;
        summary::refuse_nested(child_kind).map_err(fail)?;
        found.manifest_media_type = child_kind.media_type().to_string();
        child
    } else {
        top
    };
    let m = media::check_manifest(&manifest).map_err(fail)?;
    let config = fetch_config(&registry, repo, m.config(), retry)
        .await
        .map_err(fail)?;
    found.finish(&m, &config).map_err(fail)
}

/// A manifest or index by tag or digest, checked as a pull checks it, and
/// retried as a pull retries it.
async fn fetch_document(
    registry: &Registry,
    repository: &str,
    target: Target<'_>,
    retry: Retry<'_>,
) -> Result<(Digest, Kind, Value), ImageError> {
    let doc = fetch(registry, repository, target, retry).await?;
    Ok((doc.digest, doc.kind, doc.json))
}

/// The image config blob: small, capped, and checked against its descriptor.
async fn fetch_config(
    registry: &Registry,
    repository: &str,
    desc: &oci_spec::image::Descriptor,
    retry: Retry<'_>,
) -> Result<Value, ImageError> {
    let digest = media::check_descriptor(desc, MAX_CONFIG_BYTES, "config")?;
    let blob_err = |source: ImageError| ImageError::Blob {
        digest: digest.clone(),
        source: Box::new(source),
    };
    let what = format!("config of {repository}");
    let bytes = retry
        .policy
        .run(&what, retry.notice, async || {
            registry
                .blob_bytes(repository, &digest, MAX_CONFIG_BYTES)
                .await
        })
        .await
        .map_err(|e| blob_err(e.into()))?;
    let mut v = Verifier::new(&digest, Some(desc.size()));
    v.update(&bytes);
    v.verify().map_err(|e| {
        blob_err(ImageError::InvalidManifest {
            reason: format!("the config it names does not match its descriptor: {e}"),
        })
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        blob_err(ImageError::InvalidManifest {
            reason: format!("the config it names is not JSON: {e}"),
        })
    })
}
