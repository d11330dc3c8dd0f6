//! `regpull inspect --layout DIR`: the same summary read from a local layout,
//! without any network. Stored documents are re-checked against their digests.

use serde_json::Value;

use super::summary::{Found, InspectError, Inspection, refuse_nested};
use crate::digest::Digest;
use crate::layout::{Layout, LayoutError};
use crate::platform::{MatchComparer, Platform};
use crate::pull::error::{ImageError, PullError};
use crate::pull::media::{self, Kind, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES};
use crate::reference::ImageRef;

/// An image read from a layout for one platform: its summary and the exact
/// bytes of its manifest and config, each checked against its digest.
#[derive(Debug, Clone)]
pub struct LocalImage {
    pub inspection: Inspection,
    pub manifest: Vec<u8>,
    pub config: Vec<u8>,
}

/// The summary of the image recorded as `reference` in `layout`; `None` when
/// the layout has no image of that name.
pub fn inspect_local(
    layout: &Layout,
    reference: &ImageRef,
    platform: &Platform,
) -> Result<Option<Inspection>, InspectError> {
    Ok(local_image(layout, reference, platform)?.map(|i| i.inspection))
}

/// The image recorded as `reference` in `layout`, with `platform` chosen from
/// an index as a pull chooses; `None` when the layout has no image of that name.
pub fn local_image(
    layout: &Layout,
    reference: &ImageRef,
    platform: &Platform,
) -> Result<Option<LocalImage>, InspectError> {
    let fail = |kind| local_error(layout, reference, kind);
    let Some(desc) = layout
        .find_image(&reference.normalized())
        .map_err(|e| fail(e.into()))?
    else {
        return Ok(None);
    };
    let top = Digest::parse(desc.digest().as_ref()).map_err(|e| {
        fail(ImageError::Layout(LayoutError::Corrupt {
            path: layout.root().join("index.json"),
            reason: format!("the entry for {reference} has an invalid digest: {e}"),
        }))
    })?;
    let (kind, doc, bytes) =
        read_document(layout, &top, desc.media_type().as_ref()).map_err(fail)?;
    let mut found = Found::new(reference, top, kind);
    let (manifest, manifest_bytes) = if kind.is_index() {
        let digest = found.choose(&doc, platform).map_err(fail)?;
        let (child_kind, child, bytes) = read_document(layout, &digest, "").map_err(fail)?;
        refuse_nested(child_kind).map_err(fail)?;
        found.manifest_media_type = child_kind.media_type().to_string();
        (child, bytes)
    } else {
        (doc, bytes)
    };
    let m = media::check_manifest(&manifest).map_err(fail)?;
    let config = Digest::parse(m.config().digest().as_ref()).expect("checked by check_manifest");
    let bytes = layout
        .read_blob(&config, MAX_CONFIG_BYTES)
        .map_err(|e| fail(e.into()))?;
    let config_json: Value = serde_json::from_slice(&bytes).map_err(|e| {
        fail(ImageError::Layout(LayoutError::Corrupt {
            path: layout.blob_path(&config),
            reason: format!("the image config is not JSON: {e}"),
        }))
    })?;
    Ok(Some(LocalImage {
        inspection: found.finish(&m, &config_json).map_err(fail)?,
        manifest: manifest_bytes,
        config: bytes,
    }))
}

impl LocalImage {
    /// Refuses a lone manifest whose config declares a platform other than
    /// `wanted` itself. An index's entry was chosen for `wanted` already (or
    /// for what it can run, as a pull chooses); a lone manifest is for
    /// whatever its config says, which `inspect` describes as it is, but an
    /// export asked for one platform must not write another's files.
    pub fn require_platform(
        &self,
        layout: &Layout,
        reference: &ImageRef,
        wanted: &Platform,
    ) -> Result<(), InspectError> {
        let own = match self.inspection.platform.as_deref().map(Platform::parse) {
            Some(Ok(own)) if self.inspection.platforms.is_empty() => own.normalize(),
            _ => return Ok(()),
        };
        if MatchComparer::only_strict(wanted).matches(&own) {
            return Ok(());
        }
        Err(local_error(
            layout,
            reference,
            ImageError::NoMatchingPlatform {
                wanted: wanted.format_all(),
                available: vec![own.format_all()],
            },
        ))
    }
}

/// A failure reading `reference` from `layout`, classed and hinted as a
/// pull's would be.
fn local_error(layout: &Layout, reference: &ImageRef, kind: ImageError) -> InspectError {
    InspectError {
        pull: Box::new(PullError {
            reference: reference.normalized(),
            registry: reference.api_host().to_string(),
            credential_source: None,
            kind: match kind {
                // The layout's copy is at fault, not a registry.
                ImageError::InvalidManifest { reason } => {
                    ImageError::Layout(LayoutError::Corrupt {
                        path: layout.root().to_path_buf(),
                        reason,
                    })
                }
                other => other,
            },
        }),
        layout: Some(layout.root().to_path_buf()),
    }
}

/// A stored manifest or index, checked against its digest and classified by its
/// own `mediaType`, else the descriptor's.
fn read_document(
    layout: &Layout,
    digest: &Digest,
    media_type: &str,
) -> Result<(Kind, Value, Vec<u8>), ImageError> {
    let bytes = layout.read_blob(digest, MAX_MANIFEST_BYTES)?;
    let (kind, json) = media::classify(&bytes, Some(media_type).filter(|m| !m.is_empty()))
        .map_err(|e| match e {
            // The layout's copy is at fault, not a registry: name the file.
            ImageError::InvalidManifest { reason } => ImageError::Layout(LayoutError::Corrupt {
                path: layout.blob_path(digest),
                reason,
            }),
            other => other,
        })?;
    Ok((kind, json, bytes))
}
