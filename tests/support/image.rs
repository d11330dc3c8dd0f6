//! Builds small but real OCI images (gzip tar layers, config with diff_ids, manifest).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use regpull::Digest;
use serde_json::json;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// One blob: its bytes, digest and media type.
#[derive(Clone, Debug)]
pub struct Blob {
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
    pub digest: Digest,
}

impl Blob {
    pub fn new(media_type: &'static str, bytes: Vec<u8>) -> Self {
        let digest = Digest::sha256_of(&bytes);
        Blob {
            media_type,
            bytes,
            digest,
        }
    }

    pub fn descriptor(&self) -> serde_json::Value {
        json!({"mediaType": self.media_type, "digest": self.digest.to_string(), "size": self.bytes.len()})
    }
}

/// An image: config, layers and the manifest that ties them together.
#[derive(Clone, Debug)]
pub struct TestImage {
    pub manifest: Blob,
    pub config: Blob,
    pub layers: Vec<Blob>,
}

impl TestImage {
    /// Every blob, manifest last.
    pub fn blobs(&self) -> Vec<&Blob> {
        let mut all: Vec<&Blob> = vec![&self.config];
        all.extend(self.layers.iter());
        all.push(&self.manifest);
        all
    }
}

/// A gzip-compressed tar holding `files` (path, contents); returns (layer, diff_id).
pub fn layer(files: &[(&str, &[u8])]) -> (Blob, Digest) {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        builder
            .append_data(&mut header, path, *contents)
            .expect("tar entry");
    }
    let tar_bytes = builder.into_inner().expect("tar finishes");
    let diff_id = Digest::sha256_of(&tar_bytes);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&tar_bytes).expect("gzip");
    (
        Blob::new(OCI_LAYER_GZIP, gz.finish().expect("gzip finishes")),
        diff_id,
    )
}

/// An image for `os/arch` whose layers hold the given files, one layer per entry.
pub fn image(os: &str, arch: &str, layers: &[&[(&str, &[u8])]]) -> TestImage {
    let (blobs, diff_ids): (Vec<Blob>, Vec<Digest>) =
        layers.iter().map(|files| layer(files)).unzip();
    let config = json!({
        "created": "2024-01-01T00:00:00Z",
        "architecture": arch,
        "os": os,
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>()},
        "history": diff_ids.iter().map(|_| json!({"created": "2024-01-01T00:00:00Z", "created_by": "regpull test kit"})).collect::<Vec<_>>(),
    });
    let config = Blob::new(OCI_CONFIG, serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": blobs.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    TestImage {
        manifest: Blob::new(OCI_MANIFEST, serde_json::to_vec_pretty(&manifest).unwrap()),
        config,
        layers: blobs,
    }
}

/// Writes every blob of `img` into `layout` and records it under `name`.
pub fn store(layout: &regpull::Layout, name: &str, img: &TestImage) {
    for blob in img.blobs() {
        let mut w = layout
            .blob_writer(&blob.digest, Some(blob.bytes.len() as u64))
            .unwrap();
        w.write_chunk(&blob.bytes).unwrap();
        w.commit().unwrap();
    }
    let desc: oci_spec::image::Descriptor =
        serde_json::from_value(img.manifest.descriptor()).unwrap();
    layout.add_image(name, &desc).unwrap();
}
