//! What each image in the layout is made of, for `regpull list` and for a
//! pull deciding whether an image is already there: the shared walk
//! (`walk.rs`) summarized per `index.json` entry, with the platforms it holds.

use oci_spec::image::Descriptor;
use serde_json::Value;

use super::walk::{BlobRef, Gap, ImageWalk};
use super::{Layout, LayoutError, MAX_CONFIG_BYTES, PULLED_AT_ANNOTATION, ref_name, timestamp};
use crate::digest::Digest;
use crate::platform::Platform;

/// The annotation buildkit puts on attestation entries, which are no platform.
const REFERENCE_TYPE_ANNOTATION: &str = "vnd.docker.reference.type";

/// A document that is there but cannot be read as a manifest or index, so the
/// blobs below it are not known from it.
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
    /// Documents that are there but could not be read (damaged, too large,
    /// nested too deep, or no manifest or index).
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
    /// Distinct blobs the image references.
    pub blobs: usize,
    /// How many of those are not in the layout.
    pub missing_blobs: usize,
    /// Documents that are there but cannot be read (`regpull verify` says which).
    pub unreadable_documents: usize,
    /// RFC 3339: the pulled-at annotation, else the top document's file time.
    pub pulled_at: Option<String>,
}

impl Layout {
    /// Every image in `index.json`, in its order.
    pub fn images(&self) -> Result<Vec<ImageInfo>, LayoutError> {
        let mut out = Vec::new();
        for (desc, walked) in self.walk()? {
            let digest = self.entry_digest(&desc)?;
            let pulled_at = desc
                .annotations()
                .as_ref()
                .and_then(|a| a.get(PULLED_AT_ANNOTATION).cloned())
                .or_else(|| {
                    let meta = std::fs::metadata(self.blob_path(&digest)).ok()?;
                    Some(timestamp::rfc3339(meta.modified().ok()?))
                });
            out.push(ImageInfo {
                name: ref_name(&desc).map(str::to_string),
                media_type: desc.media_type().to_string(),
                size: walked.blobs.iter().map(|b| b.size).sum(),
                blobs: walked.blobs.len(),
                missing_blobs: walked.missing(),
                unreadable_documents: walked.unreadable(),
                platforms: self.platforms(&desc, &walked),
                descriptor: desc,
                digest,
                pulled_at,
            });
        }
        Ok(out)
    }

    /// Walks the image `top` points at and lists every blob it references.
    pub fn image_blobs(&self, top: &Descriptor) -> Result<ImageBlobs, LayoutError> {
        let walked = self.walk_image(top)?;
        Ok(ImageBlobs {
            platforms: self.platforms(top, &walked),
            unparseable: walked
                .troubles
                .iter()
                .filter(|t| t.gap != Gap::Missing)
                .map(|t| Unparseable {
                    digest: t.digest.clone(),
                    reason: t.gap.reason(),
                })
                .collect(),
            blobs: walked.blobs,
        })
    }

    /// The entry's own platform, else an index's entries', else a lone
    /// manifest's config's.
    fn platforms(&self, top: &Descriptor, walked: &ImageWalk) -> Vec<String> {
        if let Some(p) = top.platform() {
            return vec![Platform::from(p).to_string()];
        }
        let Some(doc) = &walked.top else {
            return Vec::new();
        };
        if doc.get("manifests").is_some() {
            return entry_platforms(doc);
        }
        doc.get("config")
            .and_then(|c| c.get("digest"))
            .and_then(Value::as_str)
            .and_then(|d| Digest::parse(d).ok())
            .and_then(|config| self.config_platform(&config))
            .into_iter()
            .collect()
    }

    /// The platform an image config declares.
    pub(crate) fn config_platform(&self, config: &Digest) -> Option<String> {
        let bytes = self.read_blob(config, MAX_CONFIG_BYTES).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        Platform::from_json(&v)
            .filter(|p| !p.os.is_empty())
            .map(|p| p.to_string())
    }
}

/// The platforms an index's entries declare, attestations left out.
fn entry_platforms(doc: &Value) -> Vec<String> {
    let Some(entries) = doc.get("manifests").and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| !is_attestation(e))
        .filter_map(|e| e.get("platform").and_then(Platform::from_json))
        .map(|p| p.to_string())
        .collect()
}

/// Whether an index entry is buildkit's attestation (provenance, SBOM):
/// never a platform to run or pull.
pub fn is_attestation(entry: &Value) -> bool {
    entry["annotations"][REFERENCE_TYPE_ANNOTATION].as_str() == Some("attestation-manifest")
}
