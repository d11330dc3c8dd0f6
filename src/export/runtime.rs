//! placeholder
use super::ExportOptions;
use super::error::ExportError;
use super::image::Image;
use std::path::Path;
pub fn write(_dir: &Path, _image: &Image, _opts: &ExportOptions) -> Result<(), ExportError> {
    Ok(())
}
