//! One registry: its base URL, its HTTP client, and how it wants to be authenticated.
//!
//! The first request is `GET /v2/`; its answer (200, or 401 with a challenge) tells
//! us whether to send nothing, Basic credentials (ECR answers this way), or a
//! Bearer token from the realm the challenge names. Tokens are cached per scope
//! and refreshed before they expire; a 401 later in the pull (a token that expired
//! early, or a registry that switched realms) re-reads the challenge and retries
//! once. Credentials go only to this registry's origin and to the realm its own
//! challenge named.

use std::collections::HashMap;

use reqwest::header::{ACCEPT, AUTHORIZATION, RANGE};
use reqwest::{Client, Response, StatusCode, Url};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::auth_scheme::{self, AuthScheme, describe, may_carry_credentials};
use super::body::read_error_body;
use super::redact::redact;
use super::status::{is_expired, status_error};
use super::token::{self, Token, TokenRequest};
use super::transport::{self, ClientOptions, is_loopback_host};
use super::{RegistryError, api_error, realm};
use crate::auth::Credential;
use crate::secret::Secret;

#[derive(Debug)]
struct AuthState {
    scheme: AuthScheme,
    tokens: HashMap<String, Token>,
}

/// What to fetch: a path under the registry, the scope it needs, optional headers.
#[derive(Debug, Clone)]
pub struct Fetch<'a> {
    pub operation: &'a str,
    pub path: String,
    pub scope: String,
    pub accept: Option<&'a str>,
    /// `Range: bytes=N-`, to resume a blob.
    pub from_offset: Option<u64>,
}

pub struct Registry {
    host: String,
    base: Url,
    http: Client,
    credential: std::sync::Mutex<Option<Credential>>,
    refresher: Option<Refresher>,
    state: Mutex<AuthState>,
}

/// Produces a fresh credential after the registry said the current one expired
/// (ECR's 12-hour tokens answer 403 "Your authorization token has expired").
pub type Refresher = std::sync::Arc<dyn Fn() -> Option<Credential> + Send + Sync>;

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Connects to `host` (`name[:port]`) and learns how it authenticates. HTTPS
    /// unless `plain_http`; a loopback registry that does not speak TLS is retried
    /// over HTTP, as docker does.
    pub async fn connect(
        host: &str,
        credential: Option<Credential>,
        opts: &ClientOptions,
    ) -> Result<Self, RegistryError> {
        let http = transport::build(host, opts)?;
        let scheme = if opts.plain_http { "http" } else { "https" };
        tracing::info!("connecting to {scheme}://{host}/v2/");
        let mut registry = Registry::new(host, scheme, http.clone(), credential.clone())?;
        match registry.ping().await {
            Err(tls_error @ RegistryError::Connect { .. })
                if scheme == "https" && is_loopback_host(host) =>
            {
                let plain = Registry::new(host, "http", http, credential)?;
                tracing::info!("{host} is on this machine and HTTPS failed; trying plain HTTP");
                match plain.ping().await {
                    Ok(()) => registry = plain,
                    // No answer, or Go's "HTTP request to an HTTPS server": the
                    // server speaks TLS, and the TLS error explains the problem.
                    Err(
                        RegistryError::Connect { .. } | RegistryError::Status { status: 400, .. },
                    ) => {
                        return Err(tls_error);
                    }
                    Err(other) => return Err(other),
                }
            }
            other => other?,
        }
        Ok(registry)
    }

    fn new(
        host: &str,
        scheme: &str,
        http: Client,
        credential: Option<Credential>,
    ) -> Result<Self, RegistryError> {
        let base = Url::parse(&format!("{scheme}://{host}/")).map_err(|e| RegistryError::Tls {
            registry: host.to_string(),
            reason: format!("not a usable host name: {e}"),
        })?;
        Ok(Registry {
            host: host.to_string(),
            base,
            http,
            credential: std::sync::Mutex::new(credential),
            refresher: None,
            state: Mutex::new(AuthState {
                scheme: AuthScheme::Anonymous,
                tokens: HashMap::new(),
            }),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The scheme learned from the registry's challenge.
    pub async fn auth_scheme(&self) -> AuthScheme {
        self.state.lock().await.scheme.clone()
    }

    /// Lets the registry ask for a fresh credential once when it reports the
    /// current one as expired.
    pub fn set_refresher(&mut self, refresher: Refresher) {
        self.refresher = Some(refresher);
    }

    fn credential(&self) -> Option<Credential> {
        self.credential.lock().expect("not poisoned").clone()
    }

    /// After a 403 "token has expired": a new credential, and no token from the old one.
    async fn refresh_credential(&self) -> bool {
        let Some(refresher) = self.refresher.clone() else {
            return false;
        };
        let fresh = tokio::task::spawn_blocking(move || refresher())
            .await
            .ok()
            .flatten();
        let Some(fresh) = fresh else {
            return false;
        };
        tracing::info!(
            "{} reported an expired credential; using a fresh one",
            self.host
        );
        *self.credential.lock().expect("not poisoned") = Some(fresh);
        self.state.lock().await.tokens.clear();
        true
    }

    /// Checks the credential itself, as `docker login` does: an authenticated
    /// `GET /v2/`, with a token requested without scope for Bearer registries.
    pub async fn verify_login(&self) -> Result<AuthScheme, RegistryError> {
        let check = Fetch {
            operation: "login check (GET /v2/)",
            path: "v2/".to_string(),
            scope: String::new(),
            accept: None,
            from_offset: None,
        };
        self.get(&check).await?;
        Ok(self.auth_scheme().await)
    }

    /// Authenticates for `scope` as a pull would; for Bearer, the token's lifetime.
    pub async fn authorize(
        &self,
        scope: &str,
    ) -> Result<Option<std::time::Duration>, RegistryError> {
        self.authorization(scope, false).await?;
        Ok(self
            .state
            .lock()
            .await
            .tokens
            .get(scope)
            .map(|t| t.lifetime))
    }

    async fn ping(&self) -> Result<(), RegistryError> {
        let url = self.base.join("v2/").expect("static path");
        let resp =
            self.http
                .get(url.clone())
                .send()
                .await
                .map_err(|source| RegistryError::Connect {
                    url: redact(&url),
                    source,
                })?;
        tracing::debug!("GET {} -> {}", redact(&url), resp.status().as_u16());
        match resp.status() {
            s if s.is_success() => Ok(()),
            StatusCode::UNAUTHORIZED => {
                let scheme = auth_scheme::from_challenge(&self.host, resp.headers())?;
                tracing::info!("{} asks for {}", self.host, describe(&scheme));
                self.state.lock().await.scheme = scheme;
                Ok(())
            }
            _ => Err(status_error("registry check (GET /v2/)", resp).await),
        }
    }

    /// Sends a GET, authenticating as the registry asked; a 401 triggers one
    /// re-authentication and retry.
    pub async fn get(&self, fetch: &Fetch<'_>) -> Result<Response, RegistryError> {
        self.send(reqwest::Method::GET, fetch).await
    }

    /// A HEAD, authenticated as [`Registry::get`]: headers only (a manifest's
    /// digest), which Docker Hub does not count against its pull limit.
    pub async fn head(&self, fetch: &Fetch<'_>) -> Result<Response, RegistryError> {
        self.send(reqwest::Method::HEAD, fetch).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        fetch: &Fetch<'_>,
    ) -> Result<Response, RegistryError> {
        let url = self
            .base
            .join(fetch.path.trim_start_matches('/'))
            .map_err(|e| RegistryError::Tls {
                registry: self.host.clone(),
                reason: format!("bad path {:?}: {e}", fetch.path),
            })?;
        for attempt in 0..2 {
            let auth = self.authorization(&fetch.scope, attempt > 0).await?;
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(a) = fetch.accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(n) = fetch.from_offset.filter(|n| *n > 0) {
                req = req.header(RANGE, format!("bytes={n}-"));
            }
            if let Some(a) = &auth {
                req = req.header(AUTHORIZATION, a.expose());
            }
            let resp = req.send().await.map_err(|source| RegistryError::Connect {
                url: redact(&url),
                source,
            })?;
            tracing::debug!(
                "{method} {} -> {}",
                redact(resp.url()),
                resp.status().as_u16()
            );
            if resp.status().is_success() {
                return Ok(resp);
            }
            if resp.status() != StatusCode::UNAUTHORIZED {
                let err = status_error(fetch.operation, resp).await;
                if attempt == 0 && is_expired(&err) {
                    // ECR answers 403, ECR Public 400: a fresh credential where one
                    // can be had, and in any case a fresh token.
                    self.refresh_credential().await;
                    self.state.lock().await.tokens.clear();
                    continue;
                }
                return Err(err);
            }
            if attempt == 0 {
                tracing::info!(
                    "{} answered 401 for {}; authenticating again",
                    self.host,
                    fetch.scope
                );
                let scheme = auth_scheme::from_challenge(&self.host, resp.headers())?;
                let mut state = self.state.lock().await;
                state.scheme = scheme;
                state.tokens.remove(&fetch.scope);
                continue;
            }
            let (errors, _) = api_error::parse(&read_error_body(resp).await);
            return Err(RegistryError::Unauthorized {
                registry: self.host.clone(),
                errors,
            });
        }
        unreachable!("the loop returns on its second pass")
    }

    /// The Authorization header for `scope`, fetching a token when needed.
    async fn authorization(
        &self,
        scope: &str,
        force: bool,
    ) -> Result<Option<Secret>, RegistryError> {
        let mut state = self.state.lock().await;
        match state.scheme.clone() {
            AuthScheme::Anonymous => Ok(None),
            AuthScheme::Basic => {
                let credential = self.credential();
                if credential.is_some() && !may_carry_credentials(&self.base) {
                    return Err(RegistryError::InsecureBasic {
                        registry: self.host.clone(),
                    });
                }
                Ok(credential.as_ref().and_then(Credential::basic_header))
            }
            AuthScheme::Bearer { realm, service } => {
                let now = Instant::now();
                if !force && let Some(t) = state.tokens.get(scope).filter(|t| t.is_fresh(now)) {
                    return Ok(Some(bearer(&t.value)));
                }
                let token = self.fetch_token(&realm, service.as_deref(), scope).await?;
                let header = bearer(&token.value);
                state.tokens.insert(scope.to_string(), token);
                Ok(Some(header))
            }
        }
    }

    async fn fetch_token(
        &self,
        realm: &Url,
        service: Option<&str>,
        scope: &str,
    ) -> Result<Token, RegistryError> {
        let refused = |reason: String| RegistryError::RealmRefused {
            registry: self.host.clone(),
            realm: redact(realm),
            reason,
        };
        realm::check(&self.base, realm).await.map_err(refused)?;
        let credential = self.credential();
        if credential.is_some() && !may_carry_credentials(realm) {
            return Err(refused(
                "it is plain HTTP and would carry your credentials in the clear".into(),
            ));
        }
        let req = TokenRequest {
            realm,
            service,
            scope,
            credential: credential.as_ref(),
        };
        token::fetch(&self.http, &req).await
    }
}

fn bearer(token: &Secret) -> Secret {
    Secret::new(format!("Bearer {}", token.expose()))
}
