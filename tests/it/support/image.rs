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
    assemble(os, arch, blobs, &diff_ids, json!({"Cmd": ["/bin/sh"]}))
}

/// An OCI image for `os/arch` from ready layer blobs, the diff_ids its config
/// claims for them, and the config's `config` object.
pub fn assemble(
    os: &str,
    arch: &str,
    layers: Vec<Blob>,
    diff_ids: &[Digest],
    run: serde_json::Value,
) -> TestImage {
    let config = json!({
        "created": "2024-01-01T00:00:00Z",
        "architecture": arch,
        "os": os,
        "config": run,
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>()},
        "history": diff_ids.iter().map(|_| json!({"created": "2024-01-01T00:00:00Z", "created_by": "regpull test kit"})).collect::<Vec<_>>(),
    });
    let config = Blob::new(OCI_CONFIG, serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    TestImage {
        manifest: Blob::new(OCI_MANIFEST, serde_json::to_vec_pretty(&manifest).unwrap()),
        config,
        layers,
    }
}

/// Writes every blob of `img` into `layout` and records it under `name`.
pub fn store(layout: &regpull::Layout, name: &str, img: &TestImage) {
    store_blobs(layout, img);
    let desc: oci_spec::image::Descriptor =
        serde_json::from_value(img.manifest.descriptor()).unwrap();
    layout.add_image(name, &desc).unwrap();
}

/// Writes every blob of `img` into `layout`, recording nothing.
pub fn store_blobs(layout: &regpull::Layout, img: &TestImage) {
    for blob in img.blobs() {
        let mut w = layout
            .blob_writer(&blob.digest, Some(blob.bytes.len() as u64))
            .unwrap();
        w.write_chunk(&blob.bytes).unwrap();
        w.commit().unwrap();
    }
}

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// The same image with Docker schema 2 media types (as older registries serve them).
pub fn docker_image(os: &str, arch: &str, layers: &[&[(&str, &[u8])]]) -> TestImage {
    let oci = image(os, arch, layers);
    let config = Blob::new(DOCKER_CONFIG, oci.config.bytes.clone());
    let layers: Vec<Blob> = oci
        .layers
        .iter()
        .map(|l| Blob::new(DOCKER_LAYER, l.bytes.clone()))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": config.descriptor(),
        "layers": layers.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    TestImage {
        manifest: Blob::new(
            DOCKER_MANIFEST,
            serde_json::to_vec_pretty(&manifest).unwrap(),
        ),
        config,
        layers,
    }
}

/// A multi-platform image: its index and every image it lists.
#[derive(Clone, Debug)]
pub struct TestIndex {
    pub index: Blob,
    /// (platform as os/arch[/variant], image), in index order.
    pub images: Vec<(String, TestImage)>,
}

/// linux/amd64, linux/arm64/v8 and linux/arm/v7, each with a file naming its
/// platform; the OCI form adds a buildkit-style attestation entry (unknown/unknown).
pub fn multi_platform(docker: bool) -> TestIndex {
    let platforms = [("amd64", ""), ("arm64", "v8"), ("arm", "v7")];
    let mut images = Vec::new();
    let mut entries = Vec::new();
    for (arch, variant) in platforms {
        let name = if variant.is_empty() {
            format!("linux/{arch}")
        } else {
            format!("linux/{arch}/{variant}")
        };
        let contents = format!("built for {name}\n");
        let files: &[(&str, &[u8])] = &[("platform.txt", contents.as_bytes())];
        let img = if docker {
            docker_image("linux", arch, &[files])
        } else {
            image("linux", arch, &[files])
        };
        let mut platform = json!({"os": "linux", "architecture": arch});
        if !variant.is_empty() {
            platform["variant"] = json!(variant);
        }
        let mut entry = img.manifest.descriptor();
        entry["platform"] = platform;
        entries.push(entry);
        images.push((name, img));
    }
    if !docker {
        let att = image("unknown", "unknown", &[&[("provenance.json", b"{}")]]);
        let mut entry = att.manifest.descriptor();
        entry["platform"] = json!({"os": "unknown", "architecture": "unknown"});
        entry["annotations"] = json!({
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": images[0].1.manifest.digest.to_string(),
        });
        entries.push(entry);
        images.push(("unknown/unknown".to_string(), att));
    }
    let media_type = if docker { DOCKER_LIST } else { OCI_INDEX };
    let index = json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries});
    TestIndex {
        index: Blob::new(media_type, serde_json::to_vec_pretty(&index).unwrap()),
        images,
    }
}

/// Deterministic incompressible bytes (xorshift), so gzip layers keep their size.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2).wrapping_add(1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}
