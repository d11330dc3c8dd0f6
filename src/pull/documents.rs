//! From a reference to the exact documents and blobs to store, one function per
//! kind of document the reference names: an image manifest, an index of which
//! one platform is wanted (containerd's ranking; attestation entries never
//! qualify), or an index kept whole (`--all-platforms`). Nested indexes are
//! refused. Docker-typed documents become their OCI equivalents unless
//! `--preserve-digests`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::connect::Origin;
use super::convert::{index_to_oci, manifest_to_oci};
use super::error::ImageError;
use super::fetch::{Fetched, Retry, fetch};
use super::media;
use super::report::ResolvedImage;
use super::request::Wanted;
use super::select::{choose, platform_of, runnable};
use crate::digest::Digest;
use crate::layout::is_attestation;
use crate::platform::Platform;
use crate::reference::{ImageRef, Target};
use crate::registry::Registry;

/// A manifest or index as it will be written into the layout.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: &'static str,
}

/// A config or layer to download.
#[derive(Debug, Clone)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

/// Everything one reference needs in the layout.
pub struct Resolved {
    pub reference: ImageRef,
    /// The source the documents came from.
    pub registry: Arc<Registry>,
    /// The reference's repository at that source.
    pub repository: String,
    /// Where the blobs may come from, in order (sources that serve by digest).
    pub blob_origins: Vec<Origin>,
    /// Digest of the stored top document as the registry names it.
    pub registry_digest: Digest,
    /// What the reference itself resolved to (an index when a platform was chosen from one).
    pub resolved_digest: Digest,
    pub resolved_media_type: &'static str,
    /// The image manifests chosen, as the registry names them, with their
    /// platforms (`os/arch[/variant]`; `None` where the index does not say).
    pub manifests: Vec<(Option<String>, Digest)>,
    /// What `index.json` will point at.
    pub top: StoredDoc,
    /// Child manifests to write before `top` (empty for a single manifest).
    pub children: Vec<StoredDoc>,
    /// The configs and layers to store, each once: a layer may stand twice in
    /// one manifest, or be shared by the platforms of an index.
    pub blobs: Vec<BlobRef>,
    /// The index entry's platform object, when one entry of an index was chosen.
    pub top_platform: Option<Value>,
}

impl Resolved {
    /// The platforms stored, as `os/arch[/variant]`.
    pub fn platforms(&self) -> Vec<String> {
        self.manifests
            .iter()
            .filter_map(|(p, _)| p.clone())
            .collect()
    }

    /// The `resolved` report: what the reference named and what it needs.
    pub fn summary(&self) -> ResolvedImage {
        ResolvedImage {
            reference: self.reference.to_string(),
            registry: self.reference.api_host().to_string(),
            source: self.registry.host().to_string(),
            digest: self.resolved_digest.clone(),
            media_type: self.resolved_media_type.to_string(),
            manifests: self.manifests.clone(),
            blobs: self.blobs.len(),
            blob_bytes: self.blobs.iter().map(|b| b.size).sum(),
        }
    }

    /// The config of a lone manifest (not chosen from an index), which alone says its platform.
    pub fn lone_config(&self) -> Option<&Digest> {
        let lone = self.children.is_empty() && self.top_platform.is_none();
        self.blobs.first().map(|b| &b.digest).filter(|_| lone)
    }
}

/// Resolves `reference` at `registry`, where it is `repository`, to what
/// `wanted` asks of it.
pub async fn resolve(
    registry: Arc<Registry>,
    repository: &str,
    reference: &ImageRef,
    wanted: &Wanted,
    retry: Retry<'_>,
) -> Result<Resolved, ImageError> {
    let top = fetch(&registry, repository, reference.target(), retry).await?;
    let mut r = Resolved {
        reference: reference.clone(),
        registry: registry.clone(),
        repository: repository.to_string(),
        blob_origins: Vec::new(),
        registry_digest: top.digest.clone(),
        resolved_digest: top.digest.clone(),
        resolved_media_type: top.kind.media_type(),
        manifests: Vec::new(),
        top: stored_as_is(&top),
        children: Vec::new(),
        blobs: Vec::new(),
        top_platform: None,
    };
    let mut blobs = Blobs::default();
    if !top.kind.is_index() {
        image_manifest(&mut r, &mut blobs, &top, wanted)?;
    } else if wanted.all_platforms {
        whole_index(&mut r, &mut blobs, &top, wanted, retry).await?;
    } else {
        one_platform(&mut r, &mut blobs, &top, wanted, retry).await?;
    }
    r.blobs = blobs.list;
    Ok(r)
}

/// A single image manifest: it is the top document.
fn image_manifest(
    r: &mut Resolved,
    blobs: &mut Blobs,
    doc: &Fetched,
    wanted: &Wanted,
) -> Result<(), ImageError> {
    r.top = stored_manifest(doc, wanted.preserve_digests, blobs)?;
    r.manifests.push((None, doc.digest.clone()));
    Ok(())
}

/// The entry of an index that runs best on the wanted platform: its manifest
/// becomes the top document, with the entry's platform on the descriptor.
async fn one_platform(
    r: &mut Resolved,
    blobs: &mut Blobs,
    index: &Fetched,
    wanted: &Wanted,
    retry: Retry<'_>,
) -> Result<(), ImageError> {
    let entries = index_entries(index)?;
    let (runnable, platforms) = runnable(&entries);
    let best = choose(&platforms, &wanted.platform)?;
    let entry = runnable[best];
    tracing::info!(
        "{}: {} chosen for {}",
        r.reference,
        platforms[best].as_ref().map_or(
            "an entry without platform".to_string(),
            Platform::format_all
        ),
        wanted.platform.format_all()
    );
    let child = fetch_child(&r.registry, &r.repository, entry, retry).await?;
    r.top = stored_manifest(&child, wanted.preserve_digests, blobs)?;
    r.registry_digest = child.digest.clone();
    let platform = platforms[best].as_ref().map(Platform::to_string);
    r.manifests.push((platform, child.digest.clone()));
    r.top_platform = entry.get("platform").cloned();
    Ok(())
}

/// Every entry of an index, attestations included: the index is the top
/// document, rewritten as OCI when a child was converted.
async fn whole_index(
    r: &mut Resolved,
    blobs: &mut Blobs,
    index: &Fetched,
    wanted: &Wanted,
    retry: Retry<'_>,
) -> Result<(), ImageError> {
    let mut replaced = HashMap::new();
    for entry in &index_entries(index)? {
        let child = fetch_child(&r.registry, &r.repository, entry, retry).await?;
        let stored = stored_manifest(&child, wanted.preserve_digests, blobs)?;
        if stored.digest != child.digest {
            replaced.insert(
                child.digest.clone(),
                (stored.digest.clone(), stored.bytes.len() as u64),
            );
        }
        let platform = platform_of(entry).filter(|_| !is_attestation(entry));
        r.manifests
            .push((platform.map(|p| p.to_string()), child.digest.clone()));
        r.children.push(stored);
    }
    let as_is = wanted.preserve_digests || (!index.kind.is_docker() && replaced.is_empty());
    if !as_is {
        let bytes = index_to_oci(&index.json, &replaced);
        r.top = StoredDoc {
            digest: Digest::sha256_of(&bytes),
            bytes,
            media_type: media::OCI_INDEX,
        };
    }
    Ok(())
}

fn index_entries(index: &Fetched) -> Result<Vec<Value>, ImageError> {
    media::check_index(&index.json)?;
    Ok(index.json["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default())
}

/// The configs and layers met so far, each once, in the order met.
#[derive(Default)]
struct Blobs {
    seen: HashSet<Digest>,
    list: Vec<BlobRef>,
}

/// Checks an image manifest, queues its blobs, and returns it as it will be stored.
fn stored_manifest(
    doc: &Fetched,
    preserve: bool,
    blobs: &mut Blobs,
) -> Result<StoredDoc, ImageError> {
    let m = media::check_manifest(&doc.json)?;
    for d in std::iter::once(m.config()).chain(m.layers().iter()) {
        let digest = Digest::parse(d.digest().as_ref()).expect("checked by check_manifest");
        if blobs.seen.insert(digest.clone()) {
            blobs.list.push(BlobRef {
                digest,
                size: d.size(),
            });
        }
    }
    if preserve || !doc.kind.is_docker() {
        return Ok(stored_as_is(doc));
    }
    let bytes = manifest_to_oci(&doc.json);
    Ok(StoredDoc {
        digest: Digest::sha256_of(&bytes),
        bytes,
        media_type: media::OCI_MANIFEST,
    })
}

fn stored_as_is(doc: &Fetched) -> StoredDoc {
    StoredDoc {
        bytes: doc.bytes.clone(),
        digest: Digest::sha256_of(&doc.bytes),
        media_type: doc.kind.media_type(),
    }
}

/// Fetches the manifest an index entry points at; nested indexes are refused.
async fn fetch_child(
    registry: &Registry,
    repository: &str,
    entry: &Value,
    retry: Retry<'_>,
) -> Result<Fetched, ImageError> {
    let digest = entry["digest"]
        .as_str()
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| ImageError::InvalidManifest {
            reason: "an index entry has no valid digest".into(),
        })?;
    let child = fetch(registry, repository, Target::Digest(&digest), retry).await?;
    if child.kind.is_index() {
        return Err(ImageError::Unsupported {
            media_type: format!("{} nested inside an index", child.kind.media_type()),
        });
    }
    Ok(child)
}
