//! Who am I, per registry: the credential regpull presents, and where it came from.
//! No HTTP here.
//!
//! Credentials come from an ordered [`Chain`] of sources; the first that answers
//! wins. A source that cannot be read (a malformed config file, a failing
//! credential helper) is an error naming it, never a silent fall-through to an
//! anonymous request that then fails with a confusing 401. Every source explains
//! why it did not answer, which `regpull auth` prints.

mod chain;
mod credential;
mod docker_config;
mod ecr;
mod enroot;
mod env;
mod error;
mod flags;
mod gcr;
mod helper;
pub mod names;
mod store;

pub use chain::{Chain, Resolution, Step};
pub use credential::Credential;
pub use docker_config::{AuthFile, DockerConfig};
pub use ecr::{EcrSource, ecr_registry};
pub use enroot::EnrootCredentials;
pub use env::EnvSource;
pub use error::AuthError;
pub use flags::FlagSource;
pub use gcr::GoogleApplicationCredentials;
pub use names::RegistryName;
pub use store::ConfigStore;

/// What a source says about one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A credential, and where exactly it came from (file and key, helper name).
    Found {
        credential: Credential,
        detail: String,
    },
    /// Nothing here for this registry, and why (for `regpull auth`).
    NotFound(String),
}

/// One place credentials may come from.
pub trait CredentialSource: Send + Sync {
    /// A short name for messages: `docker config /home/u/.docker/config.json`.
    fn name(&self) -> String;
    fn lookup(&self, registry: &RegistryName) -> Result<Lookup, AuthError>;
    /// Forget anything cached for `registry` (after the registry refused it as expired).
    fn invalidate(&self, _registry: &RegistryName) {}
}
