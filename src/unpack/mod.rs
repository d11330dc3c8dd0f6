//! Layers -> a root filesystem: each layer's tar stream applied in order, with
//! OCI whiteouts, hardlinks, devices and metadata, every path kept inside the
//! root, and each layer's uncompressed bytes checked against the config's
//! `rootfs.diff_ids` while they are applied.
//!
//! Reads blobs from the [`Layout`]; knows nothing of registries. The caller
//! gives it an empty directory and decides what to do with it afterwards
//! (`export` builds it under a temporary name and renames it into place).
//!
//! Models: umoci's `oci/layer/tar_extract.go` (whiteouts, SecureJoin, rootless
//! ownership) and containerd's `pkg/archive/tar.go` (paths and hardlinks kept
//! inside the root, directory times last).

mod apply;
mod blob;
mod error;
mod extras;
mod file;
mod metadata;
mod paths;
mod remove;
mod root;
mod stream;
mod whiteout;

use std::path::Path;

use serde::Serialize;

pub use blob::{BlobProblem, is_foreign, open_layer};
pub use error::{LayerName, UnpackError};
pub use extras::{Extra, add_extras};
pub use metadata::{Ownership, xattr_allowed};
pub use remove::remove_path;
pub use stream::Compression;

use crate::digest::Digest;
use crate::layout::Layout;
use apply::Applier;
use root::Root;
use stream::LayerStream;

/// One layer to apply, as the manifest and config describe it.
#[derive(Debug, Clone)]
pub struct Layer {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// The digest of its uncompressed tar stream (`rootfs.diff_ids`).
    pub diff_id: Digest,
}

/// What an unpack made and what it left out.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnpackStats {
    /// Tar entries read (whiteouts included).
    pub entries: u64,
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Device nodes (root only) and FIFOs made.
    pub devices: u64,
    /// Device nodes left out (only root can make them).
    pub devices_skipped: u64,
    pub whiteouts: u64,
    /// Extended attributes left out: not allowed for this ownership, or
    /// refused by the filesystem.
    pub xattrs_skipped: u64,
    /// Bytes of file contents.
    pub bytes: u64,
}

/// Told of each layer as it starts and ends.
pub trait UnpackProgress {
    fn layer_start(&self, _layer: &LayerName, _size: u64) {}
    fn layer_done(&self, _layer: &LayerName, _uncompressed: u64) {}
}

impl UnpackProgress for () {}

/// Applies `layers` in order to the directory `dest`, which should be empty.
pub fn unpack(
    layout: &Layout,
    layers: &[Layer],
    dest: &Path,
    ownership: Ownership,
    progress: &dyn UnpackProgress,
) -> Result<UnpackStats, UnpackError> {
    let root = Root::open(dest).map_err(|source| UnpackError::Destination {
        path: dest.to_path_buf(),
        source,
    })?;
    let mut applier = Applier::new(root, ownership);
    for (i, layer) in layers.iter().enumerate() {
        let name = LayerName {
            number: i + 1,
            total: layers.len(),
            digest: layer.digest.clone(),
        };
        progress.layer_start(&name, layer.size);
        tracing::info!(
            "applying {name}, {} ({} bytes)",
            layer.media_type,
            layer.size
        );
        let uncompressed = apply_layer(layout, layer, &name, &mut applier)?;
        tracing::debug!("{name}: {uncompressed} bytes uncompressed, diff_id verified");
        applier.end_layer();
        progress.layer_done(&name, uncompressed);
    }
    applier.finish().map_err(|source| UnpackError::Finish {
        path: dest.to_path_buf(),
        source,
    })
}

fn apply_layer(
    layout: &Layout,
    layer: &Layer,
    name: &LayerName,
    applier: &mut Applier,
) -> Result<u64, UnpackError> {
    if !is_filesystem_layer(&layer.media_type) {
        return Err(UnpackError::NotALayer {
            layer: name.clone(),
            media_type: layer.media_type.clone(),
        });
    }
    let read_err = |source| UnpackError::Read {
        layer: name.clone(),
        source,
    };
    let (file, compression) = open_layer(layout, layer).map_err(|p| match p {
        BlobProblem::Missing => UnpackError::MissingLayer {
            layer: name.clone(),
            foreign: is_foreign(&layer.media_type),
        },
        BlobProblem::Size { actual } => UnpackError::LayerSize {
            layer: name.clone(),
            expected: layer.size,
            actual,
        },
        BlobProblem::Io(e) => read_err(e),
    })?;
    let mut stream = LayerStream::start(file, compression, &layer.diff_id).map_err(read_err)?;
    {
        let mut archive = tar::Archive::new(&mut stream);
        let entries = archive.entries().map_err(read_err)?;
        for entry in entries {
            let mut entry = entry.map_err(read_err)?;
            if let Err(e) = applier.entry(&mut entry) {
                return Err(e.into_unpack(name, &entry.path_bytes()));
            }
        }
    }
    let finished = stream.finish().map_err(read_err)?;
    if finished.diff_id != layer.diff_id {
        return Err(UnpackError::DiffId {
            layer: name.clone(),
            expected: layer.diff_id.clone(),
            actual: finished.diff_id,
        });
    }
    Ok(finished.uncompressed)
}

/// Layer media types (OCI and Docker, compressed or not, distributable or
/// not). Anything else (an artifact's blob) is not a filesystem.
fn is_filesystem_layer(media_type: &str) -> bool {
    let m = media_type;
    m.starts_with("application/vnd.oci.image.layer.")
        || m.starts_with("application/vnd.docker.image.rootfs.")
        // Some tools leave layers untyped; their content decides.
        || m.is_empty()
}
