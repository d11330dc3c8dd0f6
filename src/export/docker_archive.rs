//! `--format docker-archive`. (Being written.)

use std::io::Write;

use super::error::ExportError;
use super::image::Image;
use crate::layout::Layout;

/// Writes `image` as a docker-archive tar to `out`; returns the bytes written.
pub fn write(_layout: &Layout, _image: &Image, _out: &mut dyn Write) -> Result<u64, ExportError> {
    Err(ExportError::Write(std::io::Error::other(
        "docker-archive is not written yet",
    )))
}
