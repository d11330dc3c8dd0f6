//! Images already in the layout as the registry has them now.
//!
//! Each `index.json` entry regpull writes says what its reference resolved to
//! and how the platforms were chosen ([`SOURCE_ANNOTATION`]). A re-pull asks
//! the registry with HEAD whether the reference still names that digest; when
//! it does, the same choice is asked for and every blob is still present, the
//! image is up to date without a manifest body crossing the network. Docker
//! Hub does not count HEAD requests against its pull limit, so a prefetch list
//! re-run every hour costs nothing there. A reference by digest needs no
//! request at all. Anything unexpected (no header, an error, a missing blob)
//! falls back to the full resolve.

use oci_spec::image::Descriptor;
use serde::{Deserialize, Serialize};

use super::convert::REGISTRY_DIGEST_ANNOTATION;
use super::fetch::Retry;
use super::media::ACCEPT;
use super::report::{PulledImage, ResolvedImage};
use crate::digest::Digest;
use crate::layout::{BlobRef, Check, ImageBlobs, Layout};
use crate::reference::{ImageRef, Target};
use crate::registry::Registry;

/// JSON: what the entry's reference resolved to, and how it was pulled.
pub const SOURCE_ANNOTATION: &str = "dev.regpull.source";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// What the reference named at the registry (an index or a manifest).
    pub digest: String,
    pub media_type: String,
    /// How platforms were chosen and documents stored: see [`super::request::selection`].
    pub selection: String,
    /// The image manifests kept, as the registry names them.
    pub manifests: Vec<SourceManifest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceManifest {
    pub platform: Option<String>,
    pub digest: String,
}

/// An image found up to date.
pub struct Current {
    pub image: PulledImage,
    pub source: Source,
    pub blobs: ImageBlobs,
}

impl Current {
    /// The `resolved` report of an image found up to date: as recorded when
    /// it was pulled, which the registry just confirmed.
    pub fn resolved_image(&self, reference: &ImageRef, source: &str) -> ResolvedImage {
        let blobs = self.layer_and_config_blobs();
        ResolvedImage {
            reference: reference.to_string(),
            registry: reference.api_host().to_string(),
            source: source.to_string(),
            digest: Digest::parse(&self.source.digest)
                .unwrap_or_else(|_| self.image.digest.clone()),
            media_type: self.source.media_type.clone(),
            manifests: self
                .source
                .manifests
                .iter()
                .filter_map(|m| Some((m.platform.clone(), Digest::parse(&m.digest).ok()?)))
                .collect(),
            blobs: blobs.len(),
            blob_bytes: blobs.iter().map(|b| b.size).sum(),
        }
    }

    /// Configs and layers: what a pull would have downloaded.
    pub fn layer_and_config_blobs(&self) -> Vec<&BlobRef> {
        self.blobs.blobs.iter().filter(|b| !b.document).collect()
    }
}

/// The image `reference` names, if the layout has it as the registry has it
/// now. A reference by digest is answered from the layout alone (`registry`
/// may be `None`); a tag needs the registry's HEAD answer.
pub async fn check(
    layout: &Layout,
    registry: Option<(&Registry, &str, Retry<'_>)>,
    reference: &ImageRef,
    selection: &str,
) -> Option<Current> {
    let name = reference.normalized();
    let entry = layout.find_image(&name).ok()??;
    let source: Source = serde_json::from_str(
        entry
            .annotations()
            .as_ref()?
            .get(SOURCE_ANNOTATION)?
            .as_str(),
    )
    .ok()?;
    if source.selection != selection {
        return None;
    }
    let now = match reference.target() {
        Target::Digest(d) => d.clone(),
        Target::Tag(tag) => {
            let (registry, repository, retry) = registry?;
            head_digest((registry, retry), repository, tag).await?
        }
    };
    if now.to_string() != source.digest {
        tracing::info!("{reference} now names {now}; pulling it");
        return None;
    }
    let blobs = layout.image_blobs(&entry).ok()?;
    // Documents are small and what the walk trusts: hash them; layers are
    // only ever renamed into place verified, so their size is enough.
    let all_there = blobs.unparseable.is_empty()
        && blobs.blobs.iter().all(|b| {
            let check = if b.document {
                Check::Content
            } else {
                Check::Size
            };
            matches!(layout.has_blob(&b.digest, b.size, check), Ok(true))
        });
    if !all_there {
        tracing::info!("{reference} is recorded but some of its blobs are missing; pulling it");
        return None;
    }
    tracing::info!("{reference} is up to date ({now})");
    Some(Current {
        image: pulled(reference, name, &entry, &blobs)?,
        source,
        blobs,
    })
}

/// The digest the registry says `tag` names now, from a HEAD request (retried
/// as any request is); `None` sends the pull to the full resolve.
async fn head_digest(
    (registry, retry): (&Registry, Retry<'_>),
    repository: &str,
    tag: &str,
) -> Option<Digest> {
    let what = format!("manifest of {repository}");
    let answer = retry
        .policy
        .run(&what, retry.notice, async || {
            registry.head_manifest(repository, tag, ACCEPT).await
        })
        .await;
    match answer {
        Ok(Some(digest)) => Some(digest),
        Ok(None) => {
            tracing::debug!("HEAD for {repository}:{tag} sent no usable digest; fetching it");
            None
        }
        Err(e) => {
            tracing::debug!("HEAD for {repository}:{tag} failed ({e}); fetching it");
            None
        }
    }
}

fn pulled(
    reference: &ImageRef,
    name: String,
    entry: &Descriptor,
    blobs: &ImageBlobs,
) -> Option<PulledImage> {
    let digest = Digest::parse(entry.digest().as_ref()).ok()?;
    let registry_digest = entry
        .annotations()
        .as_ref()
        .and_then(|a| a.get(REGISTRY_DIGEST_ANNOTATION))
        .and_then(|d| Digest::parse(d).ok())
        .unwrap_or_else(|| digest.clone());
    Some(PulledImage {
        reference: reference.to_string(),
        name,
        converted: registry_digest != digest,
        digest,
        registry_digest,
        media_type: entry.media_type().to_string(),
        platforms: blobs.platforms.clone(),
        size: blobs.blobs.iter().map(|b| b.size).sum(),
    })
}
