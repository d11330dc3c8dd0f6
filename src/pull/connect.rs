//! One connection per registry host, with the credential its images need.
//!
//! A host whose credentials cannot be read, or that cannot be reached, fails
//! only the images on it; the error is shared between them.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ImageError;
use super::progress::Progress;
use super::request::PullOptions;
use crate::auth::{Keychain, RegistryName};
use crate::reference::ImageRef;
use crate::registry::retry::Retrying;
use crate::registry::{Login, Registry};

/// A connected registry, or why its images cannot be pulled.
pub type Connection = Result<Arc<Registry>, Arc<ImageError>>;

/// Connects to the API host of every reference, once per host.
pub async fn connect_all<'a>(
    references: impl Iterator<Item = &'a ImageRef>,
    keychain: &Arc<dyn Keychain>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> HashMap<String, Connection> {
    let mut connections = HashMap::new();
    for r in references {
        let host = r.api_host();
        if connections.contains_key(host) {
            continue;
        }
        let connection = connect(r, keychain, opts, progress).await;
        connections.insert(host.to_string(), connection.map_err(Arc::new));
    }
    connections
}

async fn connect(
    r: &ImageRef,
    keychain: &Arc<dyn Keychain>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<Arc<Registry>, ImageError> {
    let host = r.api_host();
    let login = Login {
        name: RegistryName::new(r.domain()),
        keychain: keychain.clone(),
    };
    let name = r.to_string();
    let notice = |retry: &Retrying<'_>| progress.retrying(&name, retry);
    let registry = Registry::connect(host, login, &opts.client, &opts.retry, &notice).await?;
    progress.credentials(host, registry.credential_source().as_deref());
    Ok(Arc::new(registry))
}
