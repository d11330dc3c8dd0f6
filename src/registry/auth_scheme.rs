//! How a registry wants to be authenticated, read from its 401 challenge, and
//! where credentials may travel.

use reqwest::Url;
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

use super::redact::redact;
use super::transport::is_loopback_host;
use super::{RegistryError, challenge};

/// How the registry said it wants to be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// `/v2/` answered without a challenge.
    Anonymous,
    Basic,
    Bearer {
        realm: Url,
        service: Option<String>,
    },
}

/// Reads the challenge of a 401 into the scheme to use from now on.
pub(super) fn from_challenge(
    registry: &str,
    headers: &HeaderMap,
) -> Result<AuthScheme, RegistryError> {
    let header = headers
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let bad = |source| RegistryError::BadChallenge {
        registry: registry.to_string(),
        header: header.clone(),
        source,
    };
    if header.trim().is_empty() {
        return Err(bad(None));
    }
    let parsed = challenge::parse(&header);
    let bearer = parsed
        .challenges
        .iter()
        .find(|c| c.scheme == "bearer" && c.param("realm").is_some());
    if let Some(c) = bearer {
        let realm = c.param("realm").expect("checked");
        let realm = Url::parse(realm).map_err(|_| bad(parsed.error.clone()))?;
        return Ok(AuthScheme::Bearer {
            realm,
            service: c
                .param("service")
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        });
    }
    if parsed.challenges.iter().any(|c| c.scheme == "basic") {
        return Ok(AuthScheme::Basic);
    }
    match (parsed.error, parsed.challenges.first()) {
        (Some(e), _) => Err(bad(Some(e))),
        (None, Some(c)) => Err(RegistryError::UnsupportedScheme {
            registry: registry.to_string(),
            scheme: c.scheme.clone(),
            header: header.clone(),
        }),
        (None, None) => Err(bad(None)),
    }
}

/// Credentials travel over HTTPS, or over plain HTTP only to this machine.
pub(super) fn may_carry_credentials(url: &Url) -> bool {
    let host = url.host_str().unwrap_or_default();
    url.scheme() == "https" || is_loopback_host(host)
}

/// The scheme for logs: realm and service, never a credential.
pub(super) fn describe(scheme: &AuthScheme) -> String {
    match scheme {
        AuthScheme::Anonymous => "no authentication".into(),
        AuthScheme::Basic => "Basic authentication".into(),
        AuthScheme::Bearer { realm, service } => format!(
            "Bearer tokens from {} (service {})",
            redact(realm),
            service.as_deref().unwrap_or("none")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_cross_the_network_in_the_clear() {
        let ok = [
            "https://registry.example/",
            "http://127.0.0.1:5000/",
            "http://localhost/token",
            "http://[::1]:5000/",
        ];
        for u in ok {
            assert!(may_carry_credentials(&Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://registry.example/",
            "http://10.0.0.5:5000/token",
            "http://localhost.evil.example/",
        ] {
            assert!(!may_carry_credentials(&Url::parse(u).unwrap()), "{u}");
        }
    }
}
