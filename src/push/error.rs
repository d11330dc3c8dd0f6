//! Why a push failed, always tied to the image it was pushing.

use std::sync::Arc;

use crate::auth::AuthError;
use crate::digest::Digest;
use crate::error_class::ErrorClass;
use crate::layout::LayoutError;
use crate::registry::RegistryError;
use crate::registry::retry::Retryable;

#[derive(Debug, thiserror::Error)]
#[error("pushing {source_name} to {target}")]
pub struct PushError {
    /// The image's name in the layout.
    pub source_name: String,
    /// Where it was going (`HOST/REPOSITORY:TAG`).
    pub target: String,
    /// The destination's API host (the CLI's hints are per registry).
    pub registry: String,
    /// Where the credential sent to that registry came from, if one was sent.
    pub credential_source: Option<String>,
    #[source]
    pub kind: Box<PushFailure>,
}

impl PushError {
    pub fn class(&self) -> ErrorClass {
        self.kind.class()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushFailure {
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error("reading the layout")]
    Layout(#[from] LayoutError),
    #[error("reading credentials")]
    Credentials(#[source] AuthError),
    /// An index names a manifest the layout does not hold (a pull of one
    /// platform keeps only that platform's manifest, not its index).
    #[error(
        "the index {index} lists the manifest {digest}{} which is not in the layout; pull the image with --all-platforms, or push the one platform's image",
        platform.as_ref().map(|p| format!(" ({p})")).unwrap_or_default()
    )]
    MissingManifest {
        index: Digest,
        digest: Digest,
        platform: Option<String>,
    },
    #[error("the manifest {manifest} needs the blob {digest}, which is not in the layout")]
    MissingBlob { manifest: Digest, digest: Digest },
    #[error("the document {digest} in the layout cannot be pushed: {reason}")]
    Unreadable { digest: Digest, reason: String },
    #[error("{name} cannot be pushed with --to: {reason}")]
    Unmappable { name: String, reason: String },
    #[error("uploading blob {digest}")]
    Blob {
        digest: Digest,
        #[source]
        source: Box<PushFailure>,
    },
    #[error("pushing manifest {digest}")]
    Manifest {
        digest: Digest,
        #[source]
        source: Box<PushFailure>,
    },
    /// One failure that fails several images (a registry or a blob they share).
    #[error(transparent)]
    Shared(Arc<PushFailure>),
}

impl From<RegistryError> for PushFailure {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Credentials { source, .. } => PushFailure::Credentials(source),
            e => PushFailure::Registry(Box::new(e)),
        }
    }
}

impl Retryable for PushFailure {
    fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            PushFailure::Registry(e) => Some(e),
            _ => None,
        }
    }
}

impl PushFailure {
    pub fn class(&self) -> ErrorClass {
        match self {
            PushFailure::Registry(e) => e.class(),
            PushFailure::Layout(LayoutError::Verify { .. }) => ErrorClass::Verification,
            PushFailure::Layout(_) => ErrorClass::LocalIo,
            PushFailure::Credentials(_) => ErrorClass::Auth,
            PushFailure::MissingManifest { .. } | PushFailure::MissingBlob { .. } => {
                ErrorClass::NotFound
            }
            PushFailure::Unreadable { .. } => ErrorClass::Verification,
            PushFailure::Unmappable { .. } => ErrorClass::Usage,
            PushFailure::Blob { source, .. } | PushFailure::Manifest { source, .. } => {
                source.class()
            }
            PushFailure::Shared(e) => e.class(),
        }
    }

    /// The innermost registry error, if the failure came from the registry.
    pub fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            PushFailure::Registry(e) => Some(e),
            PushFailure::Blob { source, .. } | PushFailure::Manifest { source, .. } => {
                source.registry_error()
            }
            PushFailure::Shared(e) => e.registry_error(),
            _ => None,
        }
    }

    /// The error itself, seen through [`PushFailure::Shared`].
    pub fn unshared(&self) -> &PushFailure {
        match self {
            PushFailure::Shared(e) => e.unshared(),
            other => other,
        }
    }
}
