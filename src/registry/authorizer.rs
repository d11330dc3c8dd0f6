//! How requests to one registry are authenticated: the scheme its challenge
//! asked for, the credential from the keychain, and Bearer tokens per scope.
//!
//! Tokens are fetched single-flight per scope: requests for the same
//! repository wait for the one token request in flight (a pull of 100 blobs
//! asks once), while requests for other scopes go on. The scheme and the
//! credential sit behind short locks that are never held across a request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use reqwest::Url;
use tokio::time::Instant;

use super::RegistryError;
use super::auth_scheme::{AuthScheme, may_carry_credentials};
use super::http::Http;
use super::realm;
use super::redact::redact;
use super::token::{self, Token, TokenRequest};
use crate::auth::{Credential, Found, Keychain, RegistryName};
use crate::secret::Secret;

/// One scope's token, and the lock that makes its fetch single-flight.
type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

pub struct Authorizer {
    host: String,
    base: Url,
    http: Http,
    /// `--resolve` overrides: the realm check must see the addresses the
    /// requests will really go to.
    resolve: Vec<(String, SocketAddr)>,
    name: RegistryName,
    keychain: Arc<dyn Keychain>,
    found: Mutex<Option<Found>>,
    scheme: Mutex<AuthScheme>,
    tokens: Mutex<HashMap<String, Slot>>,
}

impl Authorizer {
    pub fn new(
        host: &str,
        base: Url,
        http: Http,
        resolve: Vec<(String, SocketAddr)>,
        login: (RegistryName, Arc<dyn Keychain>),
        found: Option<Found>,
    ) -> Self {
        Authorizer {
            host: host.to_string(),
            base,
            http,
            resolve,
            name: login.0,
            keychain: login.1,
            found: Mutex::new(found),
            scheme: Mutex::new(AuthScheme::Anonymous),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    pub fn scheme(&self) -> AuthScheme {
        self.scheme.lock().expect("not poisoned").clone()
    }

    /// A new challenge: its scheme from now on, and no token from before.
    pub fn set_scheme(&self, scheme: AuthScheme) {
        *self.scheme.lock().expect("not poisoned") = scheme;
        self.tokens.lock().expect("not poisoned").clear();
    }

    /// Where the credential came from, for messages.
    pub fn credential_source(&self) -> Option<String> {
        let found = self.found.lock().expect("not poisoned");
        found.as_ref().map(|f| f.source.clone())
    }

    fn credential(&self) -> Option<Credential> {
        let found = self.found.lock().expect("not poisoned");
        found.as_ref().map(|f| f.credential.clone())
    }

    /// After a "token has expired" answer (ECR's 12-hour tokens): the keychain
    /// forgets its cached answer and is asked again; tokens from the old
    /// credential are dropped either way.
    pub async fn refresh_credential(&self) {
        self.keychain.forget(&self.name);
        match self.keychain.find(&self.name).await {
            Ok(Some(fresh)) => {
                tracing::info!(
                    "{} reported an expired credential; using a fresh one",
                    self.host
                );
                *self.found.lock().expect("not poisoned") = Some(fresh);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("cannot refresh the credential for {}: {e}", self.host),
        }
        self.tokens.lock().expect("not poisoned").clear();
    }

    /// The token that was just refused for `scope` is not to be sent again.
    pub fn drop_token(&self, scope: &str) {
        self.tokens.lock().expect("not poisoned").remove(scope);
    }

    /// The Authorization header for `scope`, fetching a token when needed.
    pub async fn header(&self, scope: &str) -> Result<Option<Secret>, RegistryError> {
        match self.scheme() {
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
                let slot = self.slot(scope);
                let mut token = slot.lock().await;
                if let Some(t) = token.as_ref().filter(|t| t.is_fresh(Instant::now())) {
                    return Ok(Some(bearer(&t.value)));
                }
                let fresh = self.fetch_token(&realm, service.as_deref(), scope).await?;
                let header = bearer(&fresh.value);
                *token = Some(fresh);
                Ok(Some(header))
            }
        }
    }

    /// The lifetime of the token held for `scope`, when there is one.
    pub async fn token_lifetime(&self, scope: &str) -> Option<std::time::Duration> {
        let slot = self
            .tokens
            .lock()
            .expect("not poisoned")
            .get(scope)
            .cloned()?;
        let token = slot.lock().await;
        token.as_ref().map(|t| t.lifetime)
    }

    fn slot(&self, scope: &str) -> Slot {
        let mut tokens = self.tokens.lock().expect("not poisoned");
        tokens.entry(scope.to_string()).or_default().clone()
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
        realm::check(&self.base, realm, &self.resolve)
            .await
            .map_err(refused)?;
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
