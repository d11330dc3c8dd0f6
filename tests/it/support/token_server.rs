//! A Docker token server (distribution `token.md`) for the real Distribution
//! registry in token mode: it checks Basic credentials, signs ES256 JWTs whose
//! x5c certificate is in the registry's `rootcertbundle`, and records requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

pub const ISSUER: &str = "regpull-test-issuer";
pub const SERVICE: &str = "regpull-test-registry";

/// One request the token server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub query: HashMap<String, String>,
    /// The decoded `user:password` of a Basic header, if any.
    pub basic: Option<String>,
}

struct Inner {
    key: EncodingKey,
    cert_der: Vec<u8>,
    /// `Some((user, password))`: only that user gets tokens; `None`: anyone does.
    user: Option<(String, String)>,
    expires_in: u64,
    /// The OAuth2 refresh token (docker's identity token) the POST form accepts.
    refresh_token: Mutex<Option<String>>,
    seen: Mutex<Vec<Seen>>,
}

pub struct TokenServer {
    pub realm: String,
    inner: Arc<Inner>,
    _task: tokio::task::JoinHandle<()>,
}

impl TokenServer {
    pub async fn start(key_pem: &str, cert_der: Vec<u8>, user: Option<(&str, &str)>) -> Self {
        let inner = Arc::new(Inner {
            key: EncodingKey::from_ec_pem(key_pem.as_bytes()).expect("EC key"),
            cert_der,
            user: user.map(|(u, p)| (u.to_string(), p.to_string())),
            expires_in: 300,
            refresh_token: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/token", get(token).post(oauth))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TokenServer {
            realm: format!("http://{addr}/token"),
            inner,
            _task: task,
        }
    }

    /// Accept `refresh_token` in the OAuth2 POST form (grant_type=refresh_token).
    pub fn accept_refresh_token(&self, refresh_token: &str) {
        *self.inner.refresh_token.lock().unwrap() = Some(refresh_token.to_string());
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// A token for `scope` (e.g. `repository:a/b:pull,push`), for the test kit's pusher.
    pub fn mint(&self, scope: &str) -> String {
        sign(&self.inner, scope)
    }
}

async fn token(
    State(inner): State<Arc<Inner>>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    // Several `scope` parameters (a cross-repository mount asks for two) are
    // one space-separated scope, as the OAuth2 form sends them.
    let mut query: HashMap<String, String> = HashMap::new();
    for (k, v) in pairs {
        query
            .entry(k)
            .and_modify(|old| {
                old.push(' ');
                old.push_str(&v);
            })
            .or_insert(v);
    }
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .map(|raw| String::from_utf8_lossy(&raw).into_owned());
    inner.seen.lock().unwrap().push(Seen {
        query: query.clone(),
        basic: basic.clone(),
    });
    if let Some((u, p)) = &inner.user
        && basic.as_deref() != Some(&format!("{u}:{p}"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]})),
        )
            .into_response();
    }
    if query.get("service").map(String::as_str) != Some(SERVICE) {
        return (StatusCode::BAD_REQUEST, "wrong service").into_response();
    }
    let scope = query.get("scope").cloned().unwrap_or_default();
    let token = sign(&inner, &scope);
    axum::Json(json!({"token": token, "access_token": token, "expires_in": inner.expires_in}))
        .into_response()
}

/// distribution `oauth.md`: a form POST; answers `access_token`, as the spec says.
async fn oauth(
    State(inner): State<Arc<Inner>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    inner.seen.lock().unwrap().push(Seen {
        query: form.clone(),
        basic: None,
    });
    let expected = inner.refresh_token.lock().unwrap().clone();
    let ok = form.get("grant_type").map(String::as_str) == Some("refresh_token")
        && expected.is_some()
        && form.get("refresh_token") == expected.as_ref()
        && form.get("service").map(String::as_str) == Some(SERVICE);
    if !ok {
        return (StatusCode::UNAUTHORIZED, "invalid_grant").into_response();
    }
    let scope = form.get("scope").cloned().unwrap_or_default();
    axum::Json(json!({"access_token": sign(&inner, &scope), "expires_in": inner.expires_in, "scope": scope})).into_response()
}

fn sign(inner: &Inner, scope: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let access: Vec<_> = scope
        .split(' ')
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let claims = json!({
        "iss": ISSUER,
        "sub": "regpull-test",
        "aud": SERVICE,
        "exp": now + inner.expires_in,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", rand_suffix()),
        "access": access,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.x5c = Some(vec![
        base64::engine::general_purpose::STANDARD.encode(&inner.cert_der),
    ]);
    jsonwebtoken::encode(&header, &claims, &inner.key).expect("JWT signs")
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
