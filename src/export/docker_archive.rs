//! `--format docker-archive`: what `docker load` and skopeo's
//! `docker-archive:` read. The format is docker's image spec v1.2 "combined
//! image JSON + filesystem changeset" archive as moby's
//! `image/tarexport` writes and reads it:
//!
//! ```text
//! <config-hex>.json      the image config, byte for byte
//! <digest-hex>.tar.gz    each layer blob as stored (gzip), named by its digest
//! <digest-hex>.tar       ... or an uncompressed layer (digest == diff_id)
//! manifest.json          [{"Config":..., "RepoTags":[...], "Layers":[...]}]
//! repositories           {"alpine":{"3.20":"<hex of the last diff_id>"}}
//! ```
//!
//! Layers are copied as they are, not recompressed: `docker load` runs every
//! layer file through its decompressor and checks the result against
//! `rootfs.diff_ids`, and skopeo decompresses them too. `Layers` lists one
//! file per diff_id, in order, so the two line up.
//!
//! zstd layers are the exception: they are written decompressed, as plain
//! tars named by their diff_id. Docker with the containerd image store labels
//! any compressed layer of an archive gzip (containerd's importer
//! `detectLayerMediaType`), and older engines read no zstd at all, so a
//! plain tar is what every reader takes. The blob is read twice, once to learn
//! the tar's length (a tar header comes before its data) and once to copy it,
//! both times checked against the layer's digest and the diff_id.
//!
//! Not written: `LayerSources` (foreign layers' original descriptors: the
//! layer is included, so `docker push` would upload it), `Parent`, and the
//! legacy per-layer `<id>/json` + `VERSION` of docker < 1.10.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::archive::{TarOut, checked_config_size, tag};
use super::error::ExportError;
use super::image::Image;
use super::layer_copy::{LayerSource, find_layers};
use crate::layout::Layout;
use crate::unpack::Compression;

/// One item of `manifest.json` (moby `tarexport.manifestItem`), in the
/// order docker writes the keys.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestItem<'a> {
    config: &'a str,
    repo_tags: Vec<String>,
    layers: Vec<&'a str>,
}

/// How one layer file is made.
enum Form {
    Stored,
    /// Decompressed to a tar of this many bytes.
    Decompressed(u64),
}

/// Writes `image` as a docker-archive tar to `out`; returns the bytes written.
pub fn write(layout: &Layout, image: &Image, out: &mut dyn Write) -> Result<u64, ExportError> {
    checked_config_size(image)?;
    let layers = find_layers(layout, image)?;
    // Each distinct file once (an image may repeat a layer); `Layers` names
    // one per diff_id all the same.
    let mut files: Vec<(String, &LayerSource, Form)> = Vec::new();
    let mut paths = Vec::with_capacity(layers.len());
    for source in &layers {
        let path = file_name(source);
        if !files.iter().any(|(p, ..)| *p == path) {
            // Measured before the first byte is written, so a zstd layer
            // that does not match fails the export before it starts.
            let form = match source.compression {
                Compression::Zstd => Form::Decompressed(
                    source
                        .copy_decompressed(None, &mut |r| io::copy(r, &mut io::sink()).map(drop))?,
                ),
                Compression::Gzip | Compression::None => Form::Stored,
            };
            files.push((path.clone(), source, form));
        }
        paths.push(path);
    }

    let mut tar = TarOut::new(out);
    let config_path = format!("{}.json", image.config_digest().hex());
    tar.file(&config_path, &image.config_bytes)?;
    for (path, source, form) in &files {
        match form {
            Form::Stored => source.copy_stored(&mut |r| tar.entry(path, source.layer.size, r))?,
            Form::Decompressed(size) => {
                source.copy_decompressed(Some(*size), &mut |r| tar.entry(path, *size, r))?;
            }
        }
    }
    // The documents come last: an archive cut short has no manifest.json,
    // and `docker load` refuses it instead of loading half an image.
    let item = ManifestItem {
        config: &config_path,
        repo_tags: repo_tags(image),
        layers: paths.iter().map(String::as_str).collect(),
    };
    tar.file("manifest.json", &json_line(&[item])?)?;
    if let (Some(name), Some(last)) = (tag(image), image.layers.last()) {
        // Only read by docker's pre-1.10 loader, which manifest.json
        // replaced; docker ≥ 25 writes it keyed by the familiar name with the
        // last diff_id's hex, and only for tagged images.
        let repositories = BTreeMap::from([(
            image.reference.familiar_name(),
            BTreeMap::from([(name, last.diff_id.hex())]),
        )]);
        tar.file("repositories", &json_line(&repositories)?)?;
    }
    tar.finish()
}

/// The file a layer becomes, named by the digest of the bytes it holds.
fn file_name(source: &LayerSource) -> String {
    let layer = &source.layer;
    match source.compression {
        Compression::Zstd => format!("{}.tar", layer.diff_id.hex()),
        Compression::Gzip => format!("{}.tar.gz", layer.digest.hex()),
        Compression::None => format!("{}.tar", layer.digest.hex()),
    }
}

/// `RepoTags` as `docker save` writes them: familiar names
/// (`reference.FamiliarString`: `alpine:3.20`, `myreg:5000/x/y:tag`), which
/// `docker load` and skopeo both normalize back to the full name. An image
/// pinned by digest has none (`[]`, as skopeo writes): `docker load` refuses
/// a RepoTag without a tag ("invalid tag"), and loads the image untagged.
fn repo_tags(image: &Image) -> Vec<String> {
    match tag(image) {
        Some(tag) => vec![format!("{}:{tag}", image.reference.familiar_name())],
        None => Vec::new(),
    }
}

/// JSON and a newline, as Go's `json.Encoder` writes it.
fn json_line<T: Serialize>(value: &T) -> Result<Vec<u8>, ExportError> {
    let mut bytes = serde_json::to_vec(value).map_err(|e| ExportError::Write(e.into()))?;
    bytes.push(b'\n');
    Ok(bytes)
}
