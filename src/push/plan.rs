//! What one image of the layout sends: its configs and layers, then its
//! documents, each manifest before the index that lists it.
//!
//! Documents are read whole (at most [`MAX_MANIFEST_BYTES`], checked against
//! their digests) and pushed with their exact bytes. What a document is comes
//! from its JSON, as the layout's walk reads it: `manifests` makes an index,
//! `config`, `layers` or `blobs` a manifest. A `subject` is a link to another
//! image, not part of this one, and is not followed. Every blob must be in
//! the layout, except a non-distributable ("foreign") layer the manifest gives
//! `urls` for, which registries do not hold either.

use std::collections::HashSet;

use oci_spec::image::Descriptor;
use serde_json::Value;

use super::error::PushFailure;
use crate::digest::Digest;
use crate::layout::{Check, Layout, MAX_MANIFEST_BYTES, MAX_NESTING};

/// A manifest or index, as it will be sent.
#[derive(Debug, Clone)]
pub struct Document {
    pub digest: Digest,
    pub bytes: Vec<u8>,
    /// Its `mediaType`, else its descriptor's, else what its JSON makes it.
    pub media_type: String,
}

/// A config or layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobItem {
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ImagePlan {
    /// Children first, the top document last.
    pub documents: Vec<Document>,
    /// Distinct configs and layers, in the order the manifests list them.
    pub blobs: Vec<BlobItem>,
}

impl ImagePlan {
    pub fn top(&self) -> &Document {
        self.documents.last().expect("a plan has its top document")
    }

    pub fn size(&self) -> u64 {
        let docs: u64 = self.documents.iter().map(|d| d.bytes.len() as u64).sum();
        docs + self.blobs.iter().map(|b| b.size).sum::<u64>()
    }
}

/// One descriptor to visit.
struct Entry<'a> {
    digest: Digest,
    size: u64,
    media_type: &'a str,
    /// The index that lists it and the platform it gives, for messages.
    parent: Option<(&'a Digest, Option<String>)>,
}

/// Reads the image `top` points at.
pub fn plan(layout: &Layout, top: &Descriptor) -> Result<ImagePlan, PushFailure> {
    let digest = Digest::parse(top.digest().as_ref()).map_err(|e| PushFailure::Unreadable {
        digest: Digest::sha256_of(b""),
        reason: format!("the index.json entry has an invalid digest: {e}"),
    })?;
    let media_type = top.media_type().to_string();
    let mut out = ImagePlan::default();
    let mut seen = (HashSet::new(), HashSet::new());
    let entry = Entry {
        digest,
        size: top.size(),
        media_type: &media_type,
        parent: None,
    };
    visit(layout, entry, 0, &mut out, &mut seen)?;
    Ok(out)
}

fn visit(
    layout: &Layout,
    entry: Entry<'_>,
    depth: usize,
    out: &mut ImagePlan,
    seen: &mut (HashSet<Digest>, HashSet<Digest>),
) -> Result<(), PushFailure> {
    if !seen.0.insert(entry.digest.clone()) {
        return Ok(());
    }
    let unreadable = |reason: String| PushFailure::Unreadable {
        digest: entry.digest.clone(),
        reason,
    };
    if depth >= MAX_NESTING {
        return Err(unreadable(format!(
            "more than {MAX_NESTING} documents nested in each other"
        )));
    }
    if !layout.has_blob(&entry.digest, entry.size, Check::Size)? {
        return Err(match entry.parent {
            Some((index, platform)) => PushFailure::MissingManifest {
                index: index.clone(),
                digest: entry.digest.clone(),
                platform,
            },
            None => {
                unreadable("it is not in the layout (or not of the size index.json says)".into())
            }
        });
    }
    let bytes = layout.read_blob(&entry.digest, MAX_MANIFEST_BYTES)?;
    let doc: Value =
        serde_json::from_slice(&bytes).map_err(|e| unreadable(format!("not JSON: {e}")))?;
    let list = |key: &str| doc.get(key).and_then(Value::as_array).map(Vec::as_slice);
    let inferred = if let Some(children) = list("manifests") {
        for (i, child) in children.iter().enumerate() {
            let (digest, size, media_type) =
                descriptor(child).map_err(|why| unreadable(format!("manifests[{i}]: {why}")))?;
            let platform = child
                .get("platform")
                .and_then(crate::platform::Platform::from_json);
            let next = Entry {
                digest,
                size,
                media_type,
                parent: Some((&entry.digest, platform.map(|p| p.to_string()))),
            };
            visit(layout, next, depth + 1, out, seen)?;
        }
        "application/vnd.oci.image.index.v1+json"
    } else if ["config", "layers", "blobs"]
        .iter()
        .any(|k| doc.get(*k).is_some())
    {
        let config = doc
            .get("config")
            .into_iter()
            .map(|c| ("config".to_string(), c));
        let others = ["layers", "blobs"].into_iter().flat_map(|key| {
            list(key)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .map(move |(i, l)| (format!("{key}[{i}]"), l))
        });
        for (what, d) in config.chain(others) {
            let (digest, size, _) =
                descriptor(d).map_err(|why| unreadable(format!("{what}: {why}")))?;
            if !layout.has_blob(&digest, size, Check::Size)? {
                if d.get("urls")
                    .and_then(Value::as_array)
                    .is_some_and(|u| !u.is_empty())
                {
                    continue;
                }
                return Err(PushFailure::MissingBlob {
                    manifest: entry.digest.clone(),
                    digest,
                });
            }
            if seen.1.insert(digest.clone()) {
                out.blobs.push(BlobItem { digest, size });
            }
        }
        "application/vnd.oci.image.manifest.v1+json"
    } else {
        return Err(unreadable(
            "neither an index (`manifests`) nor a manifest (`config`, `layers`)".into(),
        ));
    };
    let media_type = doc
        .get("mediaType")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .or(Some(entry.media_type).filter(|m| !m.is_empty()))
        .unwrap_or(inferred);
    out.documents.push(Document {
        digest: entry.digest.clone(),
        media_type: media_type.to_string(),
        bytes,
    });
    Ok(())
}

/// A descriptor's digest, size and media type.
fn descriptor(v: &Value) -> Result<(Digest, u64, &str), String> {
    let digest = v.get("digest").and_then(Value::as_str).ok_or("no digest")?;
    let digest = Digest::parse(digest).map_err(|e| e.to_string())?;
    let size = v
        .get("size")
        .and_then(Value::as_u64)
        .ok_or("no valid size")?;
    let media_type = v.get("mediaType").and_then(Value::as_str).unwrap_or("");
    Ok((digest, size, media_type))
}
