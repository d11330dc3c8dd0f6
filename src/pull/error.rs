//! Why a pull failed, always tied to the image it was pulling.

use crate::auth::AuthError;
use crate::digest::Digest;
use crate::error_class::ErrorClass;
use crate::hosts::HostsError;
use crate::layout::LayoutError;
use crate::reference::ImageRef;
use crate::registry::RegistryError;
use crate::registry::retry::Retryable;

#[derive(Debug, thiserror::Error)]
#[error("pulling {reference}")]
pub struct PullError {
    pub reference: String,
    /// The registry host the image lives on (the CLI's hints are per registry).
    pub registry: String,
    /// Where the credential sent to that registry came from, if one was sent.
    pub credential_source: Option<String>,
    #[source]
    pub kind: ImageError,
}

impl PullError {
    /// A failure of `reference`, on its registry, having sent the credential
    /// from `credential_source` (if any).
    pub fn new(reference: &ImageRef, credential_source: Option<String>, kind: ImageError) -> Self {
        PullError {
            reference: reference.to_string(),
            registry: reference.api_host().to_string(),
            credential_source,
            kind,
        }
    }

    pub fn class(&self) -> ErrorClass {
        self.kind.class()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Registry(Box<RegistryError>),
    #[error("writing the layout")]
    Layout(#[from] LayoutError),
    #[error("reading credentials")]
    Credentials(#[source] AuthError),
    #[error("no image for platform {wanted}; the image has: {}", if available.is_empty() { "no runnable platform".to_string() } else { available.join(", ") })]
    NoMatchingPlatform {
        wanted: String,
        available: Vec<String>,
    },
    #[error(
        "the registry sent a manifest whose digest is {actual}, not the {expected} that was asked for"
    )]
    ManifestDigest { expected: Digest, actual: Digest },
    #[error(
        "the registry's Docker-Content-Digest header says {header}, but the manifest it sent hashes to {actual}"
    )]
    ContentDigestHeader { header: String, actual: Digest },
    #[error("the registry sent an invalid manifest: {reason}")]
    InvalidManifest { reason: String },
    #[error(
        "manifests of type {media_type} are not supported (regpull reads OCI and Docker schema 2 manifests and indexes)"
    )]
    Unsupported { media_type: String },
    /// Where to fetch from: a blocked registry, or a bad mirror configuration.
    #[error("choosing where to fetch from")]
    Sources(#[source] HostsError),
    /// One failure that fails several images (a registry they share, a blob they share).
    #[error(transparent)]
    Shared(std::sync::Arc<ImageError>),
    #[error("downloading blob {digest}")]
    Blob {
        digest: Digest,
        #[source]
        source: Box<ImageError>,
    },
}

impl From<RegistryError> for ImageError {
    fn from(e: RegistryError) -> Self {
        match e {
            // The keychain's own failure: a file or helper to fix, not the registry.
            RegistryError::Credentials { source, .. } => ImageError::Credentials(source),
            e => ImageError::Registry(Box::new(e)),
        }
    }
}

impl Retryable for ImageError {
    fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            ImageError::Registry(e) => Some(e),
            _ => None,
        }
    }
}

impl ImageError {
    pub fn class(&self) -> ErrorClass {
        match self {
            ImageError::Registry(e) => e.class(),
            ImageError::Layout(LayoutError::Verify { .. }) => ErrorClass::Verification,
            ImageError::Layout(_) => ErrorClass::LocalIo,
            ImageError::NoMatchingPlatform { .. } => ErrorClass::NotFound,
            ImageError::ManifestDigest { .. }
            | ImageError::ContentDigestHeader { .. }
            | ImageError::InvalidManifest { .. } => ErrorClass::Verification,
            ImageError::Unsupported { .. } => ErrorClass::Usage,
            ImageError::Sources(e) => e.class(),
            ImageError::Credentials(_) => ErrorClass::Auth,
            ImageError::Blob { source, .. } => source.class(),
            ImageError::Shared(e) => e.class(),
        }
    }

    /// The error itself, seen through [`ImageError::Shared`].
    pub fn unshared(&self) -> &ImageError {
        match self {
            ImageError::Shared(e) => e.unshared(),
            other => other,
        }
    }

    /// The innermost registry error, if the failure came from the registry.
    pub fn registry_error(&self) -> Option<&RegistryError> {
        match self {
            ImageError::Registry(e) => Some(e),
            ImageError::Blob { source, .. } => source.registry_error(),
            ImageError::Shared(e) => e.registry_error(),
            _ => None,
        }
    }
}
