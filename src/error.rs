//! The library's error type and the classes that decide exit codes.
//!
//! Each module has its own error enum naming the operation and its subject; this
//! type gathers them and says, for each, which class of failure it is (so scripts
//! can tell "retry later" from "fix your input") and, where one exists, a hint.

use crate::layout::LayoutError;
use crate::platform::PlatformError;
use crate::reference::ReferenceError;

/// Broad kinds of failure; `cli::report` maps each to a documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The input (arguments, reference, platform, file) is wrong: fix it, don't retry.
    Usage,
    /// Credentials were missing, wrong or refused.
    Auth,
    /// The repository, tag or digest does not exist.
    NotFound,
    /// The registry asked us to slow down.
    RateLimited,
    /// The network or the registry failed in a way that may pass.
    Network,
    /// Content did not match its digest or size.
    Verification,
    /// Reading or writing local files failed (including a full disk).
    LocalIo,
    /// A bug in regpull.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("layout {path}")]
    Layout {
        path: std::path::PathBuf,
        #[source]
        source: LayoutError,
    },
}

impl Error {
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Reference(_) | Error::Platform(_) => ErrorClass::Usage,
            Error::Layout { source, .. } => match source {
                LayoutError::Verify { .. } => ErrorClass::Verification,
                LayoutError::NotALayout { .. } => ErrorClass::Usage,
                _ => ErrorClass::LocalIo,
            },
        }
    }

    /// Advice for the person reading the error, when there is something to suggest.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Reference(ReferenceError::Uppercase { .. }) => {
                Some("repository names are lowercase; only the registry host may have capitals".into())
            }
            Error::Reference(_) => Some(
                "a reference looks like [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. nvcr.io/nvidia/tensorflow:18.08-py3"
                    .into(),
            ),
            Error::Platform(_) => Some("platforms look like OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8".into()),
            Error::Layout { source, .. } => match source.io_error().map(|e| e.kind()) {
                Some(std::io::ErrorKind::StorageFull) => {
                    Some("the disk holding the layout is full; free space or choose another --output".into())
                }
                Some(std::io::ErrorKind::PermissionDenied) => {
                    Some("check that you may write to the layout directory".into())
                }
                _ => None,
            },
        }
    }
}
