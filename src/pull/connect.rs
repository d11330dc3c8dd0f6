//! One connection per source (a mirror, a cache, or the upstream registry),
//! each with the credential for its own host: the upstream's never reach a
//! mirror.
//!
//! Connections are made when a source is first needed, not before: an
//! air-gapped site whose mirror serves everything never waits for retries
//! against an upstream it cannot reach. A source whose credentials cannot
//! be read, or that cannot be reached, is skipped for the next; the error is
//! shared by every image that had no other source.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::error::ImageError;
use super::progress::Progress;
use super::request::PullOptions;
use crate::auth::{Keychain, RegistryName};
use crate::hosts::Source;
use crate::reference::ImageRef;
use crate::registry::retry::Retrying;
use crate::registry::{ClientOptions, Login, Registry};

/// A connected source, or why it cannot be used.
pub type Connection = Result<Arc<Registry>, Arc<ImageError>>;

/// One reference's view of a source: where its repository is there, and
/// the connection, shared with every reference on the same host.
#[derive(Clone)]
pub struct Origin {
    pub source: Source,
    link: Arc<Link>,
}

/// A connection, made on first use.
struct Link {
    /// The first source and reference that named it: its credentials and
    /// messages.
    source: Source,
    reference: ImageRef,
    cell: OnceCell<Connection>,
}

/// Every source of the pull, by [`key`], and what connecting needs.
pub struct Connections {
    by_key: HashMap<String, Arc<Link>>,
    keychain: Arc<dyn Keychain>,
    opts: PullOptions,
}

/// What makes two sources the same connection: the host and how it is spoken to.
fn key(source: &Source) -> String {
    format!(
        "{} {} {} {} {:?}",
        source.host, source.api_path, source.plain_http, source.skip_verify, source.ca_certs
    )
}

impl Connections {
    pub fn new(keychain: &Arc<dyn Keychain>, opts: &PullOptions) -> Self {
        Connections {
            by_key: HashMap::new(),
            keychain: keychain.clone(),
            opts: opts.clone(),
        }
    }

    /// `reference`'s sources, in order, not yet connected.
    pub fn add(&mut self, reference: &ImageRef, sources: &[Source]) -> Vec<Origin> {
        sources
            .iter()
            .map(|source| {
                let link = self.by_key.entry(key(source)).or_insert_with(|| {
                    Arc::new(Link {
                        source: source.clone(),
                        reference: reference.clone(),
                        cell: OnceCell::new(),
                    })
                });
                Origin {
                    source: source.clone(),
                    link: link.clone(),
                }
            })
            .collect()
    }

    /// Whether connecting to `origin`'s source was tried and failed (it was
    /// reported then; later uses skip it quietly).
    pub fn failed(&self, origin: &Origin) -> bool {
        matches!(origin.link.cell.get(), Some(Err(_)))
    }

    /// The connection to `origin`'s source, made once.
    pub async fn get(&self, origin: &Origin, progress: &dyn Progress) -> Connection {
        let link = &origin.link;
        link.cell
            .get_or_init(|| async {
                let made = connect(link, &self.keychain, &self.opts, progress).await;
                if let Err(e) = &made
                    && !link.source.upstream
                {
                    tracing::warn!(
                        "cannot use {} ({e}); trying the next source",
                        link.source.host
                    );
                    progress.source_skipped(&link.source.host, "connecting", e);
                }
                made.map_err(Arc::new)
            })
            .await
            .clone()
    }
}

async fn connect(
    link: &Link,
    keychain: &Arc<dyn Keychain>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<Arc<Registry>, ImageError> {
    let (source, reference) = (&link.source, &link.reference);
    // The upstream's credentials are filed under the name people log in
    // with (`docker.io`); a mirror's under its own host.
    let domain = if source.upstream && source.host == reference.api_host() {
        reference.domain()
    } else {
        &source.host
    };
    let login = Login {
        name: RegistryName::new(domain),
        keychain: keychain.clone(),
    };
    let name = reference.to_string();
    let notice = |retry: &Retrying<'_>| progress.retrying(&name, retry);
    let client = client_options(&opts.client, source);
    let registry = Registry::connect(&source.host, login, &client, &opts.retry, &notice).await?;
    progress.credentials(&source.host, registry.credential_source().as_deref());
    Ok(Arc::new(registry))
}

/// The pull's connection options with what the source's configuration adds.
fn client_options(base: &ClientOptions, source: &Source) -> ClientOptions {
    let mut opts = base.clone();
    opts.plain_http |= source.plain_http;
    opts.insecure |= source.skip_verify;
    opts.ca_certs.extend(source.ca_certs.iter().cloned());
    opts.api_path = source.api_path.clone();
    opts
}
