//! Vendor simulators: one TLS server that answers as a vendor's registry and its
//! token realm (and, for ECR, its S3 bucket), reproducing each vendor's
//! documented challenge, token endpoint and username conventions. regpull
//! reaches it by the vendor's real host names through `--resolve`, so the code
//! path is the one that talks to the real thing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::certs::{self, Tls};
use super::image::TestImage;
use super::tls_serve;

mod ecr;
mod token;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TokenFields {
    Both,
    TokenOnly,
    AccessTokenOnly,
}

#[derive(Clone)]
pub struct Profile {
    /// The registry's host name, e.g. `nvcr.io`.
    pub registry: &'static str,
    /// Other names this server answers as (token realm hosts, object storage).
    pub other_hosts: Vec<&'static str>,
    /// `None`: Bearer. `Some(service)`: Basic, as ECR answers.
    pub basic_service: Option<&'static str>,
    /// The Bearer realm URL.
    pub realm: String,
    pub service: Option<&'static str>,
    /// Send `service=` unquoted, as GCR does.
    pub unquoted_service: bool,
    /// A placeholder scope in the `/v2/` challenge, as GHCR sends.
    pub ping_scope: Option<&'static str>,
    /// The credential the token endpoint (or, for Basic, the registry) accepts.
    pub user: (String, String),
    pub anonymous_pull: bool,
    pub token_fields: TokenFields,
    pub token_get: bool,
    /// OAuth2 `grant_type=password` POST (ACR's endpoint is POST-only).
    pub token_post: bool,
    pub expires_in: Option<u64>,
    /// A token is good for this many registry requests.
    pub token_uses: usize,
    /// The realm named in challenges once the first token expired (NGC's switch).
    pub realm_after_expiry: Option<String>,
    /// Redirect blobs to this host (`/bucket/DIGEST?X-Amz-Signature=...`); it 400s on Authorization.
    pub blob_redirect_host: Option<&'static str>,
    /// Answer 403 DENIED when a token's scope does not name the repository (GCR).
    pub deny_wrong_scope: bool,
    /// Serve ECR's GetAuthorizationToken for this (access key, secret key); each
    /// call issues a new password, which becomes the only one the registry takes.
    pub ecr_api: Option<(&'static str, &'static str)>,
    /// With Basic: a password is good for this many requests, then 403 "expired".
    pub basic_uses: Option<usize>,
}

/// One token request as the simulator saw it.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub host: String,
    pub method: String,
    pub params: HashMap<String, String>,
    pub basic: Option<String>,
}

#[derive(Default)]
struct State_ {
    manifests: HashMap<(String, String), super::image::Blob>,
    blobs: HashMap<String, Vec<u8>>,
    tokens: HashMap<String, (String, usize)>,
    issued: usize,
    token_requests: Vec<TokenRequest>,
    storage_authorization: Vec<String>,
    ecr_password: Option<(String, usize)>,
    ecr_calls: usize,
    ecr_rejected_signatures: usize,
}

pub struct Vendor {
    pub profile: Profile,
    pub addr: std::net::SocketAddr,
    pub ca: std::path::PathBuf,
    state: Arc<Mutex<State_>>,
    _dir: tempfile::TempDir,
    _task: tokio::task::JoinHandle<()>,
}

impl Vendor {
    pub async fn start(profile: Profile) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut names = vec![profile.registry];
        names.extend(profile.other_hosts.iter().copied());
        let tls: Tls = certs::generate_for(dir.path(), &names);
        let state = Arc::new(Mutex::new(State_::default()));
        let app = Router::new()
            .fallback(handle)
            .with_state((Arc::new(profile.clone()), state.clone()));
        let (addr, task) = tls_serve::serve(app, &tls).await;
        Vendor {
            profile,
            addr,
            ca: tls.ca_pem,
            state,
            _dir: dir,
            _task: task,
        }
    }

    pub fn add_image(&self, repo: &str, tag: &str, img: &TestImage) {
        let mut s = self.state.lock().unwrap();
        for b in img.blobs() {
            s.blobs.insert(b.digest.to_string(), b.bytes.clone());
        }
        s.manifests
            .insert((repo.into(), tag.into()), img.manifest.clone());
        s.manifests.insert(
            (repo.into(), img.manifest.digest.to_string()),
            img.manifest.clone(),
        );
    }

    /// `--resolve` and `--ca-cert` arguments that point every name at this server.
    pub fn connect_args(&self) -> Vec<String> {
        let mut args = vec!["--ca-cert".to_string(), self.ca.display().to_string()];
        for host in std::iter::once(&self.profile.registry).chain(self.profile.other_hosts.iter()) {
            args.push("--resolve".into());
            args.push(format!("{host}={}", self.addr));
        }
        args
    }

    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.state.lock().unwrap().token_requests.clone()
    }

    /// (GetAuthorizationToken calls answered, calls refused for a bad signature).
    pub fn ecr_calls(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap();
        (s.ecr_calls, s.ecr_rejected_signatures)
    }

    /// `https://127.0.0.1:PORT`, for AWS_ENDPOINT_URL_ECR.
    pub fn api_endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn storage_authorization(&self) -> Vec<String> {
        self.state.lock().unwrap().storage_authorization.clone()
    }
}

type Shared = (Arc<Profile>, Arc<Mutex<State_>>);

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errors":[{"code": code, "message": message}]})),
    )
        .into_response()
}

fn basic_of(headers: &HeaderMap) -> Option<String> {
    let v = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
    String::from_utf8(raw).ok()
}

async fn handle(State((p, state)): State<Shared>, req: Request) -> Response {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .split(':')
        .next()
        .unwrap_or("")
        .to_string();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let query: HashMap<String, String> = parts
        .uri
        .query()
        .map(|q| url_pairs(q.as_bytes()))
        .unwrap_or_default();
    if parts.headers.contains_key("x-amz-target") {
        return ecr::api(&p, &state, &parts, &body);
    }
    if let Some(digest) = path.strip_prefix("/bucket/") {
        return ecr::storage(&state, digest, &parts.headers);
    }
    let realm_paths: Vec<String> = std::iter::once(&p.realm)
        .chain(p.realm_after_expiry.iter())
        .map(|r| url_path(r))
        .collect();
    if realm_paths.contains(&path) {
        return token::answer(
            &p,
            &state,
            &host,
            &parts.method,
            query,
            &body,
            &parts.headers,
        );
    }
    registry(&p, &state, &path, &parts.headers)
}

fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/".to_string(), |i| {
        rest[i..].split('?').next().unwrap_or("/").to_string()
    })
}

fn url_pairs(b: &[u8]) -> HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{}", String::from_utf8_lossy(b)))
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}

fn challenge(p: &Profile, state: &State_, ping: bool) -> String {
    if let Some(service) = p.basic_service {
        return format!(
            r#"Basic realm="https://{}/",service="{service}""#,
            p.registry
        );
    }
    let realm = match (&p.realm_after_expiry, state.issued) {
        (Some(r), n) if n > 0 => r.clone(),
        _ => p.realm.clone(),
    };
    let mut c = format!(r#"Bearer realm="{realm}""#);
    if let Some(service) = p.service {
        c.push_str(&if p.unquoted_service {
            format!(",service={service}")
        } else {
            format!(r#",service="{service}""#)
        });
    }
    if let (true, Some(scope)) = (ping, p.ping_scope) {
        c.push_str(&format!(r#",scope="{scope}""#));
    }
    c
}

fn unauthorized(p: &Profile, state: &State_, ping: bool) -> Response {
    let mut r = json_error(
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "authentication required",
    );
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_str(&challenge(p, state, ping)).unwrap(),
    );
    r
}

fn registry(p: &Profile, state: &Mutex<State_>, path: &str, headers: &HeaderMap) -> Response {
    let mut s = state.lock().unwrap();
    let ping = path == "/v2/";
    let repo = path
        .strip_prefix("/v2/")
        .and_then(|r| r.rsplit_once("/manifests/").or(r.rsplit_once("/blobs/")))
        .map(|(repo, _)| repo.to_string());
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if p.basic_service.is_some() {
        let presented = basic_of(headers);
        let valid = match &mut s.ecr_password {
            Some((pw, uses)) if presented.as_deref() == Some(&format!("AWS:{pw}")) => {
                if *uses == 0 {
                    return json_error(
                        StatusCode::FORBIDDEN,
                        "DENIED",
                        "Your authorization token has expired. Reauthenticate and try again.",
                    );
                }
                *uses -= 1;
                true
            }
            None => presented.as_deref() == Some(&format!("{}:{}", p.user.0, p.user.1)),
            _ => false,
        };
        if !valid {
            return unauthorized(p, &s, ping);
        }
    } else if let Some(t) = auth.strip_prefix("Bearer ") {
        match s.tokens.get_mut(t) {
            Some((scope, uses)) if *uses > 0 => {
                *uses -= 1;
                if let Some(repo) = &repo
                    && p.deny_wrong_scope
                    && !scope.contains(&format!("repository:{repo}:"))
                {
                    return json_error(
                        StatusCode::FORBIDDEN,
                        "DENIED",
                        "token scope does not cover this repository",
                    );
                }
            }
            _ => return unauthorized(p, &s, ping),
        }
    } else {
        return unauthorized(p, &s, ping);
    }
    if ping {
        return StatusCode::OK.into_response();
    }
    let rest = path.trim_start_matches("/v2/");
    if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
        return match s.manifests.get(&(repo.to_string(), reference.to_string())) {
            Some(m) => (
                [
                    ("content-type", m.media_type.to_string()),
                    ("docker-content-digest", m.digest.to_string()),
                ],
                m.bytes.clone(),
            )
                .into_response(),
            None => json_error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                "manifest unknown",
            ),
        };
    }
    if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
        if let Some(bucket) = p.blob_redirect_host {
            let location = format!(
                "https://{bucket}/bucket/{digest}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=sim-signature"
            );
            return (StatusCode::TEMPORARY_REDIRECT, [("location", location)]).into_response();
        }
        return match s.blobs.get(digest) {
            Some(b) => b.clone().into_response(),
            None => json_error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", "blob unknown"),
        };
    }
    StatusCode::NOT_FOUND.into_response()
}
