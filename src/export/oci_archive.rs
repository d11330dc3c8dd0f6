//! `--format oci-archive`: a tar of an OCI image layout (image-spec
//! `image-layout.md`) holding this one image, what skopeo's `oci-archive:`,
//! `podman load` and `docker load` (≥ 25) read:
//!
//! ```text
//! oci-layout             {"imageLayoutVersion":"1.0.0"}
//! blobs/sha256/<hex>     the layers as stored, the config, the manifest
//! index.json             one descriptor: the manifest
//! ```
//!
//! Every blob is the layout's own bytes (the manifest keeps its digest), the
//! layers checked against their digests while they are copied.
//!
//! The index descriptor carries the platform (from the config) and two
//! names, as `docker save` and `ctr export` write them:
//! `org.opencontainers.image.ref.name` is the tag alone (`3.20`), which is
//! what `skopeo copy oci-archive:FILE:3.20` selects and the image-layout
//! spec's example shows; `io.containerd.image.name` is the full name
//! (`docker.io/library/alpine:3.20`), which containerd and docker name the
//! loaded image by. regpull's own layout puts the full name in `ref.name`
//! because many repositories share it; an archive holds one image, where a
//! tag suffices. An image pinned by digest has no `ref.name`: `@sha256:...`
//! is not a valid ref.name, and `oci-archive:FILE` with no name takes the
//! only image there is.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use oci_spec::image::{
    ANNOTATION_REF_NAME, Arch, Descriptor, ImageIndexBuilder, MediaType, Os, Platform,
};

use super::archive::{TarOut, checked_config_size, tag};
use super::error::ExportError;
use super::image::Image;
use super::layer_copy::find_layers;
use crate::digest::Digest;
use crate::layout::Layout;

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// The annotation containerd (and docker with it) names an image by.
const IMAGE_NAME_ANNOTATION: &str = "io.containerd.image.name";

/// Writes `image` as an oci-archive tar to `out`; returns the bytes written.
pub fn write(layout: &Layout, image: &Image, out: &mut dyn Write) -> Result<u64, ExportError> {
    checked_config_size(image)?;
    let layers = find_layers(layout, image)?;
    let index = index_json(image)?;
    let manifest_digest = &image.inspection.manifest_digest;
    let blob_path = |d: &Digest| format!("blobs/{}/{}", d.algorithm(), d.hex());

    let mut tar = TarOut::new(out);
    tar.file("oci-layout", OCI_LAYOUT)?;
    tar.dir("blobs/")?;
    let algorithms: BTreeSet<_> = layers
        .iter()
        .map(|l| l.layer.digest.algorithm())
        .chain([
            image.config_digest().algorithm(),
            manifest_digest.algorithm(),
        ])
        .collect();
    for algorithm in algorithms {
        tar.dir(&format!("blobs/{algorithm}/"))?;
    }
    // Blobs in the order a pull writes them, the manifest last, each once.
    let mut written = BTreeSet::new();
    for source in &layers {
        if written.insert(source.layer.digest.clone()) {
            let path = blob_path(&source.layer.digest);
            source.copy_stored(&mut |r| tar.entry(&path, source.layer.size, r))?;
        }
    }
    for (digest, bytes) in [
        (image.config_digest(), &image.config_bytes),
        (manifest_digest, &image.manifest),
    ] {
        if written.insert(digest.clone()) {
            tar.file(&blob_path(digest), bytes)?;
        }
    }
    // index.json last, as in a layout: a cut-short archive names no image.
    tar.file("index.json", &index)?;
    tar.finish()
}

/// `index.json` with the one descriptor. Serialized through a
/// `serde_json::Value`, whose maps are sorted: oci-spec keeps annotations in
/// a `HashMap`, whose order would change from run to run.
fn index_json(image: &Image) -> Result<Vec<u8>, ExportError> {
    let bad = |what: &str, e: &dyn std::fmt::Display| ExportError::Config {
        name: image.name.clone(),
        reason: format!("{what}: {e}"),
    };
    let digest: oci_spec::image::Digest = image
        .inspection
        .manifest_digest
        .to_string()
        .parse()
        .map_err(|e| bad("its manifest digest", &e))?;
    let mut desc = Descriptor::new(
        MediaType::from(image.inspection.manifest_media_type.as_str()),
        image.manifest.len() as u64,
        digest,
    );
    desc.set_platform(platform(image));
    let mut annotations = HashMap::from([(IMAGE_NAME_ANNOTATION.to_string(), image.name.clone())]);
    if let Some(tag) = tag(image) {
        annotations.insert(ANNOTATION_REF_NAME.to_string(), tag.to_string());
    }
    desc.set_annotations(Some(annotations));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![desc])
        .build()
        .map_err(|e| bad("its index", &e))?;
    let value = serde_json::to_value(&index).map_err(|e| bad("its index", &e))?;
    serde_json::to_vec(&value).map_err(|e| bad("its index", &e))
}

/// The platform the config declares, when it names both OS and architecture.
/// OS version and features are left out: oci-spec 0.10 would write them as
/// `os_version` and `os_features`, names no reader knows (the spec's are
/// `os.version` and `os.features`).
fn platform(image: &Image) -> Option<Platform> {
    let declared = image.config_platform.as_ref()?;
    let mut p = Platform::default();
    p.set_os(Os::from(declared.os.as_str()));
    p.set_architecture(Arch::from(declared.architecture.as_str()));
    p.set_variant(Some(declared.variant.clone()).filter(|v| !v.is_empty()));
    Some(p)
}
