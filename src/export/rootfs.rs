//! `--format rootfs`: the image's root filesystem as a directory, with the
//! runtime files (`runtime`), ready for `chroot DIR` and `apptainer exec DIR`.
//! The squashfs and SIF formats start from the same directory.

use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use super::error::ExportError;
use super::image::Image;
use super::{ExportOptions, ExportProgress, runtime};
use crate::layout::Layout;
use crate::unpack::{UnpackStats, unpack};

/// Unpacks `image` into the new directory `dir` and adds the runtime files.
pub fn build(
    layout: &Layout,
    image: &Image,
    dir: &Path,
    opts: &ExportOptions,
    progress: &dyn ExportProgress,
) -> Result<UnpackStats, ExportError> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(ExportError::io("cannot create", dir))?;
    let stats = unpack(layout, &image.layers, dir, opts.ownership, progress).map_err(|source| {
        ExportError::Unpack {
            name: image.name.clone(),
            source: Box::new(source),
        }
    })?;
    progress.step("writing the Enroot and Apptainer runtime files");
    runtime::write(dir, image, opts)?;
    Ok(stats)
}
