//! The fake registry's push side: the distribution upload protocol as the OCI
//! distribution-spec ("Push") and Distribution's `spec.md` document it, with
//! one vendor behaviour Distribution lacks: an upload whose PATCH broke keeps
//! the bytes it received, so a client can ask where it stands and resume.
//!
//! ```text
//! POST  /v2/NAME/blobs/uploads/            202, Location, Range: 0-0, Docker-Upload-UUID
//! PATCH <Location>  Content-Range: S-E     202, Location, Range: 0-END (416 if S != held)
//! GET   <Location>                         204, Location, Range: 0-END (404: unknown upload)
//! PUT   <Location>?digest=D  [last bytes]  201, Location, Docker-Content-Digest (400: digest)
//! PUT   /v2/NAME/manifests/REF             201, Location, Docker-Content-Digest
//! ```
//!
//! `Range` is Distribution's: `0-(held-1)`, and `0-0` for an empty upload. A
//! completed blob is stored with the others, so `GET`/`HEAD` of it serve it.
//! Every upload request is recorded as an [`UploadEvent`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use serde_json::json;

use super::super::image::{self, Blob};
use super::Shared;
use super::auth::{check_auth, record_authorization};

/// What the registry saw of its uploads, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadEvent {
    /// `POST`: upload `id` opened.
    Started { id: String },
    /// `PATCH` of upload `id` saying `Content-Range: start-...`; `received`
    /// bytes of its body were kept; `cut`: the fault broke it there.
    Patch {
        id: String,
        start: u64,
        received: u64,
        cut: bool,
    },
    /// `GET` of upload `id`, which held `held` bytes.
    Status { id: String, held: u64 },
    /// `PUT` completing upload `id` as `digest`, with `body` bytes of its own.
    Finished {
        id: String,
        body: u64,
        digest: String,
    },
}

/// Uploads in progress, and the record.
#[derive(Default)]
pub struct Uploads {
    next: u64,
    /// Upload id: its repository and the bytes it holds.
    sessions: HashMap<String, (String, Vec<u8>)>,
    /// Whether `cut_patch_after` has broken its PATCH already.
    cut_done: bool,
    pub events: Vec<UploadEvent>,
}

fn location(repo: &str, id: &str) -> String {
    format!("/v2/{repo}/blobs/uploads/{id}")
}

/// Distribution's `Range` for an upload holding `held` bytes.
fn range(held: u64) -> String {
    format!("0-{}", held.saturating_sub(1))
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = json!({"errors":[{"code": code, "message": format!("{code} (fake registry)")}]});
    (status, axum::Json(body)).into_response()
}

/// An answer that continues upload `id`.
fn session_answer(status: StatusCode, repo: &str, id: &str, held: u64) -> Response {
    (
        status,
        [
            ("location", location(repo, id)),
            ("range", range(held)),
            ("docker-upload-uuid", id.to_string()),
            ("content-length", "0".to_string()),
        ],
    )
        .into_response()
}

/// `GET <upload>`: where upload `id` stands.
pub(super) fn status(shared: &Shared, repo: &str, id: &str) -> Response {
    let mut uploads = shared.uploads.lock().unwrap();
    let Some(held) = uploads.sessions.get(id).map(|s| s.1.len() as u64) else {
        return error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    };
    uploads.events.push(UploadEvent::Status {
        id: id.to_string(),
        held,
    });
    session_answer(StatusCode::NO_CONTENT, repo, id, held)
}

/// `POST`, `PATCH` and `PUT` below `/v2/`.
pub(super) async fn write(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    shared
        .requests
        .lock()
        .unwrap()
        .push(format!("{method} /v2/{rest}"));
    record_authorization(&shared, &headers);
    if let Some(denied) = check_auth(&shared, &headers) {
        return denied;
    }
    if method == Method::PUT
        && let Some((repo, reference)) = rest.rsplit_once("/manifests/")
    {
        return put_manifest(&shared, repo, reference, &headers, body).await;
    }
    let Some((repo, id)) = rest.split_once("/blobs/uploads") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let id = id.trim_start_matches('/');
    match method {
        Method::POST if id.is_empty() => start(&shared, repo),
        Method::PATCH => patch(&shared, repo, id, &headers, body).await,
        Method::PUT => match query.get("digest") {
            Some(digest) => finish(&shared, repo, id, digest, body).await,
            None => error(StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
        },
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

fn start(shared: &Shared, repo: &str) -> Response {
    let mut uploads = shared.uploads.lock().unwrap();
    uploads.next += 1;
    let id = format!("upload-{}", uploads.next);
    uploads
        .sessions
        .insert(id.clone(), (repo.to_string(), Vec::new()));
    uploads.events.push(UploadEvent::Started { id: id.clone() });
    session_answer(StatusCode::ACCEPTED, repo, &id, 0)
}

/// Up to `limit` bytes of `body` (all of it when `None`); whether the body
/// had more (it was cut).
async fn read(shared: &Shared, body: Body, limit: Option<u64>) -> (Vec<u8>, bool) {
    let pace = shared.faults.lock().unwrap().upload_pace;
    let mut kept = Vec::new();
    let mut paced = 0;
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        if let Some(p) = pace {
            let before = paced;
            paced += frame.as_ref().map_or(0, |d| d.len());
            for _ in (before.min(p.first) / p.every)..(paced.min(p.first) / p.every) {
                tokio::time::sleep(p.pause).await;
            }
        }
        // A client that gave up: what came is what the upload holds.
        let Ok(data) = frame else { break };
        let room = limit.map_or(data.len(), |l| (l - kept.len() as u64) as usize);
        kept.extend_from_slice(&data[..room.min(data.len())]);
        if limit.is_some_and(|l| kept.len() as u64 >= l) {
            // The rest of the body is never read: the request is dropped.
            return (kept, true);
        }
    }
    (kept, false)
}

async fn patch(shared: &Shared, repo: &str, id: &str, headers: &HeaderMap, body: Body) -> Response {
    let held = {
        let uploads = shared.uploads.lock().unwrap();
        match uploads.sessions.get(id) {
            Some((r, bytes)) if r == repo => bytes.len() as u64,
            _ => return error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
        }
    };
    // `Content-Range: START-END` (a `bytes ` prefix tolerated); none: appended.
    let span = headers
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().trim_start_matches("bytes ").to_string());
    let (start, end) = match span.as_deref().map(|s| s.split_once('-')) {
        None => (held, None),
        Some(Some((a, b))) => match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
            (Ok(a), Ok(b)) if a <= b => (a, Some(b)),
            _ => return error(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
        },
        Some(None) => return error(StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
    };
    if start != held {
        let mut r = error(StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID");
        r.headers_mut()
            .insert("range", range(held).parse().unwrap());
        return r;
    }
    let cut_at = shared.faults.lock().unwrap().cut_patch_after;
    let limit = {
        let uploads = shared.uploads.lock().unwrap();
        match (cut_at, end) {
            (Some(n), Some(end)) if !uploads.cut_done && start < n && end >= n => Some(n - start),
            _ => None,
        }
    };
    let (bytes, cut) = read(shared, body, limit).await;
    let received = bytes.len() as u64;
    let mut uploads = shared.uploads.lock().unwrap();
    uploads.cut_done |= cut;
    let Some((_, held_bytes)) = uploads.sessions.get_mut(id) else {
        return error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    };
    held_bytes.extend_from_slice(&bytes);
    let held = held_bytes.len() as u64;
    uploads.events.push(UploadEvent::Patch {
        id: id.to_string(),
        start,
        received,
        cut,
    });
    if cut {
        // The rest of the body stays unread and the connection is closed:
        // the client sees its request fail mid-body. The upload survives.
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            [("connection", "close")],
            "the chunk broke",
        )
            .into_response();
    }
    session_answer(StatusCode::ACCEPTED, repo, id, held)
}

async fn finish(shared: &Shared, repo: &str, id: &str, digest: &str, body: Body) -> Response {
    if !shared.uploads.lock().unwrap().sessions.contains_key(id) {
        return error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    }
    let (last, _) = read(shared, body, None).await;
    let mut uploads = shared.uploads.lock().unwrap();
    let Some((_, mut bytes)) = uploads.sessions.remove(id) else {
        return error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN");
    };
    bytes.extend_from_slice(&last);
    uploads.events.push(UploadEvent::Finished {
        id: id.to_string(),
        body: last.len() as u64,
        digest: digest.to_string(),
    });
    drop(uploads);
    if regpull::Digest::sha256_of(&bytes).to_string() != digest {
        return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID");
    }
    shared
        .store
        .lock()
        .unwrap()
        .blobs
        .insert(digest.to_string(), bytes);
    (
        StatusCode::CREATED,
        [
            ("location", format!("/v2/{repo}/blobs/{digest}")),
            ("docker-content-digest", digest.to_string()),
            ("content-length", "0".to_string()),
        ],
    )
        .into_response()
}

async fn put_manifest(
    shared: &Shared,
    repo: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let (bytes, _) = read(shared, body, None).await;
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(image::OCI_MANIFEST);
    let media_type: &'static str = match content_type {
        image::OCI_MANIFEST => image::OCI_MANIFEST,
        other => Box::leak(other.to_string().into_boxed_str()),
    };
    let manifest = Blob::new(media_type, bytes);
    let digest = manifest.digest.to_string();
    let mut store = shared.store.lock().unwrap();
    for name in [reference, digest.as_str()] {
        store
            .manifests
            .insert((repo.to_string(), name.to_string()), manifest.clone());
    }
    (
        StatusCode::CREATED,
        [
            ("location", format!("/v2/{repo}/manifests/{digest}")),
            ("docker-content-digest", digest),
            ("content-length", "0".to_string()),
        ],
    )
        .into_response()
}
