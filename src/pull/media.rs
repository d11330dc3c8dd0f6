//! Manifest and index documents: which kind a document is, and whether it is
//! sound enough to act on. Nothing from the registry is trusted before this.

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};

use super::error::ImageError;
use crate::digest::Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What we ask registries for, best first.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json;q=0.9, \
application/vnd.docker.distribution.manifest.v2+json;q=0.9";

pub use crate::layout::{MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES};
/// A layer larger than this is a lie, not an image (the largest real ones are tens of GiB).
pub const MAX_LAYER_BYTES: u64 = 1 << 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    OciManifest,
    OciIndex,
    DockerManifest,
    DockerList,
}

impl Kind {
    pub fn is_index(self) -> bool {
        matches!(self, Kind::OciIndex | Kind::DockerList)
    }

    pub fn is_docker(self) -> bool {
        matches!(self, Kind::DockerManifest | Kind::DockerList)
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Kind::OciManifest => OCI_MANIFEST,
            Kind::OciIndex => OCI_INDEX,
            Kind::DockerManifest => DOCKER_MANIFEST,
            Kind::DockerList => DOCKER_LIST,
        }
    }

    fn from_media_type(m: &str) -> Option<Kind> {
        match m {
            OCI_MANIFEST => Some(Kind::OciManifest),
            OCI_INDEX => Some(Kind::OciIndex),
            DOCKER_MANIFEST => Some(Kind::DockerManifest),
            DOCKER_LIST => Some(Kind::DockerList),
            _ => None,
        }
    }
}

/// Decides a document's kind from its own `mediaType`, else the Content-Type,
/// else its shape (OCI allows omitting `mediaType`).
pub fn classify(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<(Kind, serde_json::Value), ImageError> {
    let invalid = |reason: String| ImageError::InvalidManifest { reason };
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
    let obj = json
        .as_object()
        .ok_or_else(|| invalid("not a JSON object".into()))?;
    let declared = obj.get("mediaType").and_then(|m| m.as_str());
    let header = content_type.map(|c| c.split(';').next().unwrap_or("").trim());
    let schema = obj.get("schemaVersion").and_then(|v| v.as_u64());
    for m in [declared, header].into_iter().flatten() {
        if m == DOCKER_SCHEMA1 || m == DOCKER_SCHEMA1_SIGNED {
            return Err(ImageError::Unsupported {
                media_type: m.to_string(),
            });
        }
    }
    if schema != Some(2) {
        return Err(match schema {
            Some(1) => ImageError::Unsupported {
                media_type: DOCKER_SCHEMA1.to_string(),
            },
            other => invalid(format!("schemaVersion is {other:?}, expected 2")),
        });
    }
    let by_shape = if obj.contains_key("manifests") {
        Some(Kind::OciIndex)
    } else if obj.contains_key("config") {
        Some(Kind::OciManifest)
    } else {
        None
    };
    let kind = match declared.or(header.filter(|h| Kind::from_media_type(h).is_some())) {
        Some(m) => Kind::from_media_type(m).ok_or_else(|| ImageError::Unsupported {
            media_type: m.to_string(),
        })?,
        None => {
            by_shape.ok_or_else(|| invalid("neither `config` nor `manifests` is present".into()))?
        }
    };
    Ok((kind, json))
}

/// Parses and checks an image manifest: a config, valid digests, sane sizes.
pub fn check_manifest(json: &serde_json::Value) -> Result<ImageManifest, ImageError> {
    let invalid = |reason: String| ImageError::InvalidManifest { reason };
    let m: ImageManifest = serde_json::from_value(json.clone())
        .map_err(|e| invalid(format!("not an image manifest: {e}")))?;
    check_descriptor(m.config(), MAX_CONFIG_BYTES, "config")?;
    for (i, layer) in m.layers().iter().enumerate() {
        check_descriptor(layer, MAX_LAYER_BYTES, &format!("layer {i}"))?;
    }
    Ok(m)
}

/// Parses and checks an index: every entry a valid manifest descriptor.
pub fn check_index(json: &serde_json::Value) -> Result<ImageIndex, ImageError> {
    let index: ImageIndex =
        serde_json::from_value(json.clone()).map_err(|e| ImageError::InvalidManifest {
            reason: format!("not an image index: {e}"),
        })?;
    for (i, d) in index.manifests().iter().enumerate() {
        check_descriptor(d, MAX_MANIFEST_BYTES, &format!("index entry {i}"))?;
    }
    Ok(index)
}

/// The validated digest of a descriptor whose size is within `limit`.
pub fn check_descriptor(d: &Descriptor, limit: u64, what: &str) -> Result<Digest, ImageError> {
    let digest = Digest::parse(d.digest().as_ref()).map_err(|e| ImageError::InvalidManifest {
        reason: format!("{what}: {e}"),
    })?;
    if d.size() > limit {
        return Err(ImageError::InvalidManifest {
            reason: format!(
                "{what} claims {} bytes, more than the {limit} allowed",
                d.size()
            ),
        });
    }
    Ok(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema1_and_garbage_are_refused_clearly() {
        let e = classify(br#"{"schemaVersion":1,"name":"x"}"#, None).unwrap_err();
        assert!(matches!(e, ImageError::Unsupported { .. }), "{e}");
        assert!(matches!(
            classify(b"\x00\x01", None),
            Err(ImageError::InvalidManifest { .. })
        ));
        let (k, _) = classify(
            br#"{"schemaVersion":2,"manifests":[]}"#,
            Some("application/json"),
        )
        .unwrap();
        assert_eq!(k, Kind::OciIndex);
    }
}
