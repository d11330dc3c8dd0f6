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
mod keychain;
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
pub use keychain::{Anonymous, Found, Given, Keychain, KeychainFuture};
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

/// What [`CredentialSource::lookup`] gives: an answer that may need the network.
pub type LookupFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Lookup, AuthError>> + Send + 'a>>;

/// One place credentials may come from.
pub trait CredentialSource: Send + Sync {
    /// A short name for messages: `docker config /home/u/.docker/config.json`.
    fn name(&self) -> String;
    fn lookup<'a>(&'a self, registry: &'a RegistryName) -> LookupFuture<'a>;
    /// Forget anything cached for `registry` (after the registry refused it as expired).
    fn invalidate(&self, _registry: &RegistryName) {}
}

/// A source that answers from local files, the environment or a short helper
/// process: at once, without the network. ECR, which asks AWS, is the one
/// source that implements [`CredentialSource`] itself.
pub trait LocalSource: Send + Sync {
    fn name(&self) -> String;
    fn read(&self, registry: &RegistryName) -> Result<Lookup, AuthError>;
}

impl<T: LocalSource> CredentialSource for T {
    fn name(&self) -> String {
        LocalSource::name(self)
    }

    fn lookup<'a>(&'a self, registry: &'a RegistryName) -> LookupFuture<'a> {
        Box::pin(std::future::ready(self.read(registry)))
    }
}
