//! The library's error type and the classes that decide exit codes.
//!
//! Each module has its own error enum naming the operation and its subject; this
//! type gathers them and says, for each, which class of failure it is (so scripts
//! can tell "retry later" from "fix your input") and, where one exists, a hint.

use crate::layout::LayoutError;
use crate::platform::PlatformError;
use crate::pull::PullError;
use crate::pull::inspect::InspectError;
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

impl ErrorClass {
    /// The class as JSON output names it (`not_found`, `rate_limited`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Usage => "usage",
            ErrorClass::Auth => "auth",
            ErrorClass::NotFound => "not_found",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Network => "network",
            ErrorClass::Verification => "verification",
            ErrorClass::LocalIo => "local_io",
            ErrorClass::Internal => "internal",
        }
    }

    /// Whether running the same command again later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorClass::RateLimited | ErrorClass::Network)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Pull(Box<PullError>),
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
            Error::Export { source, .. } => source.class(),
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
            Error::Pull(e) => crate::hints::for_pull(e),
            Error::Usage { hint, .. } => hint.clone(),
            Error::Login { registry, source } if source.class() == ErrorClass::Auth => Some(format!(
                "the registry refused these credentials; nothing was saved (NGC: '$oauthtoken' and the API key; \
                 ECR: AWS and `aws ecr get-login-password`; GCR: _json_key and the key file) for {registry}"
            )),
            Error::Login { .. } => None,
            Error::Credentials(_) => Some("fix the file named above, or choose another with --auth-file".into()),
            Error::Platform(_) => Some("platforms look like OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8".into()),
            Error::Layout { source, .. } => crate::hints::for_layout(source),
            Error::NotInLayout { layout, .. } => Some(format!(
                "`regpull list --layout {}` shows the images it holds",
                layout.display()
            )),
            Error::LayoutDamaged { layout, .. } => Some(format!(
                "`regpull verify --repair --layout {}` deletes damaged blobs and pulls the affected images again",
                layout.display()
            )),
            Error::Inspect(e) => crate::hints::for_pull(&e.pull),
            Error::Export { source, .. } => crate::hints::for_export(source),
        }
    }
}
