//! What each image in the layout is made of, found by walking from its
//! `index.json` entry: index -> manifests -> config + layers.
//!
//! The walk trusts nothing it reads: a document is parsed only after its bytes
//! hash to its digest, and a document that is missing or damaged simply ends the
//! walk on that branch (`regpull verify` reports the blob itself). `regpull list`
//! and `regpull verify` both build on it.

use std::collections::HashSet;
use std::io;

use oci_spec::image::Descriptor;
use serde_json::Value;

use super::{
    Layout, LayoutError, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, PULLED_AT_ANNOTATION, ref_name,
    timestamp,
};
use crate::digest::Digest;
use crate::platform::Platform;

/// The annotation buildkit puts on attestation entries, which are no platform.
const REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";

/// One blob an image references, as its parent document describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// A manifest or index (walked into), not a config or layer; known from
    /// where it stands, since an index entry may omit its media type.
    pub document: bool,
}

/// A document whose bytes match its digest but that cannot be read as a
/// manifest or index, so the blobs below it are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unparseable {
    pub digest: Digest,
    pub reason: String,
}

/// Everything one image references.
#[derive(Debug, Clone, Default)]
pub struct ImageBlobs {
    /// Every distinct blob, the top document first.
    pub blobs: Vec<BlobRef>,
    pub unparseable: Vec<Unparseable>,
    /// `os/arch[/variant]` of each platform the image holds, as far as readable.
    pub platforms: Vec<String>,
}

/// One `index.json` entry, summarized for `regpull list`.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// The ref name; `None` for an entry another tool wrote without one.
    pub name: Option<String>,
    pub descriptor: Descriptor,
    pub digest: Digest,
    pub media_type: String,
    pub platforms: Vec<String>,
    /// Bytes of every distinct blob the image references.
    pub size: u64,
    /// RFC 3339: the pulled-at annotation, else the top document's file time.
    pub pulled_at: Option<String>,
}

impl Layout {
    /// Every image in `index.json`, in its order.
    pub fn images(&self) -> Result<Vec<ImageInfo>, LayoutError> {
        let index = self.read_index()?;
        let mut out = Vec::new();
        for desc in index.manifests() {
            let digest = self.entry_digest(desc)?;
            let walked = self.image_blobs(desc)?;
            let pulled_at = desc
                .annotations()
                .as_ref()
                .and_then(|a| a.get(PULLED_AT_ANNOTATION).cloned())
                .or_else(|| {
                    let meta = std::fs::metadata(self.blob_path(&digest)).ok()?;
                    Some(timestamp::rfc3339(meta.modified().ok()?))
                });
            out.push(ImageInfo {
                name: ref_name(desc).map(str::to_string),
                descriptor: desc.clone(),
                media_type: desc.media_type().to_string(),
                size: walked.blobs.iter().map(|b| b.size).sum(),
                platforms: walked.platforms,
                digest,
                pulled_at,
            });
        }
        Ok(out)
    }

    /// The digest an `index.json` entry points at.
    pub(super) fn entry_digest(&self, desc: &Descriptor) -> Result<Digest, LayoutError> {
        Digest::parse(desc.digest().as_ref()).map_err(|e| LayoutError::Corrupt {
            path: self.index_path(),
            reason: format!(
                "the entry {} has an invalid digest: {e}",
                ref_name(desc).unwrap_or("without a ref name")
            ),
        })
    }

    /// Walks the image `top` points at and lists every blob it references.
    pub fn image_blobs(&self, top: &Descriptor) -> Result<ImageBlobs, LayoutError> {
        let mut walked = ImageBlobs::default();
        let top_ref = BlobRef {
            digest: self.entry_digest(top)?,
            size: top.size(),
            media_type: top.media_type().to_string(),
            document: true,
        };
        let mut config = None;
        let mut todo = vec![(top_ref, true, true)];
        let mut seen = HashSet::new();
        while let Some((blob, is_document, is_top)) = todo.pop() {
            if !seen.insert(blob.digest.clone()) {
                continue;
            }
            walked.blobs.push(BlobRef {
                document: is_document,
                ..blob.clone()
            });
            if !is_document {
                continue;
            }
            let Some(doc) = self.read_document(&blob.digest, &mut walked)? else {
                continue;
            };
            match children(&doc) {
                Ok(kids) => {
                    if is_top {
                        walked.platforms = entry_platforms(&doc);
                        config = kids.iter().find(|(_, d)| !d).map(|(b, _)| b.digest.clone());
                    }
                    todo.extend(kids.into_iter().rev().map(|(b, d)| (b, d, false)));
                }
                Err(reason) => walked.unparseable.push(Unparseable {
                    digest: blob.digest,
                    reason,
                }),
            }
        }
        if let Some(p) = top.platform() {
            let variant = p.variant().clone().unwrap_or_default();
            let (os, arch) = (p.os().to_string(), p.architecture().to_string());
            walked.platforms = vec![Platform::new(&os, &arch, &variant).to_string()];
        } else if let Some(config) = config.filter(|_| walked.platforms.is_empty()) {
            walked.platforms = self.config_platform(&config).into_iter().collect();
        }
        Ok(walked)
    }

    /// A stored manifest or index as JSON; `None` when it is missing or its bytes
    /// do not match its digest (the blob check reports those).
    fn read_document(
        &self,
        digest: &Digest,
        walked: &mut ImageBlobs,
    ) -> Result<Option<Value>, LayoutError> {
        let bytes = match self.read_blob(digest, MAX_MANIFEST_BYTES) {
            Ok(bytes) => bytes,
            Err(LayoutError::Verify { .. }) => return Ok(None),
            Err(LayoutError::Read { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(None);
            }
            Err(LayoutError::Corrupt { reason, .. }) => {
                walked.unparseable.push(Unparseable {
                    digest: digest.clone(),
                    reason,
                });
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(doc) if doc.is_object() => Ok(Some(doc)),
            Ok(_) => {
                walked.unparseable.push(Unparseable {
                    digest: digest.clone(),
                    reason: "not a JSON object".into(),
                });
                Ok(None)
            }
            Err(e) => {
                walked.unparseable.push(Unparseable {
                    digest: digest.clone(),
                    reason: format!("not JSON: {e}"),
                });
                Ok(None)
            }
        }
    }

    /// The platform an image config declares.
    pub(crate) fn config_platform(&self, config: &Digest) -> Option<String> {
        let bytes = self.read_blob(config, MAX_CONFIG_BYTES).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
        (!field("os").is_empty()).then(|| {
            Platform::new(field("os"), field("architecture"), field("variant")).to_string()
        })
    }
}

/// The blobs a document names, each flagged when it is itself a document: an
/// index's entries are manifests; a manifest's config and layers are not.
fn children(doc: &Value) -> Result<Vec<(BlobRef, bool)>, String> {
    let mut out = Vec::new();
    if let Some(entries) = doc.get("manifests") {
        let entries = entries.as_array().ok_or("`manifests` is not an array")?;
        for (i, e) in entries.iter().enumerate() {
            out.push((descriptor(e, &format!("index entry {i}"))?, true));
        }
        return Ok(out);
    }
    let config = doc
        .get("config")
        .ok_or("neither `config` nor `manifests` is present")?;
    out.push((descriptor(config, "config")?, false));
    let layers = match doc.get("layers") {
        Some(l) => l.as_array().ok_or("`layers` is not an array")?.as_slice(),
        None => &[],
    };
    for (i, l) in layers.iter().enumerate() {
        out.push((descriptor(l, &format!("layer {i}"))?, false));
    }
    Ok(out)
}

fn descriptor(v: &Value, what: &str) -> Result<BlobRef, String> {
    let digest = v
        .get("digest")
        .and_then(Value::as_str)
        .ok_or(format!("{what} has no digest"))?;
    let digest = Digest::parse(digest).map_err(|e| format!("{what}: {e}"))?;
    let size = v
        .get("size")
        .and_then(Value::as_u64)
        .ok_or(format!("{what} has no valid size"))?;
    let media_type = v.get("mediaType").and_then(Value::as_str).unwrap_or("");
    Ok(BlobRef {
        digest,
        size,
        media_type: media_type.to_string(),
        document: false,
    })
}

/// The platforms an index's entries declare, attestations left out.
fn entry_platforms(doc: &Value) -> Vec<String> {
    let Some(entries) = doc.get("manifests").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| !is_attestation(e))
        .filter_map(|e| {
            let p = e.get("platform")?;
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
            Some(Platform::new(s("os"), s("architecture"), s("variant")).to_string())
        })
        .collect()
}

/// Whether an index entry is buildkit's attestation (provenance, SBOM):
/// never a platform to run or pull.
pub fn is_attestation(entry: &Value) -> bool {
    entry["annotations"][REFERENCE_TYPE_ANNOTATION].as_str() == Some("attestation-manifest")
}
