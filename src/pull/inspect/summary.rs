//! What `inspect` reports, and how it is built from the documents, wherever they
//! were read from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oci_spec::image::ImageManifest;
use serde::Serialize;
use serde_json::Value;

use crate::digest::Digest;
use crate::platform::Platform;
use crate::pull::error::{ImageError, PullError};
use crate::pull::media::{self, Kind};
use crate::pull::select;
use crate::reference::ImageRef;

#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// The full normalized reference.
    pub reference: String,
    /// The top document (manifest or index) as the source names it.
    pub digest: Digest,
    pub media_type: String,
    /// An index's entries (attestations left out); empty for a single manifest.
    pub platforms: Vec<PlatformEntry>,
    /// The platform described below: the one chosen from an index, or the one a
    /// single manifest's config declares.
    pub platform: Option<String>,
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub config: ConfigSummary,
    pub layers: Vec<LayerSummary>,
    /// Config and layers of the described manifest: what a pull of it stores,
    /// manifests aside.
    pub total_size: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformEntry {
    pub platform: String,
    pub digest: Digest,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigSummary {
    pub digest: Digest,
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub created: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub working_dir: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerSummary {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// Why inspecting failed. It carries what a pull failure carries (registry,
/// credential source, cause) so that the same classes and hints apply.
#[derive(Debug)]
pub struct InspectError {
    pub pull: Box<PullError>,
    /// The layout the image was read from, when not from the registry.
    pub layout: Option<PathBuf>,
}

impl InspectError {
    pub(super) fn remote(pull: PullError) -> Self {
        InspectError {
            pull: Box::new(pull),
            layout: None,
        }
    }
}

impl std::fmt::Display for InspectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.layout {
            Some(l) => write!(f, "inspecting {} in {}", self.pull.reference, l.display()),
            None => write!(f, "inspecting {}", self.pull.reference),
        }
    }
}

impl std::error::Error for InspectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Skip the PullError's own "pulling ..." line: nothing is being pulled.
        match &self.pull.kind {
            ImageError::Layout(e) => Some(e),
            kind => Some(kind),
        }
    }
}

/// What is known about the image while its documents are being read.
pub(super) struct Found {
    reference: String,
    digest: Digest,
    media_type: String,
    platforms: Vec<PlatformEntry>,
    platform: Option<String>,
    manifest_digest: Digest,
    pub manifest_media_type: String,
}

impl Found {
    pub fn new(reference: &ImageRef, digest: Digest, kind: Kind) -> Self {
        Found {
            reference: reference.normalized(),
            manifest_digest: digest.clone(),
            digest,
            media_type: kind.media_type().to_string(),
            platforms: Vec::new(),
            platform: None,
            manifest_media_type: kind.media_type().to_string(),
        }
    }

    /// Lists an index's platforms and picks the entry for `wanted`, as a pull
    /// would (containerd's ranking; attestations never qualify).
    pub fn choose(&mut self, index: &Value, wanted: &Platform) -> Result<Digest, ImageError> {
        media::check_index(index)?;
        let entries = index["manifests"].as_array().map_or(&[][..], Vec::as_slice);
        let (runnable, platforms) = select::runnable(entries);
        for (e, p) in runnable.iter().zip(&platforms) {
            self.platforms.push(PlatformEntry {
                platform: p.as_ref().map_or("unknown".into(), Platform::to_string),
                digest: e["digest"]
                    .as_str()
                    .and_then(|d| Digest::parse(d).ok())
                    .expect("checked by check_index"),
            });
        }
        let best = select::choose(&platforms, wanted)?;
        self.platform = Some(self.platforms[best].platform.clone());
        self.manifest_digest = self.platforms[best].digest.clone();
        Ok(self.manifest_digest.clone())
    }

    /// The summary, from the described manifest and its config.
    pub fn finish(self, m: &ImageManifest, config: &Value) -> Result<Inspection, ImageError> {
        let config_digest = media::check_descriptor(m.config(), media::MAX_CONFIG_BYTES, "config")?;
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let strings = |v: Option<&Value>| {
            v.and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
        };
        let run = config.get("config").unwrap_or(&Value::Null);
        let declared = Platform::from_json(config).unwrap_or_default();
        let named = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        let summary = ConfigSummary {
            digest: config_digest,
            os: named(&declared.os),
            architecture: named(&declared.architecture),
            variant: named(&declared.variant),
            created: text(config, "created"),
            entrypoint: strings(run.get("Entrypoint")),
            cmd: strings(run.get("Cmd")),
            env: strings(run.get("Env")).unwrap_or_default(),
            labels: run
                .get("Labels")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
            working_dir: text(run, "WorkingDir"),
        };
        let mut layers = Vec::new();
        for (i, l) in m.layers().iter().enumerate() {
            let digest = media::check_descriptor(l, media::MAX_LAYER_BYTES, &format!("layer {i}"))?;
            layers.push(LayerSummary {
                digest,
                media_type: l.media_type().to_string(),
                size: l.size(),
            });
        }
        let total_size = m.config().size() + layers.iter().map(|l| l.size).sum::<u64>();
        // A single manifest is described with the platform its config declares.
        let platform = self
            .platform
            .or_else(|| (!declared.os.is_empty()).then(|| declared.to_string()));
        Ok(Inspection {
            reference: self.reference,
            digest: self.digest,
            media_type: self.media_type,
            platforms: self.platforms,
            platform,
            manifest_digest: self.manifest_digest,
            manifest_media_type: self.manifest_media_type,
            config: summary,
            layers,
            total_size,
        })
    }
}

/// An index inside an index is not an image regpull can describe.
pub(super) fn refuse_nested(kind: Kind) -> Result<(), ImageError> {
    if kind.is_index() {
        return Err(ImageError::Unsupported {
            media_type: format!("{} nested inside an index", kind.media_type()),
        });
    }
    Ok(())
}
