//! The library's error type.
//!
//! Each module has its own error enum naming the operation and its subject; this
//! type gathers them and says, for each, which class of failure it is (so scripts
//! can tell "retry later" from "fix your input"). What to advise the person who
//! reads it is the CLI's business (`cli/hints.rs`), derived from these types.

use crate::error_class::ErrorClass;
use crate::layout::LayoutError;
use crate::platform::PlatformError;
use crate::pull::PullError;
use crate::pull::inspect::InspectError;
use crate::reference::ReferenceError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Pull(Box<PullError>),
    /// Wrong input found above the library (arguments, files); the CLI that
    /// found it also knows what to suggest, so it carries its own hint.
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("logging in to {registry}")]
    Login {
        registry: String,
        #[source]
        source: Box<crate::registry::RegistryError>,
    },
    #[error("saving credentials")]
    Credentials(#[source] crate::auth::AuthError),
    /// A mirror configuration that cannot be used (registries.conf, hosts.toml, --mirror).
    #[error("reading the mirror configuration")]
    Hosts(#[from] crate::hosts::HostsError),
    #[error("OCI layout {path}")]
    Layout {
        path: std::path::PathBuf,
        #[source]
        source: LayoutError,
    },
    #[error("not in the layout {}: {}", .layout.display(), .names.join(", "))]
    NotInLayout {
        names: Vec<String>,
        layout: std::path::PathBuf,
    },
    #[error("the layout {} has {problems} damaged or missing blob{}", .layout.display(), if *.problems == 1 { "" } else { "s" })]
    LayoutDamaged {
        layout: std::path::PathBuf,
        problems: usize,
    },
    #[error(transparent)]
    Inspect(Box<InspectError>),
    #[error(transparent)]
    Push(Box<crate::push::PushError>),
    #[error("exporting {name}")]
    Export {
        name: String,
        #[source]
        source: Box<crate::export::ExportError>,
    },
}

impl From<InspectError> for Error {
    fn from(e: InspectError) -> Self {
        Error::Inspect(Box::new(e))
    }
}

impl From<PullError> for Error {
    fn from(e: PullError) -> Self {
        Error::Pull(Box::new(e))
    }
}

impl Error {
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Reference(_) | Error::Platform(_) | Error::Usage { .. } => ErrorClass::Usage,
            Error::Hosts(e) => e.class(),
            Error::Pull(e) => e.class(),
            Error::Login { source, .. } => source.class(),
            Error::Credentials(_) => ErrorClass::Auth,
            Error::Layout { source, .. } => match source {
                LayoutError::Verify { .. } => ErrorClass::Verification,
                LayoutError::NotALayout { .. } => ErrorClass::Usage,
                _ => ErrorClass::LocalIo,
            },
            Error::NotInLayout { .. } => ErrorClass::NotFound,
            Error::LayoutDamaged { .. } => ErrorClass::Verification,
            Error::Inspect(e) => e.pull.class(),
            Error::Push(e) => e.class(),
            Error::Export { source, .. } => source.class(),
        }
    }
}
