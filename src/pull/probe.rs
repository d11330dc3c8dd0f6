//! `regpull auth`: authenticate as a pull would, and fetch the manifest to prove
//! pull access, without downloading any blob.

use std::time::Duration;

use super::error::{ImageError, PullError};
use super::resolve::{fetch_manifest, pull_scope};
use crate::auth::Credential;
use crate::digest::Digest;
use crate::reference::ImageRef;
use crate::registry::{AuthScheme, ClientOptions, Registry};

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

pub async fn probe(
    reference: &ImageRef,
    credential: Option<(Credential, String)>,
    opts: &ClientOptions,
) -> Result<Probe, PullError> {
    let source = credential.as_ref().map(|(_, s)| s.clone());
    let fail = |kind: ImageError| PullError::new(reference, source.clone(), kind);
    let registry = Registry::connect(reference.api_host(), credential.map(|(c, _)| c), opts)
        .await
        .map_err(|e| fail(e.into()))?;
    let scope = pull_scope(reference.repository());
    let token_lifetime = registry
        .authorize(&scope)
        .await
        .map_err(|e| fail(e.into()))?;
    let (digest, media_type) = fetch_manifest(&registry, reference).await.map_err(fail)?;
    Ok(Probe {
        base_url: registry.base_url().to_string(),
        scheme: registry.auth_scheme().await,
        scope,
        token_lifetime,
        manifest_digest: digest,
        manifest_media_type: media_type,
    })
}
