//! The Bearer token exchange (distribution `token.md` and `oauth.md`).
//!
//! GET `realm?service=S&scope=repository:NAME:pull` with Basic credentials when the
//! user has them (anonymous otherwise); `service` is left out when the challenge
//! has none, since nvcr.io rejects an empty one. With an identity token (docker's
//! refresh token) the OAuth2 POST form is used first, falling back to GET when the
//! server does not speak it (400/401/404/405). A username and password that GET
//! cannot use (a POST-only endpoint answering 404/405) get the OAuth2 password grant.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::Deserialize;
use tokio::time::Instant;

use super::RegistryError;
use super::body::{read_capped, read_error_body};
use super::http::Http;
use super::redact::redact;
use crate::auth::Credential;
use crate::secret::Secret;

/// Token responses are small JSON documents; a few KiB in practice.
pub const MAX_TOKEN_BODY: u64 = 1 << 20;
/// What the spec says to assume when `expires_in` is missing.
const DEFAULT_EXPIRES_IN: u64 = 60;
const CLIENT_ID: &str = "regpull";

/// A token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    pub value: Secret,
    pub expires_at: Instant,
    pub lifetime: Duration,
}

impl Token {
    /// Fresh enough to send: refreshed a little before it expires, so a request
    /// does not leave with a token that dies in flight.
    pub fn is_fresh(&self, now: Instant) -> bool {
        let margin = (self.lifetime / 10).min(Duration::from_secs(30));
        now + margin < self.expires_at
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What to ask the token server for.
pub struct TokenRequest<'a> {
    pub realm: &'a Url,
    pub service: Option<&'a str>,
    pub scope: &'a str,
    pub credential: Option<&'a Credential>,
}

pub async fn fetch(http: &Http, req: &TokenRequest<'_>) -> Result<Token, RegistryError> {
    let resp = match req.credential {
        Some(Credential::IdentityToken(refresh)) => {
            let form = oauth_form(
                req,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                ],
            );
            let resp = send(http, http.post(req.realm.clone()).form(&form), req.realm).await?;
            if falls_back_to_get(resp.status()) {
                send(http, get(http, req), req.realm).await?
            } else {
                resp
            }
        }
        Some(c @ Credential::Basic { username, password }) => {
            let header = c.basic_header().expect("basic credential");
            let resp = send(
                http,
                get(http, req).header("Authorization", header.expose()),
                req.realm,
            )
            .await?;
            if matches!(
                resp.status(),
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ) {
                let form = oauth_form(
                    req,
                    &[
                        ("grant_type", "password"),
                        ("username", username),
                        ("password", password.expose()),
                    ],
                );
                send(http, http.post(req.realm.clone()).form(&form), req.realm).await?
            } else {
                resp
            }
        }
        None => send(http, get(http, req), req.realm).await?,
    };
    parse_response(resp, req.realm).await
}

fn get(http: &Http, req: &TokenRequest<'_>) -> reqwest::RequestBuilder {
    let mut url = req.realm.clone();
    {
        let mut q = url.query_pairs_mut();
        if let Some(service) = req.service.filter(|s| !s.is_empty()) {
            q.append_pair("service", service);
        }
        // An empty scope asks only "are these credentials good?" (docker login).
        // Several scopes (a cross-repository mount's) are one `scope` each,
        // as docker sends them; the OAuth2 form joins them with spaces.
        for scope in req.scope.split(' ').filter(|s| !s.is_empty()) {
            q.append_pair("scope", scope);
        }
    }
    http.get(url)
}

fn oauth_form<'a>(
    req: &'a TokenRequest<'a>,
    grant: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = grant.to_vec();
    if let Some(service) = req.service.filter(|s| !s.is_empty()) {
        form.push(("service", service));
    }
    if !req.scope.is_empty() {
        form.push(("scope", req.scope));
    }
    form.push(("client_id", CLIENT_ID));
    form
}

fn falls_back_to_get(status: StatusCode) -> bool {
    matches!(status.as_u16(), 400 | 401 | 404 | 405)
}

async fn send(
    http: &Http,
    rb: reqwest::RequestBuilder,
    realm: &Url,
) -> Result<reqwest::Response, RegistryError> {
    http.send(rb, realm, None).await
}

async fn parse_response(resp: reqwest::Response, realm: &Url) -> Result<Token, RegistryError> {
    let status = resp.status();
    if !status.is_success() {
        let body = read_error_body(resp).await;
        let (errors, text) = super::api_error::parse(&body);
        let detail = if errors.is_empty() {
            text
        } else {
            Some(super::api_error::describe(&errors))
        };
        return Err(RegistryError::TokenRefused {
            realm: redact(realm),
            status: status.as_u16(),
            detail,
        });
    }
    let body = read_capped(resp, MAX_TOKEN_BODY, "token response").await?;
    let bad = |reason: String| RegistryError::BadToken {
        realm: redact(realm),
        reason,
    };
    let parsed: TokenResponse =
        serde_json::from_slice(&body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let value = parsed
        .token
        .filter(|t| !t.is_empty())
        .or(parsed.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| bad("neither `token` nor `access_token` is set".into()))?;
    // Header values must be visible ASCII; anything else would corrupt the request.
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "the token holds characters a header cannot carry".into()
        ));
    }
    let lifetime = Duration::from_secs(
        parsed
            .expires_in
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_EXPIRES_IN),
    );
    Ok(Token {
        value: Secret::new(value),
        expires_at: Instant::now() + lifetime,
        lifetime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_before_expiry() {
        let now = Instant::now();
        let t = Token {
            value: Secret::new("t"),
            expires_at: now + Duration::from_secs(60),
            lifetime: Duration::from_secs(60),
        };
        assert!(t.is_fresh(now));
        assert!(t.is_fresh(now + Duration::from_secs(50)));
        assert!(!t.is_fresh(now + Duration::from_secs(55)));
    }
}
