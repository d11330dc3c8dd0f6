//! The files container runtimes read to start an image, written into every
//! root filesystem an export makes (rootfs, squashfs, sif): Enroot's
//! (`enroot`) and Apptainer's (`apptainer`), made from the image config.
//! Nothing else in the image changes: a directory is made only where the
//! image has nothing, and the directories written into keep their times.

mod apptainer;
mod enroot;
mod quote;

use std::path::Path;

pub use apptainer::deffile;

use super::ExportOptions;
use super::error::ExportError;
use super::image::Image;
use crate::unpack::add_extras;

/// Writes the runtime files for `image` into the root filesystem at `dir`,
/// stamped with SOURCE_DATE_EPOCH when given (reproducible), else now.
pub fn write(dir: &Path, image: &Image, opts: &ExportOptions) -> Result<(), ExportError> {
    let mut extras = enroot::files(&image.run);
    extras.extend(apptainer::files(image));
    let time = opts.source_date_epoch.unwrap_or_else(now);
    add_extras(dir, &extras, time)
        .map_err(ExportError::io("cannot write the runtime files into", dir))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
