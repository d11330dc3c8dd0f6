//! One registry: its base URL, its HTTP client, and how it wants to be authenticated.
//!
//! The first request is `GET /v2/`; its answer (200, or 401 with a challenge) tells
//! us whether to send nothing, Basic credentials (ECR answers this way), or a
//! Bearer token from the realm the challenge names ([`Authorizer`]). A 401 later
//! in the pull (a token that expired early, or a registry that switched realms)
//! re-reads the challenge and retries once. Credentials go only to this
//! registry's origin and to the realm its own challenge named. The requests
//! themselves are the typed methods of `endpoints.rs`; each makes one attempt,
//! and callers repeat them through [`RetryPolicy::run`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use reqwest::header::{ACCEPT, AUTHORIZATION, RANGE};
use reqwest::{RequestBuilder, Response, StatusCode, Url};

use super::auth_scheme::{self, AuthScheme, describe};
use super::authorizer::Authorizer;
use super::body::read_error_body;
use super::http::Http;
use super::redact::redact;
use super::retry::{Notice, RetryPolicy};
use super::status::{is_expired, status_error};
use super::transport::{ClientOptions, is_loopback_host};
use super::{RegistryError, api_error};
use crate::auth::{Keychain, RegistryName};

/// One request: a path under the registry, the scope it needs, optional headers.
#[derive(Debug, Clone)]
pub(super) struct Request<'a> {
    pub operation: &'a str,
    pub path: String,
    pub scope: String,
    pub accept: Option<&'a str>,
    /// `Range: bytes=START-[END]`.
    pub range: Option<(u64, Option<u64>)>,
}

/// Who the pull is, at one registry: its name as the credential stores know
/// it (`docker.io` for `registry-1.docker.io`) and where credentials come from.
#[derive(Clone)]
pub struct Login {
    pub name: RegistryName,
    pub keychain: Arc<dyn Keychain>,
}

pub struct Registry {
    host: String,
    base: Url,
    pub(super) http: Http,
    pub(super) auth: Authorizer,
    /// Bounds the blob transfers open at once to this registry and the
    /// object stores it redirects to (`--connections`).
    slots: Arc<Semaphore>,
    connections: usize,
    /// Blob bytes received from this registry and the stores it redirects
    /// to, by every transfer of the pull: a blob trying more ranges measures
    /// this, so that throughput it only took from the pull's other blobs
    /// does not count as a gain.
    received: AtomicU64,
    /// Where the API lives on the host: `/v2/` but for some mirrors.
    api_path: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Connects to `host` (`name[:port]`) and learns how it authenticates: the
    /// credential from `login`, then `GET /v2/` under `retry`. HTTPS unless
    /// `plain_http`; a loopback registry that does not speak TLS is tried over
    /// HTTP, as docker does.
    pub async fn connect(
        host: &str,
        login: Login,
        opts: &ClientOptions,
        retry: &RetryPolicy,
        notice: Notice<'_>,
    ) -> Result<Self, RegistryError> {
        let found = login.keychain.find(&login.name).await.map_err(|source| {
            RegistryError::Credentials {
                registry: host.to_string(),
                source,
            }
        })?;
        if let Some(f) = &found {
            tracing::info!("credentials for {host} from {}", f.source);
        }
        let http = Http::new(host, opts)?;
        let scheme = if opts.plain_http { "http" } else { "https" };
        tracing::info!("connecting to {scheme}://{host}{}", opts.api_path);
        let new =
            |scheme: &str| Registry::new(host, scheme, http.clone(), opts, &login, found.clone());
        // One attempt is HTTPS and, for a loopback registry that does not
        // answer it, plain HTTP: a registry that is down is retried as a
        // whole, and a loopback registry without TLS costs no retries.
        let attempt = async || {
            let registry = new(scheme)?;
            match registry.ping().await {
                Err(tls_error @ RegistryError::Connect { .. })
                    if scheme == "https" && is_loopback_host(host) =>
                {
                    let plain = new("http")?;
                    tracing::info!("{host} is on this machine and HTTPS failed; trying plain HTTP");
                    match plain.ping().await {
                        Ok(()) => Ok(plain),
                        // No answer, or Go's "HTTP request to an HTTPS server": the
                        // server speaks TLS, and the TLS error explains the problem.
                        Err(
                            RegistryError::Connect { .. }
                            | RegistryError::Status { status: 400, .. },
                        ) => Err(tls_error),
                        Err(other) => Err(other),
                    }
                }
                Err(e) => Err(e),
                Ok(()) => Ok(registry),
            }
        };
        let what = format!("registry check of {host}");
        retry.run(&what, notice, attempt).await
    }

    fn new(
        host: &str,
        scheme: &str,
        http: Http,
        opts: &ClientOptions,
        login: &Login,
        found: Option<crate::auth::Found>,
    ) -> Result<Self, RegistryError> {
        let base =
            Url::parse(&format!("{scheme}://{host}/")).map_err(|e| RegistryError::BadAddress {
                registry: host.to_string(),
                reason: e.to_string(),
            })?;
        let auth = Authorizer::new(
            host,
            base.clone(),
            http.clone(),
            opts.resolve.clone(),
            (login.name.clone(), login.keychain.clone()),
            found,
        );
        Ok(Registry {
            host: host.to_string(),
            base,
            http,
            auth,
            slots: Arc::new(Semaphore::new(opts.connections.max(1))),
            connections: opts.connections.max(1),
            received: AtomicU64::new(0),
            api_path: opts.api_path.clone(),
        })
    }

    /// Waits for a free transfer slot; the transfer holds it while it runs.
    pub async fn connection_slot(&self) -> OwnedSemaphorePermit {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// A free transfer slot if there is one now: parallel ranges of a blob
    /// take more only while others are idle, never waiting for them.
    pub fn try_connection_slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Counts blob bytes received from this registry (or a store it
    /// redirected to).
    pub fn add_received(&self, bytes: u64) {
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Blob bytes received from this registry so far, by all transfers.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// How many transfers may be open at once (`--connections`).
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Whether `url` is on this registry's own origin (not a redirect target).
    pub fn serves(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The scheme learned from the registry's challenge.
    pub fn auth_scheme(&self) -> AuthScheme {
        self.auth.scheme()
    }

    /// Where the credential in use came from (`None`: anonymous).
    pub fn credential_source(&self) -> Option<String> {
        self.auth.credential_source()
    }

    /// `GET /v2/`: does the registry answer, and how does it want to be authenticated?
    pub(super) async fn ping(&self) -> Result<(), RegistryError> {
        let url = self.url("v2/")?;
        let resp = self
            .http
            .send(self.http.get(url.clone()), &url, None)
            .await?;
        tracing::debug!("GET {} -> {}", redact(&url), resp.status().as_u16());
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => {
                let scheme = auth_scheme::from_challenge(&self.host, resp.headers())?;
                tracing::info!("{} asks for {}", self.host, describe(&scheme));
                self.auth.set_scheme(scheme);
                Ok(())
            }
            _ => Err(status_error("registry check (GET /v2/)", resp).await),
        }
    }

    /// The URL of an API path, written as the standard `v2/...`: a source
    /// whose API lives under another path (a mirror's `override_path`) has
    /// that root put in place of `v2/`.
    pub(super) fn url(&self, path: &str) -> Result<Url, RegistryError> {
        let path = path.trim_start_matches('/');
        let path = match path.strip_prefix("v2/") {
            Some(rest) => format!("{}{rest}", self.api_path.trim_start_matches('/')),
            None => path.to_string(),
        };
        self.base
            .join(&path)
            .map_err(|e| RegistryError::BadAddress {
                registry: self.host.clone(),
                reason: format!("path {path:?}: {e}"),
            })
    }

    /// Sends one request, authenticated as the registry asked; a 401 triggers
    /// one re-authentication, an "expired" answer one fresh credential.
    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        req: &Request<'_>,
    ) -> Result<Response, RegistryError> {
        let url = self.url(&req.path)?;
        let decorate = |mut builder: RequestBuilder| {
            if let Some(a) = req.accept {
                builder = builder.header(ACCEPT, a);
            }
            if let Some((start, end)) = req.range {
                let end = end.map(|e| e.to_string()).unwrap_or_default();
                builder = builder.header(RANGE, format!("bytes={start}-{end}"));
            }
            Ok(builder)
        };
        self.exchange(method, url, req.operation, &req.scope, &decorate, None)
            .await
    }

    /// [`Registry::send`] to any URL of this registry (an upload's
    /// `Location`), with the request completed by `decorate`, which is called
    /// once per attempt (a body is made afresh each time). The credential goes
    /// only to the registry's own origin. `sending` counts the bytes of the
    /// request's body gone out (an upload), which keeps its wait alive.
    pub(super) async fn exchange(
        &self,
        method: reqwest::Method,
        url: Url,
        operation: &str,
        scope: &str,
        decorate: &(dyn Fn(RequestBuilder) -> Result<RequestBuilder, RegistryError> + Sync),
        sending: Option<&AtomicU64>,
    ) -> Result<Response, RegistryError> {
        let ours = self.serves(&url);
        for attempt in 0..2 {
            let auth = if ours {
                self.auth.header(scope).await?
            } else {
                None
            };
            let mut builder = decorate(self.http.request(method.clone(), url.clone()))?;
            if let Some(a) = &auth {
                builder = builder.header(AUTHORIZATION, a.expose());
            }
            let resp = self.http.send(builder, &url, sending).await?;
            tracing::debug!(
                "{method} {} -> {}",
                redact(resp.url()),
                resp.status().as_u16()
            );
            if resp.status().is_success() {
                return Ok(resp);
            }
            if resp.status() != StatusCode::UNAUTHORIZED {
                let err = status_error(operation, resp).await;
                if attempt == 0 && is_expired(&err) {
                    // ECR answers 403, ECR Public 400: a fresh credential where one
                    // can be had, and in any case a fresh token.
                    self.auth.refresh_credential().await;
                    continue;
                }
                return Err(err);
            }
            if attempt == 0 {
                tracing::info!(
                    "{} answered 401 for {}; authenticating again",
                    self.host,
                    scope
                );
                let scheme = auth_scheme::from_challenge(&self.host, resp.headers())?;
                if scheme == self.auth.scheme() {
                    self.auth.drop_token(scope);
                } else {
                    self.auth.set_scheme(scheme);
                }
                continue;
            }
            let (errors, _) = api_error::parse(&read_error_body(resp).await);
            return Err(RegistryError::Unauthorized {
                registry: self.host.clone(),
                anonymous: self.auth.credential_source().is_none(),
                errors,
            });
        }
        unreachable!("the loop returns on its second pass")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Anonymous;
    use crate::error_class::ErrorClass;
    use crate::registry::retry::unreported;

    /// A host name no URL can hold is the user's input to fix, said as such,
    /// not a TLS problem, and never sent anywhere.
    #[tokio::test]
    async fn an_unusable_host_is_a_bad_address_not_a_tls_error() {
        let login = Login {
            name: RegistryName::new("bad host"),
            keychain: Arc::new(Anonymous),
        };
        let policy = RetryPolicy::default();
        let opts = ClientOptions::default();
        let err = Registry::connect("bad host:5000", login, &opts, &policy, &unreported)
            .await
            .unwrap_err();
        assert!(matches!(err, RegistryError::BadAddress { .. }), "{err:?}");
        assert_eq!(err.class(), ErrorClass::Usage);
        assert!(err.to_string().contains("bad host"), "{err}");
    }
}
