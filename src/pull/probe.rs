//! `regpull auth`: authenticate as a pull would, and fetch the manifest to prove
//! pull access, without downloading any blob.

use std::time::Duration;

use super::error::{ImageError, PullError};
use super::fetch::{Retry, fetch};
use crate::digest::Digest;
use crate::reference::ImageRef;
use crate::registry::retry::{RetryPolicy, unreported};
use crate::registry::{AuthScheme, ClientOptions, Login, Registry, pull_scope};

/// What the registry said at each step.
#[derive(Debug, Clone)]
pub struct Probe {
    pub base_url: String,
    pub scheme: AuthScheme,
    pub scope: String,
    /// The token's lifetime, when the registry uses Bearer tokens.
    pub token_lifetime: Option<Duration>,
    pub manifest_digest: Digest,
    pub manifest_media_type: &'static str,
}

/// Connects as a pull would, authenticates for pulling `reference`, and
/// fetches its manifest; each request retried under `retry`.
pub async fn probe(
    reference: &ImageRef,
    login: Login,
    opts: &ClientOptions,
    retry: &RetryPolicy,
) -> Result<Probe, PullError> {
    let registry = Registry::connect(reference.api_host(), login, opts, retry, &unreported)
        .await
        .map_err(|e| PullError::new(reference, None, e.into()))?;
    let fail = |kind: ImageError| PullError::new(reference, registry.credential_source(), kind);
    let repository = reference.repository();
    let what = format!("token for {repository}");
    let token_lifetime = retry
        .run(&what, &unreported, async || {
            registry.authorize_pull(repository).await
        })
        .await
        .map_err(|e| fail(e.into()))?;
    let retry = Retry {
        policy: retry,
        notice: &unreported,
    };
    let manifest = fetch(&registry, repository, reference.target(), retry)
        .await
        .map_err(fail)?;
    Ok(Probe {
        base_url: registry.base_url().to_string(),
        scheme: registry.auth_scheme(),
        scope: pull_scope(repository),
        token_lifetime,
        manifest_digest: manifest.digest,
        manifest_media_type: manifest.kind.media_type(),
    })
}
