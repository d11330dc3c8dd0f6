//! The one seam between credentials and the registry client: a registry asks
//! its keychain for a credential when it connects, and again (after
//! [`Keychain::forget`]) when the registry says the one it had expired. Async,
//! so a source that asks the network (ECR's `GetAuthorizationToken`) runs on the
//! pull's own runtime.

use std::future::Future;
use std::pin::Pin;

use super::{AuthError, Chain, Credential, RegistryName};

/// A credential and where exactly it came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub credential: Credential,
    /// `docker config /root/.docker/config.json: auths["nvcr.io"]`.
    pub source: String,
}

pub type KeychainFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Found>, AuthError>> + Send + 'a>>;

/// Where credentials for a registry come from.
pub trait Keychain: Send + Sync {
    /// The credential for `registry`, or none (anonymous).
    fn find<'a>(&'a self, registry: &'a RegistryName) -> KeychainFuture<'a>;
    /// Forget cached answers for `registry`: the registry said they expired.
    fn forget(&self, _registry: &RegistryName) {}
}

impl Keychain for Chain {
    fn find<'a>(&'a self, registry: &'a RegistryName) -> KeychainFuture<'a> {
        Box::pin(async move {
            let r = self.resolve(registry).await?;
            Ok(r.credential
                .zip(r.source)
                .map(|(credential, source)| Found { credential, source }))
        })
    }

    fn forget(&self, registry: &RegistryName) {
        self.invalidate(registry);
    }
}

/// No credentials anywhere.
pub struct Anonymous;

impl Keychain for Anonymous {
    fn find<'a>(&'a self, _: &'a RegistryName) -> KeychainFuture<'a> {
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// One credential, given outright (`regpull login` checks what the user typed,
/// whatever the stores hold).
pub struct Given(pub Found);

impl Keychain for Given {
    fn find<'a>(&'a self, _: &'a RegistryName) -> KeychainFuture<'a> {
        Box::pin(std::future::ready(Ok(Some(self.0.clone()))))
    }
}
