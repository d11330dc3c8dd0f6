//! AWS ECR: when nothing else answered for `ACCOUNT.dkr.ecr.REGION.amazonaws.com`
//! (or `.com.cn`), ask ECR's `GetAuthorizationToken` with the user's AWS
//! credentials (environment, profile, SSO, instance or task role: the AWS SDK's
//! own chain) and use the answer as user `AWS`. Tokens live 12 hours and are
//! cached until shortly before `expiresAt`; an explicit refresh (after ECR
//! answered 403 "token has expired") drops the cache.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use regex::Regex;

use super::{AuthError, Credential, CredentialSource, Lookup, LookupFuture, RegistryName};

static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
        .expect("valid regex")
});

/// A token is replaced this long before ECR says it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

pub struct EcrSource {
    /// `AWS_ENDPOINT_URL_ECR`, so tests and private endpoints can be used.
    endpoint: Option<String>,
    cache: Mutex<HashMap<String, (Credential, SystemTime)>>,
}

/// `(account, region)` of an ECR registry host.
pub fn ecr_registry(domain: &str) -> Option<(String, String)> {
    let c = ECR_HOST.captures(domain)?;
    Some((c[1].to_string(), c[2].to_string()))
}

impl EcrSource {
    pub fn new(endpoint: Option<String>) -> Self {
        EcrSource {
            endpoint,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl EcrSource {
    /// The cached token, or ECR's answer on the caller's runtime.
    async fn ask(&self, registry: &RegistryName) -> Result<Lookup, AuthError> {
        let Some((account, region)) = ecr_registry(&registry.domain) else {
            return Ok(Lookup::NotFound(
                "only for ACCOUNT.dkr.ecr.REGION.amazonaws.com".into(),
            ));
        };
        let detail = format!("token for account {account} in {region}");
        if let Some((c, expires)) = self
            .cache
            .lock()
            .expect("not poisoned")
            .get(&registry.domain)
            && SystemTime::now() + EXPIRY_MARGIN < *expires
        {
            return Ok(Lookup::Found {
                credential: c.clone(),
                detail: format!("{detail} (cached)"),
            });
        }
        match fetch(account.clone(), region.clone(), self.endpoint.clone()).await {
            Ok(Some((credential, expires))) => {
                self.cache
                    .lock()
                    .expect("not poisoned")
                    .insert(registry.domain.clone(), (credential.clone(), expires));
                Ok(Lookup::Found { credential, detail })
            }
            Ok(None) => Ok(Lookup::NotFound(
                "the AWS SDK found no credentials (environment, profile or role)".into(),
            )),
            Err(reason) => Err(AuthError::Invalid {
                what: format!("ECR GetAuthorizationToken for {account} in {region}"),
                reason,
            }),
        }
    }
}

impl CredentialSource for EcrSource {
    fn name(&self) -> String {
        "AWS ECR GetAuthorizationToken".to_string()
    }

    fn lookup<'a>(&'a self, registry: &'a RegistryName) -> LookupFuture<'a> {
        Box::pin(self.ask(registry))
    }

    fn invalidate(&self, registry: &RegistryName) {
        self.cache
            .lock()
            .expect("not poisoned")
            .remove(&registry.domain);
    }
}

async fn fetch(
    account: String,
    region: String,
    endpoint: Option<String>,
) -> Result<Option<(Credential, SystemTime)>, String> {
    use aws_config::BehaviorVersion;
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(aws_config::Region::new(region));
    if let Some(url) = endpoint {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    let Some(provider) = config.credentials_provider() else {
        return Ok(None);
    };
    use aws_credential_types::provider::ProvideCredentials as _;
    if provider.provide_credentials().await.is_err() {
        return Ok(None);
    }
    let client = aws_sdk_ecr::Client::new(&config);
    #[allow(deprecated)]
    let out = client
        .get_authorization_token()
        .registry_ids(account)
        .send()
        .await
        .map_err(|e| aws_sdk_ecr::error::DisplayErrorContext(e).to_string())?;
    let data = out
        .authorization_data()
        .first()
        .ok_or("ECR returned no authorization data")?;
    let token = data.authorization_token().ok_or("ECR returned no token")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|e| format!("the token is not base64: {e}"))?;
    let text = String::from_utf8(raw).map_err(|_| "the token is not text".to_string())?;
    let (user, password) = text
        .split_once(':')
        .ok_or("the token is not USER:PASSWORD")?;
    let expires = data
        .expires_at()
        .map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t.secs().max(0) as u64))
        .unwrap_or_else(|| SystemTime::now() + Duration::from_secs(12 * 3600));
    Ok(Some((Credential::basic(user, password), expires)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_ecr_hosts() {
        assert_eq!(
            ecr_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
            Some(("123456789012".into(), "us-east-1".into()))
        );
        assert!(ecr_registry("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").is_some());
        assert!(ecr_registry("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com").is_some());
        assert!(ecr_registry("public.ecr.aws").is_none());
        assert!(ecr_registry("12345.dkr.ecr.us-east-1.amazonaws.com").is_none());
        assert!(ecr_registry("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io").is_none());
    }
}
