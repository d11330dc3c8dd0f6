//! From a reference to the exact documents and blobs to store.
//!
//! A tag may name a single manifest or an index (multi-platform). For an index we
//! pick the entry for the wanted platform with containerd's ranking (attestation
//! entries never qualify), or keep every entry with `--all-platforms`. Every
//! document fetched is checked against the digest it was asked by (or the
//! registry's `Docker-Content-Digest`) before anything is decided from it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::convert::{index_to_oci, manifest_to_oci};
use super::error::ImageError;
use super::media::{self, ACCEPT, Kind, MAX_MANIFEST_BYTES};
use super::progress::Progress;
use super::select::{choose, platform_of, runnable};
use crate::digest::{Digest, Verifier};
use crate::layout::is_attestation;
use crate::platform::Platform;
use crate::reference::{ImageRef, Target};
use crate::registry::retry::{RetryPolicy, Retrying};
use crate::registry::{Fetch, Registry, read_capped};

/// A document fetched from the registry and checked against its digest.
pub(super) struct Fetched {
    pub bytes: Vec<u8>,
    /// The digest the registry knows it by.
    pub digest: Digest,
    pub kind: Kind,
    pub json: Value,
}

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
    pub registry: Arc<Registry>,
    pub repository: String,
    /// Digest of the top document as the registry names it.
    pub registry_digest: Digest,
    /// What the reference itself resolved to (an index when a platform was chosen from one).
    pub resolved_digest: Digest,
    pub resolved_media_type: &'static str,
    /// The image manifests chosen, as the registry names them, with their platforms.
    pub manifests: Vec<(Option<String>, Digest)>,
    /// How the platforms were chosen ([`super::current::selection`]).
    pub selection: String,
    /// What `index.json` will point at.
    pub top: StoredDoc,
    /// Child manifests to write before `top` (empty for a single manifest).
    pub children: Vec<StoredDoc>,
    pub blobs: Vec<BlobRef>,
    /// The platforms stored, as `os/arch[/variant]`.
    pub platforms: Vec<String>,
    /// The index entry's platform object, when one entry of an index was chosen.
    pub top_platform: Option<Value>,
    /// The config of a lone manifest, which says its platform.
    pub config: Option<Digest>,
}

pub struct ResolveOptions<'a> {
    pub platform: &'a Platform,
    pub all_platforms: bool,
    pub preserve_digests: bool,
    pub retry: &'a RetryPolicy,
    pub progress: &'a dyn Progress,
}

impl Resolved {
    /// The configs and layers to store, each once: a layer may stand twice in
    /// one manifest, or be shared by the platforms of an index.
    pub fn distinct_blobs(&self) -> Vec<&BlobRef> {
        let mut seen = std::collections::HashSet::new();
        self.blobs
            .iter()
            .filter(|b| seen.insert(&b.digest))
            .collect()
    }
}

pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

pub async fn resolve(
    registry: Arc<Registry>,
    reference: &ImageRef,
    opts: &ResolveOptions<'_>,
) -> Result<Resolved, ImageError> {
    let repository = reference.repository().to_string();
    let name = reference.to_string();
    let notice = |r: &Retrying<'_>| opts.progress.retrying(&name, r);
    let policy = (opts.retry, &notice as &(dyn Fn(&Retrying<'_>) + Sync));
    let top = fetch(&registry, &repository, reference.target(), policy).await?;
    let mut r = Resolved {
        reference: reference.clone(),
        registry: registry.clone(),
        repository: repository.clone(),
        registry_digest: top.digest.clone(),
        resolved_digest: top.digest.clone(),
        resolved_media_type: top.kind.media_type(),
        manifests: Vec::new(),
        selection: super::current::selection(
            opts.platform,
            opts.all_platforms,
            opts.preserve_digests,
        ),
        top: StoredDoc {
            bytes: Vec::new(),
            digest: top.digest.clone(),
            media_type: top.kind.media_type(),
        },
        children: Vec::new(),
        blobs: Vec::new(),
        platforms: Vec::new(),
        top_platform: None,
        config: None,
    };
    if !top.kind.is_index() {
        r.top = image_manifest(&top, opts.preserve_digests, &mut r.blobs)?;
        r.config = r.blobs.first().map(|b| b.digest.clone());
        r.manifests.push((None, top.digest.clone()));
        return Ok(r);
    }
    media::check_index(&top.json)?;
    let entries = top.json["manifests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if opts.all_platforms {
        let mut replaced = HashMap::new();
        for entry in &entries {
            let child = fetch_child(&registry, &repository, entry, policy).await?;
            let stored = image_manifest(&child, opts.preserve_digests, &mut r.blobs)?;
            if stored.digest != child.digest {
                replaced.insert(
                    child.digest.clone(),
                    (stored.digest.clone(), stored.bytes.len() as u64),
                );
            }
            let platform = platform_of(entry).filter(|_| !is_attestation(entry));
            if let Some(p) = &platform {
                r.platforms.push(p.to_string());
            }
            r.manifests
                .push((platform.map(|p| p.to_string()), child.digest.clone()));
            r.children.push(stored);
        }
        r.top = if opts.preserve_digests || (!top.kind.is_docker() && replaced.is_empty()) {
            stored_as_is(&top)
        } else {
            let bytes = index_to_oci(&top.json, &replaced);
            StoredDoc {
                digest: Digest::sha256_of(&bytes),
                bytes,
                media_type: media::OCI_INDEX,
            }
        };
        return Ok(r);
    }
    let (runnable, platforms) = runnable(&entries);
    let best = choose(&platforms, opts.platform)?;
    let entry = runnable[best];
    tracing::info!(
        "{reference}: {} chosen for {}",
        platforms[best].as_ref().map_or(
            "an entry without platform".to_string(),
            Platform::format_all
        ),
        opts.platform.format_all()
    );
    let child = fetch_child(&registry, &repository, entry, policy).await?;
    r.top = image_manifest(&child, opts.preserve_digests, &mut r.blobs)?;
    r.registry_digest = child.digest.clone();
    r.platforms = platforms[best].iter().map(Platform::to_string).collect();
    r.manifests
        .push((r.platforms.first().cloned(), child.digest.clone()));
    r.top_platform = entry.get("platform").cloned();
    Ok(r)
}

/// Checks an image manifest, queues its blobs, and returns it as it will be stored.
fn image_manifest(
    doc: &Fetched,
    preserve: bool,
    blobs: &mut Vec<BlobRef>,
) -> Result<StoredDoc, ImageError> {
    let m = media::check_manifest(&doc.json)?;
    for d in std::iter::once(m.config()).chain(m.layers().iter()) {
        blobs.push(BlobRef {
            digest: Digest::parse(d.digest().as_ref()).expect("checked by check_manifest"),
            size: d.size(),
        });
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

/// The top document of `reference`, checked: its digest and media type.
pub async fn fetch_manifest(
    registry: &Registry,
    reference: &ImageRef,
) -> Result<(Digest, &'static str), ImageError> {
    let doc = fetch_once(registry, reference.repository(), reference.target()).await?;
    Ok((doc.digest, doc.kind.media_type()))
}

/// Fetches the manifest an index entry points at; nested indexes are refused.
async fn fetch_child(
    registry: &Registry,
    repository: &str,
    entry: &Value,
    policy: Policy<'_>,
) -> Result<Fetched, ImageError> {
    let digest = entry["digest"]
        .as_str()
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| ImageError::InvalidManifest {
            reason: "an index entry has no valid digest".into(),
        })?;
    let child = fetch(registry, repository, Target::Digest(&digest), policy).await?;
    if child.kind.is_index() {
        return Err(ImageError::Unsupported {
            media_type: format!("{} nested inside an index", child.kind.media_type()),
        });
    }
    Ok(child)
}

/// The retry policy and who hears of each retry.
pub(super) type Policy<'a> = (&'a RetryPolicy, &'a (dyn Fn(&Retrying<'_>) + Sync));

/// `fetch_once`, retried on transient failures under the pull's policy.
pub(super) async fn fetch(
    registry: &Registry,
    repository: &str,
    target: Target<'_>,
    (policy, notice): Policy<'_>,
) -> Result<Fetched, ImageError> {
    let mut attempt = 0;
    loop {
        match fetch_once(registry, repository, target.clone()).await {
            Err(ImageError::Registry(e)) => {
                attempt += 1;
                if !policy
                    .pause(attempt, &e, &format!("manifest of {repository}"), notice)
                    .await
                {
                    return Err(ImageError::Registry(e));
                }
            }
            other => return other,
        }
    }
}

async fn fetch_once(
    registry: &Registry,
    repository: &str,
    target: Target<'_>,
) -> Result<Fetched, ImageError> {
    let reference = match target {
        Target::Tag(t) => t.to_string(),
        Target::Digest(d) => d.to_string(),
    };
    let resp = registry
        .get(&Fetch {
            operation: "fetching manifest",
            path: format!("v2/{repository}/manifests/{reference}"),
            scope: pull_scope(repository),
            accept: Some(ACCEPT),
            from_offset: None,
        })
        .await?;
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let content_digest = header("docker-content-digest");
    let bytes = read_capped(resp, MAX_MANIFEST_BYTES, "manifest").await?;
    let digest = match target {
        Target::Digest(expected) => {
            let actual = hash_like(expected, &bytes);
            if &actual != expected {
                return Err(ImageError::ManifestDigest {
                    expected: expected.clone(),
                    actual,
                });
            }
            actual
        }
        Target::Tag(_) => match content_digest.as_deref().map(Digest::parse) {
            Some(Ok(claimed)) => {
                let actual = hash_like(&claimed, &bytes);
                if actual != claimed {
                    return Err(ImageError::ContentDigestHeader {
                        header: claimed.to_string(),
                        actual,
                    });
                }
                actual
            }
            _ => Digest::sha256_of(&bytes),
        },
    };
    let (kind, json) = media::classify(&bytes, content_type.as_deref())?;
    Ok(Fetched {
        bytes,
        digest,
        kind,
        json,
    })
}

fn hash_like(d: &Digest, bytes: &[u8]) -> Digest {
    let mut v = Verifier::hasher(d.algorithm());
    v.update(bytes);
    v.finish()
}
