//! The image an export reads: one platform's manifest and config from the
//! layout, each checked against its digest, and the layers with the diff_ids
//! the config pairs them with.

use std::collections::BTreeMap;

use serde_json::Value;

use super::error::ExportError;
use crate::digest::Digest;
use crate::layout::Layout;
use crate::platform::Platform;
use crate::pull::inspect::{ConfigSummary, Inspection, local_image};
use crate::reference::ImageRef;
use crate::unpack::Layer;

/// What an export needs to know of an image.
#[derive(Debug, Clone)]
pub struct Image {
    /// The full normalized reference, as `index.json` names it.
    pub name: String,
    pub reference: ImageRef,
    pub inspection: Inspection,
    /// The manifest's and the config's exact bytes.
    pub manifest: Vec<u8>,
    pub config_bytes: Vec<u8>,
    /// The platform the config declares, when it names an OS and an architecture.
    pub config_platform: Option<Platform>,
    pub layers: Vec<Layer>,
    pub run: RunConfig,
}

/// How the image means to be run (the config's `config` object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub volumes: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// `linux/amd64`-style, from the config.
    pub architecture: String,
}

impl Image {
    pub fn load(
        layout: &Layout,
        reference: &ImageRef,
        platform: &Platform,
        strict_platform: bool,
    ) -> Result<Image, ExportError> {
        let name = reference.normalized();
        let local =
            local_image(layout, reference, platform)?.ok_or_else(|| ExportError::NotInLayout {
                name: name.clone(),
                layout: layout.root().to_path_buf(),
            })?;
        if strict_platform {
            local.require_platform(layout, reference, platform)?;
        }
        let bad = |reason: String| ExportError::Config {
            name: name.clone(),
            reason,
        };
        let config: Value = serde_json::from_slice(&local.config)
            .map_err(|e| bad(format!("it is not JSON: {e}")))?;
        let diff_ids = diff_ids(&config).map_err(bad)?;
        let found = &local.inspection.layers;
        if diff_ids.len() != found.len() {
            return Err(bad(format!(
                "the manifest has {} layers but rootfs.diff_ids lists {}",
                found.len(),
                diff_ids.len()
            )));
        }
        let layers = found
            .iter()
            .zip(diff_ids)
            .map(|(l, diff_id)| Layer {
                digest: l.digest.clone(),
                size: l.size,
                media_type: l.media_type.clone(),
                diff_id,
            })
            .collect();
        let config_platform =
            Platform::from_json(&config).filter(|p| !p.os.is_empty() && !p.architecture.is_empty());
        Ok(Image {
            run: RunConfig::new(&local.inspection.config, &config),
            config_platform,
            name,
            reference: reference.clone(),
            inspection: local.inspection,
            manifest: local.manifest,
            config_bytes: local.config,
            layers,
        })
    }

    pub fn config_digest(&self) -> &Digest {
        &self.inspection.config.digest
    }
}

fn diff_ids(config: &Value) -> Result<Vec<Digest>, String> {
    let list = config
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .ok_or("it has no rootfs.diff_ids")?;
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            let s = d
                .as_str()
                .ok_or(format!("rootfs.diff_ids[{i}] is not a string"))?;
            Digest::parse(s).map_err(|e| format!("rootfs.diff_ids[{i}] {s:?}: {e}"))
        })
        .collect()
}

impl RunConfig {
    /// The architecture alone (`arm64` of `arm64/v8`), as SIF and the labels
    /// name it.
    pub fn arch(&self) -> &str {
        self.architecture.split('/').next().unwrap_or_default()
    }

    /// The run config from the summary `inspect` made of the config, and the
    /// config's Volumes (which the summary leaves out).
    pub fn new(summary: &ConfigSummary, config: &Value) -> RunConfig {
        let mut architecture = summary.architecture.clone().unwrap_or_default();
        if let Some(variant) = &summary.variant {
            architecture = format!("{architecture}/{variant}");
        }
        RunConfig {
            entrypoint: summary.entrypoint.clone().unwrap_or_default(),
            cmd: summary.cmd.clone().unwrap_or_default(),
            env: summary.env.clone(),
            working_dir: summary.working_dir.clone().unwrap_or_default(),
            volumes: config
                .pointer("/config/Volumes")
                .and_then(Value::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default(),
            labels: summary.labels.clone(),
            architecture,
        }
    }
}
