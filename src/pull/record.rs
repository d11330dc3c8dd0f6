//! The last phase of a pull: for each image whose blobs are all in place, its
//! manifests into blobs/, then its `index.json` entry.

use std::collections::HashMap;

use oci_spec::image::{Descriptor, MediaType};

use super::convert::REGISTRY_DIGEST_ANNOTATION;
use super::current::{SOURCE_ANNOTATION, Source, SourceManifest};
use super::documents::Resolved;
use super::error::{ImageError, PullError};
use super::progress::Progress;
use super::report::PulledImage;
use super::request::Wanted;
use super::resolve::{Found, Outcome};
use crate::layout::{Layout, PULLED_AT_ANNOTATION};

/// Records every image that got this far, in request order, reporting each.
pub fn record_all(
    layout: &Layout,
    results: Vec<Outcome>,
    wanted: &[Wanted],
    progress: &dyn Progress,
) -> Vec<Result<PulledImage, PullError>> {
    let mut recorded = Vec::with_capacity(results.len());
    for (result, w) in results.into_iter().zip(wanted) {
        let outcome = match result {
            Ok(Found::Resolved(r)) => {
                record(layout, &r, &w.selection).map_err(|e| Found::Resolved(r).fail(w, e))
            }
            Ok(Found::Current(c)) => Ok(c.image),
            Err(e) => {
                // Reported when it failed.
                recorded.push(Err(e));
                continue;
            }
        };
        match &outcome {
            Ok(image) => progress.image_done(image),
            Err(e) => progress.image_failed(e),
        }
        recorded.push(outcome);
    }
    recorded
}

/// Writes the image's manifests (children first) and then its `index.json` entry.
fn record(layout: &Layout, r: &Resolved, selection: &str) -> Result<PulledImage, ImageError> {
    for doc in r.children.iter().chain(std::iter::once(&r.top)) {
        let written = layout.write_blob(&doc.bytes)?;
        debug_assert_eq!(written, doc.digest);
    }
    let converted = r.top.digest != r.registry_digest;
    let mut desc = Descriptor::new(
        MediaType::from(r.top.media_type),
        r.top.bytes.len() as u64,
        oci_spec::image::Digest::try_from(r.top.digest.to_string().as_str())
            .expect("a valid digest"),
    );
    if let Some(p) = r
        .top_platform
        .as_ref()
        .and_then(|p| serde_json::from_value(p.clone()).ok())
    {
        desc.set_platform(Some(p));
    }
    let mut annotations = HashMap::from([(
        PULLED_AT_ANNOTATION.to_string(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
    )]);
    annotations.insert(
        SOURCE_ANNOTATION.to_string(),
        serde_json::to_string(&Source {
            digest: r.resolved_digest.to_string(),
            media_type: r.resolved_media_type.to_string(),
            selection: selection.to_string(),
            manifests: r
                .manifests
                .iter()
                .map(|(platform, digest)| SourceManifest {
                    platform: platform.clone(),
                    digest: digest.to_string(),
                })
                .collect(),
        })
        .expect("plain data serializes"),
    );
    if converted {
        annotations.insert(
            REGISTRY_DIGEST_ANNOTATION.to_string(),
            r.registry_digest.to_string(),
        );
    }
    desc.set_annotations(Some(annotations));
    let name = r.reference.normalized();
    layout.add_image(&name, &desc)?;
    let platforms = match r.lone_config() {
        Some(config) => layout.config_platform(config).into_iter().collect(),
        None => r.platforms(),
    };
    Ok(PulledImage {
        reference: r.reference.to_string(),
        name,
        digest: r.top.digest.clone(),
        registry_digest: r.registry_digest.clone(),
        media_type: r.top.media_type.to_string(),
        platforms,
        converted,
        size: r.top.bytes.len() as u64
            + r.children.iter().map(|c| c.bytes.len() as u64).sum::<u64>()
            + r.blobs.iter().map(|b| b.size).sum::<u64>(),
    })
}
