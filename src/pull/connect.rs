//! One connection per registry host, with the credential its images need.
//!
//! A host whose credentials cannot be read, or that cannot be reached, fails
//! only the images on it; the error is shared between them.

use std::collections::HashMap;
use std::sync::Arc;

use super::error::ImageError;
use super::progress::Progress;
use super::{Credentials, PullOptions};
use crate::auth::RegistryName;
use crate::reference::ImageRef;
use crate::registry::Registry;

/// A connected registry, or why its images cannot be pulled.
pub type Connection = Result<Arc<Registry>, Arc<ImageError>>;

/// Per API host: the connection and the name of the credential source used.
pub struct Connections {
    pub registries: HashMap<String, Connection>,
    pub sources: HashMap<String, String>,
}

pub async fn connect_all<'a>(
    references: impl Iterator<Item = &'a ImageRef>,
    credentials: &Arc<dyn Credentials>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Connections {
    let mut c = Connections {
        registries: HashMap::new(),
        sources: HashMap::new(),
    };
    for r in references {
        let host = r.api_host();
        if c.registries.contains_key(host) {
            continue;
        }
        let connection = connect(r, credentials, opts, progress, &mut c.sources).await;
        c.registries
            .insert(host.to_string(), connection.map_err(Arc::new));
    }
    c
}

async fn connect(
    r: &ImageRef,
    credentials: &Arc<dyn Credentials>,
    opts: &PullOptions,
    progress: &dyn Progress,
    sources: &mut HashMap<String, String>,
) -> Result<Arc<Registry>, ImageError> {
    let host = r.api_host();
    let name = RegistryName::new(r.domain());
    let credential = credentials
        .for_registry(&name)
        .map_err(ImageError::Credentials)?;
    let credential = credential.map(|(c, source)| {
        tracing::info!("credentials for {host} from {source}");
        sources.insert(host.to_string(), source);
        c
    });
    progress.credentials(host, sources.get(host).map(String::as_str));
    let mut reg = Registry::connect(host, credential, &opts.client).await?;
    let creds = credentials.clone();
    reg.set_refresher(Arc::new(move || {
        creds.invalidate(&name);
        creds.for_registry(&name).ok().flatten().map(|(c, _)| c)
    }));
    Ok(Arc::new(reg))
}
