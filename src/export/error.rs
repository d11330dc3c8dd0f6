//! What can go wrong in an export: each error names the output, the image or
//! the tool concerned.

use std::io;
use std::path::PathBuf;

use crate::digest::VerifyError;
use crate::error_class::ErrorClass;
use crate::pull::inspect::InspectError;
use crate::unpack::{LayerName, UnpackError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{name} is not in the layout {}", .layout.display())]
    NotInLayout { name: String, layout: PathBuf },
    #[error(transparent)]
    Image(Box<InspectError>),
    #[error("{name} cannot be written in this format: {reason}")]
    Unsupported { name: String, reason: String },
    #[error("the image config of {name} is unusable: {reason}")]
    Config { name: String, reason: String },
    #[error("unpacking {name}")]
    Unpack {
        name: String,
        #[source]
        source: Box<UnpackError>,
    },
    #[error("{} {problem}", .path.display())]
    Output { path: PathBuf, problem: String },
    #[error("{what} {}", .path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "`{tool}` is not installed (Debian/Ubuntu: apt-get install {package}; RHEL/Fedora: dnf install {package})"
    )]
    ToolMissing {
        tool: &'static str,
        package: &'static str,
    },
    #[error("`{tool}` failed ({status}): {stderr}")]
    ToolFailed {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error("writing the archive")]
    Write(#[source] io::Error),
    #[error("{layer} is not in the layout{}", if *.foreign { " (a foreign, non-distributable layer: registries do not serve it, so it must be put into the layout by hand)" } else { "" })]
    MissingLayer { layer: LayerName, foreign: bool },
    #[error("{layer} in the layout does not match the image's manifest")]
    LayerMismatch {
        layer: LayerName,
        #[source]
        source: VerifyError,
    },
    #[error("{layer} does not decompress to the config's diff_id")]
    DiffId {
        layer: LayerName,
        #[source]
        source: VerifyError,
    },
    #[error("{layer} cannot be decompressed")]
    Decompress {
        layer: LayerName,
        #[source]
        source: io::Error,
    },
}

impl ExportError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ExportError::NotInLayout { .. } | ExportError::MissingLayer { .. } => {
                ErrorClass::NotFound
            }
            ExportError::Image(e) => e.pull.class(),
            ExportError::Config { .. }
            | ExportError::LayerMismatch { .. }
            | ExportError::DiffId { .. }
            | ExportError::Decompress { .. } => ErrorClass::Verification,
            ExportError::Unpack { source, .. } => source.class(),
            ExportError::Output { .. }
            | ExportError::ToolMissing { .. }
            | ExportError::Unsupported { .. } => ErrorClass::Usage,
            ExportError::Io { .. } | ExportError::ToolFailed { .. } | ExportError::Write(_) => {
                ErrorClass::LocalIo
            }
        }
    }

    pub(super) fn io(
        what: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| ExportError::Io { what, path, source }
    }
}

impl From<InspectError> for ExportError {
    fn from(e: InspectError) -> Self {
        ExportError::Image(Box::new(e))
    }
}
