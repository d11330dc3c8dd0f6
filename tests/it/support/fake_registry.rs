//! An in-process registry for what the real one cannot be made to do: lie about
//! digests and sizes, send oversized manifests or garbage challenges, expire
//! tokens mid-pull, stall, keep the bytes of a pushed chunk that broke
//! (`upload.rs`, the push side). It speaks the same Registry v2 wire protocol, so
//! regpull's production code path is the one under test.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::image::{Blob, TestImage};

mod auth;
mod blob;
mod clock;
mod upload;

pub use clock::StallClock;

use auth::{check_auth, record_authorization};
pub use upload::UploadEvent;

/// Misbehaviours to switch on.
#[derive(Default, Clone)]
pub struct Faults {
    /// Send a Docker-Content-Digest that does not match the manifest.
    pub wrong_content_digest: bool,
    /// Serve these bytes for every blob instead of the real ones.
    pub blob_bytes_override: Option<Vec<u8>>,
    /// Pad manifests with this many bytes of whitespace.
    pub manifest_padding: usize,
    /// Answer 401 with this WWW-Authenticate header.
    pub challenge: Option<String>,
    /// Require Bearer tokens from /token; each token is good for this many requests.
    pub token_uses: Option<usize>,
    /// Send headers for blobs, then nothing.
    pub stall_blobs: bool,
    /// The `service` of the Bearer challenge; `None` leaves it out, as nvcr.io does.
    pub token_service: Option<String>,
    /// Answer manifest requests with this status and distribution error code.
    pub manifest_error: Option<(u16, &'static str)>,
    /// Append this many bytes to every blob (a size lie).
    pub blob_extra_bytes: usize,
    /// Redirect blob GETs (307) to this object-storage base URL, S3 style,
    /// each with a signature of its own (see `Shared::redirects_issued`).
    pub redirect_blobs_to: Option<String>,
    /// Send this many body bytes of a blob, then nothing more: the client's
    /// read-idle timeout has to cut the connection (a stall or a silent drop).
    pub drop_blobs_after: Option<usize>,
    /// ...on every attempt, not just the first one for each blob.
    pub drop_every_attempt: bool,
    /// Answer Range requests with the whole blob and 200, as some servers do.
    pub ignore_range: bool,
    /// Answer the first blob requests with these statuses, in order.
    pub blob_statuses: Vec<(u16, Option<&'static str>)>,
    /// Redirect blobs with this status to a relative `Location` on the same host.
    pub relative_redirect: Option<u16>,
    /// Redirect blobs to themselves, forever.
    pub redirect_loop: bool,
    /// Answer a used-up token with this status and "token has expired" (ECR
    /// Public sends 400) instead of 401.
    pub expired_status: Option<u16>,
    /// Take this long over each manifest answer, so that requests overlap.
    pub manifest_delay: Option<std::time::Duration>,
    /// Answer the first `GET /v2/` requests with these statuses, in order.
    pub ping_statuses: Vec<u16>,
    /// Answer the first token requests with these statuses, in order.
    pub token_statuses: Vec<u16>,
    /// Require HTTP Basic with this user and password (a challenge
    /// `Basic realm="fake"` otherwise), as a mirror with logins of its own does.
    pub basic_auth: Option<(String, String)>,
    /// The first blob PATCH that would take its upload past this many bytes
    /// keeps the bytes up to it, then breaks (the rest of its body unread);
    /// the upload keeps them, for a `GET` of it to report (`upload.rs`).
    pub cut_patch_after: Option<u64>,
    /// Take the first bytes of each upload body in slowly (a slow uplink):
    /// after each `every` bytes of the first `first`, wait `pause`; the rest
    /// at once, so that what the client's socket buffers still hold when its
    /// last piece has gone out is drained without delay.
    pub upload_pace: Option<UploadPace>,
}

#[derive(Clone, Copy, Debug)]
pub struct UploadPace {
    pub every: usize,
    pub pause: std::time::Duration,
    pub first: usize,
}

#[derive(Default)]
struct Store {
    manifests: HashMap<(String, String), Blob>,
    blobs: HashMap<String, Vec<u8>>,
}

pub struct Shared {
    store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub tokens_issued: AtomicUsize,
    /// Blob redirects to the object store given so far; the n-th carries
    /// `X-Amz-Signature=secret-signature-value-n`.
    pub redirects_issued: AtomicUsize,
    token_use: Mutex<HashMap<String, usize>>,
    pub requests: Mutex<Vec<String>>,
    pub token_queries: Mutex<Vec<HashMap<String, String>>>,
    /// Body bytes sent for blobs, in all.
    pub blob_bytes_served: std::sync::atomic::AtomicU64,
    blob_requests: Mutex<HashMap<String, usize>>,
    blob_requests_total: AtomicUsize,
    pub user_agents: Mutex<Vec<String>>,
    /// Every `Authorization` header sent to `/v2/` and below, as sent.
    pub authorizations: Mutex<Vec<String>>,
    host: Mutex<String>,
    /// Manifest requests being answered now, and the most there ever were.
    manifests_in_flight: AtomicUsize,
    pub max_manifests_in_flight: AtomicUsize,
    uploads: Mutex<upload::Uploads>,
    /// Paths of the answers `stall_blobs` stalled (for `StallClock`).
    stalled: Mutex<Vec<String>>,
}

pub struct FakeRegistry {
    pub host: String,
    pub shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl FakeRegistry {
    pub async fn start(faults: Faults) -> Self {
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            faults: Mutex::new(faults),
            tokens_issued: AtomicUsize::new(0),
            redirects_issued: AtomicUsize::new(0),
            token_use: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            token_queries: Mutex::new(Vec::new()),
            blob_bytes_served: std::sync::atomic::AtomicU64::new(0),
            blob_requests: Mutex::new(HashMap::new()),
            blob_requests_total: AtomicUsize::new(0),
            user_agents: Mutex::new(Vec::new()),
            authorizations: Mutex::new(Vec::new()),
            host: Mutex::new(String::new()),
            manifests_in_flight: AtomicUsize::new(0),
            max_manifests_in_flight: AtomicUsize::new(0),
            uploads: Mutex::new(upload::Uploads::default()),
            stalled: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/v2/", get(ping))
            .route(
                "/v2/{*rest}",
                get(serve)
                    .post(upload::write)
                    .patch(upload::write)
                    .put(upload::write),
            )
            .route("/token", get(token))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        *shared.host.lock().unwrap() = host.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeRegistry {
            host,
            shared,
            _task: task,
        }
    }

    pub fn add_image(&self, repo: &str, tag: &str, img: &TestImage) {
        let mut s = self.shared.store.lock().unwrap();
        for b in img.blobs() {
            s.blobs.insert(b.digest.to_string(), b.bytes.clone());
        }
        s.manifests
            .insert((repo.to_string(), tag.to_string()), img.manifest.clone());
        s.manifests.insert(
            (repo.to_string(), img.manifest.digest.to_string()),
            img.manifest.clone(),
        );
    }

    /// Serves `manifest` for `repo` at `reference`, whatever its real digest.
    pub fn serve_manifest_as(&self, repo: &str, reference: &str, manifest: &Blob) {
        let mut s = self.shared.store.lock().unwrap();
        s.manifests
            .insert((repo.to_string(), reference.to_string()), manifest.clone());
    }

    /// Every blob this registry holds, by digest (for an object store to serve).
    pub fn blobs(&self) -> HashMap<String, Vec<u8>> {
        self.shared.store.lock().unwrap().blobs.clone()
    }

    /// Forgets how often each blob was requested (faults that apply to a first attempt apply again).
    pub fn reset_attempts(&self) {
        self.shared.blob_requests.lock().unwrap().clear();
    }

    /// How many times each blob was requested.
    pub fn blob_request_counts(&self) -> HashMap<String, usize> {
        self.shared.blob_requests.lock().unwrap().clone()
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// What it saw of blob uploads (pushes), in order.
    pub fn upload_events(&self) -> Vec<UploadEvent> {
        self.shared.uploads.lock().unwrap().events.clone()
    }

    /// The clock under which its stalls are waited out at once.
    pub fn stall_clock(&self) -> Arc<StallClock> {
        Arc::new(StallClock::new(self.shared.clone()))
    }

    /// The blob stored as `digest` (seeded or pushed).
    pub fn blob(&self, digest: &str) -> Option<Vec<u8>> {
        self.shared.store.lock().unwrap().blobs.get(digest).cloned()
    }

    /// Every `Authorization` header it was sent, in order.
    pub fn authorizations(&self) -> Vec<String> {
        self.shared.authorizations.lock().unwrap().clone()
    }
}

async fn ping(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let n = {
        let mut requests = shared.requests.lock().unwrap();
        requests.push("GET /v2/".into());
        requests.iter().filter(|r| *r == "GET /v2/").count() - 1
    };
    record_authorization(&shared, &headers);
    if let Some(status) = shared.faults.lock().unwrap().ping_statuses.get(n) {
        return StatusCode::from_u16(*status).unwrap().into_response();
    }
    check_auth(&shared, &headers).unwrap_or_else(|| StatusCode::OK.into_response())
}

async fn token(
    State(shared): State<Arc<Shared>>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    let asked = {
        let mut queries = shared.token_queries.lock().unwrap();
        queries.push(query);
        queries.len() - 1
    };
    if let Some(status) = shared.faults.lock().unwrap().token_statuses.get(asked) {
        return StatusCode::from_u16(*status).unwrap().into_response();
    }
    let n = shared.tokens_issued.fetch_add(1, Ordering::SeqCst);
    let t = format!("fake-token-{n}");
    shared.token_use.lock().unwrap().insert(t.clone(), 0);
    shared.requests.lock().unwrap().push("GET /token".into());
    axum::Json(json!({"token": t, "expires_in": 300})).into_response()
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> Response {
    shared
        .requests
        .lock()
        .unwrap()
        .push(format!("{method} /v2/{rest}"));
    if let Some(ua) = headers.get("user-agent").and_then(|v| v.to_str().ok()) {
        shared.user_agents.lock().unwrap().push(ua.to_string());
    }
    record_authorization(&shared, &headers);
    if let Some(denied) = check_auth(&shared, &headers) {
        return denied;
    }
    if let Some((repo, id)) = rest.split_once("/blobs/uploads/") {
        return upload::status(&shared, repo, id);
    }
    let faults = shared.faults.lock().unwrap().clone();
    if let (Some((status, code)), true) = (faults.manifest_error, rest.contains("/manifests/")) {
        let body = axum::Json(
            json!({"errors":[{"code": code, "message": format!("{code} from the fake registry")}]}),
        );
        let mut resp = (StatusCode::from_u16(status).unwrap(), body).into_response();
        resp.headers_mut()
            .insert("retry-after", HeaderValue::from_static("30"));
        return resp;
    }
    if let (Some(delay), true) = (faults.manifest_delay, rest.contains("/manifests/")) {
        let now = shared.manifests_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared
            .max_manifests_in_flight
            .fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        shared.manifests_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    if let Some((repo, reference)) = rest.rsplit_once("/manifests/") {
        let Some(m) = shared
            .store
            .lock()
            .unwrap()
            .manifests
            .get(&(repo.to_string(), reference.to_string()))
            .cloned()
        else {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(
                    json!({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}),
                ),
            )
                .into_response();
        };
        let mut bytes = m.bytes.clone();
        bytes.extend(std::iter::repeat_n(b' ', faults.manifest_padding));
        let digest = if faults.wrong_content_digest {
            super::image::Blob::new("x", b"other".to_vec()).digest
        } else {
            m.digest.clone()
        };
        return (
            [
                ("content-type", m.media_type.to_string()),
                ("docker-content-digest", digest.to_string()),
            ],
            bytes,
        )
            .into_response();
    }
    if let Some(digest) = rest.strip_prefix("moved/") {
        let Some(bytes) = shared.store.lock().unwrap().blobs.get(digest).cloned() else {
            return StatusCode::NOT_FOUND.into_response();
        };
        return blob::serve(&shared, &faults, digest, bytes, &headers);
    }
    if let Some((_, digest)) = rest.rsplit_once("/blobs/") {
        // A redirect needs no copy of the bytes (which may be a gigabyte).
        let known = shared.store.lock().unwrap().blobs.contains_key(digest);
        if known && let Some(base) = &faults.redirect_blobs_to {
            // Each redirect is signed anew, as a registry presigns each time
            // it is asked: the store can tell (and expire) each URL on its own.
            let n = shared.redirects_issued.fetch_add(1, Ordering::SeqCst) + 1;
            let location = format!(
                "{base}/bucket/{digest}?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=secret-signature-value-{n}"
            );
            return (StatusCode::TEMPORARY_REDIRECT, [("location", location)]).into_response();
        }
        let Some(bytes) = shared.store.lock().unwrap().blobs.get(digest).cloned() else {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]})),
            )
                .into_response();
        };
        if faults.stall_blobs {
            shared.stalled.lock().unwrap().push(format!("/v2/{rest}"));
            return blob::stalled(bytes.len());
        }
        if let Some(status) = faults.relative_redirect {
            let location = format!("/v2/moved/{digest}");
            return (
                StatusCode::from_u16(status).unwrap(),
                [("location", location)],
            )
                .into_response();
        }
        if faults.redirect_loop {
            let location = format!("/v2/{rest}");
            return (StatusCode::FOUND, [("location", location)]).into_response();
        }
        let mut bytes = faults.blob_bytes_override.clone().unwrap_or(bytes);
        bytes.extend(std::iter::repeat_n(0u8, faults.blob_extra_bytes));
        return blob::serve(&shared, &faults, digest, bytes, &headers);
    }
    StatusCode::NOT_FOUND.into_response()
}
