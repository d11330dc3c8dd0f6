//! An S3-like object store for blob redirects: it serves pre-signed URLs and,
//! like S3, answers 400 "Only one auth mechanism allowed" when a request also
//! carries an `Authorization` header. It records every header it received.
//!
//! Like S3 behind a CDN it can cap what each connection sends a second
//! ([`ObjectStore::start_capped`]), honours `Range` with 206, and counts what
//! it sent for each answer: what a client's parallel ranges cost the server.
//!
//! Its faults ([`StoreFaults`], switched through [`ObjectStore::faults`] while
//! it runs) are what such a client meets there: pre-signed URLs that expire,
//! changed bytes, broken connections, ranges that finish out of order.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

mod capped;
mod expired;
mod faults;
mod flushed;
mod tls;

use super::range::{self, Ranged};
// For the tests; the examples, which share this kit, use neither.
#[allow(unused_imports)]
pub use capped::burst;
#[allow(unused_imports)]
pub use faults::HOLD_LIMIT;
pub use faults::StoreFaults;

/// Bodies go out in pieces this big, each counted as it is handed to the
/// connection, so an answer cut short counts what was sent, not what was asked.
const PIECE: usize = 64 << 10;

/// One object answer (200 or 206).
#[derive(Clone, Debug, PartialEq)]
pub struct Served {
    /// Which connection, counted from 1 in the order they were accepted.
    pub connection: u64,
    /// First and last byte asked for, both included.
    pub start: u64,
    pub end: u64,
    /// A 206 for a `Range`, not the whole object.
    pub partial: bool,
    /// Body bytes handed to the connection; less than `end - start + 1` when
    /// the client went away. (Counted as the connection takes them: up to its
    /// write buffer, a few hundred KiB, may still be unsent when it closes.)
    pub sent: u64,
}

pub struct ObjectStore {
    pub base: String,
    pub seen_authorization: Arc<Mutex<Vec<String>>>,
    /// The protocol each connection settled on, in the order they were
    /// accepted ("http/1.1", or "h2" over TLS when the client offered it).
    pub protocols: Arc<Mutex<Vec<String>>>,
    /// How many object answers were given.
    pub served: Arc<Mutex<usize>>,
    /// The fault switches; set them at any time, each answer reads them as it starts.
    pub faults: Arc<Mutex<StoreFaults>>,
    answers: Answers,
    state: Arc<faults::FaultState>,
    _task: tokio::task::JoinHandle<()>,
}

/// Each object answer, in order, with the count its body adds to as it goes.
type Answers = Arc<Mutex<Vec<(Served, Arc<AtomicU64>)>>>;

#[derive(Clone)]
struct Shared {
    objects: Arc<HashMap<String, Bytes>>,
    seen_authorization: Arc<Mutex<Vec<String>>>,
    served: Arc<Mutex<usize>>,
    answers: Answers,
    state: Arc<faults::FaultState>,
}

/// The state of one connection's requests.
#[derive(Clone)]
struct Connection {
    shared: Shared,
    number: u64,
    flushes: flushed::Flushes,
}

impl ObjectStore {
    pub async fn start(objects: HashMap<String, Vec<u8>>) -> Self {
        Self::start_with(objects, None, None).await
    }

    /// A store whose every connection sends at most `bytes_per_second`.
    pub async fn start_capped(objects: HashMap<String, Vec<u8>>, bytes_per_second: u64) -> Self {
        Self::start_with(objects, Some(bytes_per_second), None).await
    }

    /// The same over HTTPS with `tls`'s certificate, offering HTTP/2 first
    /// (`tls.rs`); the cap is per TCP connection, under TLS.
    #[allow(dead_code)] // the examples use the plain store
    pub async fn start_tls_capped(
        objects: HashMap<String, Vec<u8>>,
        bytes_per_second: u64,
        tls: &super::certs::Tls,
    ) -> Self {
        Self::start_with(objects, Some(bytes_per_second), Some(tls::acceptor(tls))).await
    }

    async fn start_with(
        objects: HashMap<String, Vec<u8>>,
        cap: Option<u64>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> Self {
        let shared = Shared {
            objects: Arc::new(objects.into_iter().map(|(k, v)| (k, v.into())).collect()),
            seen_authorization: Arc::new(Mutex::new(Vec::new())),
            served: Arc::new(Mutex::new(0)),
            answers: Arc::new(Mutex::new(Vec::new())),
            state: faults::FaultState::new(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base = format!("{scheme}://{}", listener.local_addr().unwrap());
        let protocols = Arc::new(Mutex::new(Vec::new()));
        let said = protocols.clone();
        let state = shared.clone();
        // Our own accept loop, not axum::serve: the cap and the flush count
        // wrap each accepted socket, and each connection's router knows its
        // number and its flushes.
        let task = tokio::spawn(async move {
            let mut accepted = 0;
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                accepted += 1;
                let flushes = Arc::new(tokio::sync::watch::channel(0).0);
                let app = Router::new()
                    .route("/bucket/{digest}", get(object))
                    .with_state(Connection {
                        shared: state.clone(),
                        number: accepted,
                        flushes: flushes.clone(),
                    });
                let capped = capped::Capped::new(tcp, cap);
                let service = TowerToHyperService::new(app);
                let (tls, said) = (tls.clone(), said.clone());
                tokio::spawn(async move {
                    let Some(tls) = tls else {
                        said.lock().unwrap().push("http/1.1".to_string());
                        let io = TokioIo::new(flushed::Flushed::new(capped, flushes));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                        return;
                    };
                    let Ok(stream) = tls.accept(capped).await else {
                        return;
                    };
                    let alpn = stream.get_ref().1.alpn_protocol().unwrap_or(b"http/1.1");
                    said.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(alpn).into_owned());
                    let io = TokioIo::new(flushed::Flushed::new(stream, flushes));
                    let auto = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    let _ = auto.serve_connection(io, service).await;
                });
            }
        });
        ObjectStore {
            base,
            seen_authorization: shared.seen_authorization,
            protocols,
            served: shared.served,
            faults: shared.state.faults.clone(),
            answers: shared.answers,
            state: shared.state,
            _task: task,
        }
    }

    /// Each object answer so far, in order.
    pub fn answers(&self) -> Vec<Served> {
        let answers = self.answers.lock().unwrap();
        answers.iter().map(snapshot).collect()
    }

    /// The answers so far, forgotten: the next call sees only later ones
    /// (for a benchmark that runs one client after another).
    pub fn take_answers(&self) -> Vec<Served> {
        let taken = std::mem::take(&mut *self.answers.lock().unwrap());
        taken.iter().map(snapshot).collect()
    }

    /// Body bytes sent for all answers so far.
    pub fn bytes_served(&self) -> u64 {
        self.answers().iter().map(|a| a.sent).sum()
    }

    /// How many requests got the 403 "Request has expired" (`expire_after`).
    pub fn expired(&self) -> usize {
        self.state.expired.load(Ordering::SeqCst)
    }
}

async fn object(
    State(c): State<Connection>,
    Path(digest): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let s = &c.shared;
    if let Some(auth) = headers.get("authorization") {
        s.seen_authorization
            .lock()
            .unwrap()
            .push(auth.to_str().unwrap_or("?").to_string());
        let body = "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>";
        return (StatusCode::BAD_REQUEST, body).into_response();
    }
    // S3 checks the signature before it looks for the object.
    if let Some(expired) = s.state.expiry(&query) {
        return expired;
    }
    let Some(bytes) = s.objects.get(&digest).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let len = bytes.len() as u64;
    let faults = s.state.snapshot();
    let asked = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .filter(|_| !faults.ignore_range);
    let (status, start, end) = match range::parse(asked, len) {
        Ranged::Unsatisfiable => {
            let unsatisfiable = StatusCode::RANGE_NOT_SATISFIABLE;
            return (unsatisfiable, [("content-range", format!("bytes */{len}"))]).into_response();
        }
        Ranged::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a, b),
        Ranged::Whole => (StatusCode::OK, 0, len.saturating_sub(1)),
    };
    let part = if len == 0 {
        Bytes::new()
    } else {
        bytes.slice(start as usize..=end as usize)
    };
    let partial = status == StatusCode::PARTIAL_CONTENT;
    *s.served.lock().unwrap() += 1;
    let sent = Arc::new(AtomicU64::new(0));
    let answer = Served {
        connection: c.number,
        start,
        end,
        partial,
        sent: 0,
    };
    s.answers.lock().unwrap().push((answer, sent.clone()));
    let mut response = Response::builder()
        .status(status)
        .header("content-length", part.len())
        .header("accept-ranges", "bytes");
    if partial {
        response = response.header("content-range", format!("bytes {start}-{end}/{len}"));
    }
    let body = s
        .state
        .body(&faults, (part, start, partial), sent, c.flushes.clone());
    response.body(body).unwrap()
}

fn snapshot((answer, sent): &(Served, Arc<AtomicU64>)) -> Served {
    Served {
        sent: sent.load(Ordering::SeqCst),
        ..answer.clone()
    }
}
