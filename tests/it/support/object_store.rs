//! An S3-like object store for blob redirects: it serves pre-signed URLs and,
//! like S3, answers 400 "Only one auth mechanism allowed" when a request also
//! carries an `Authorization` header. It records every header it received.
//!
//! Like S3 behind a CDN it can cap what each connection sends a second
//! ([`ObjectStore::start_capped`]), honours `Range` with 206, and counts what
//! it sent for each answer: what a client's parallel ranges cost the server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt as _;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;

pub mod capped;
mod range;

use range::Ranged;

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
    /// How many object answers were given.
    pub served: Arc<Mutex<usize>>,
    answers: Answers,
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
}

/// The state of one connection's requests.
#[derive(Clone)]
struct Connection {
    shared: Shared,
    number: u64,
}

impl ObjectStore {
    pub async fn start(objects: HashMap<String, Vec<u8>>) -> Self {
        Self::start_with(objects, None).await
    }

    /// A store whose every connection sends at most `bytes_per_second`.
    pub async fn start_capped(objects: HashMap<String, Vec<u8>>, bytes_per_second: u64) -> Self {
        Self::start_with(objects, Some(bytes_per_second)).await
    }

    async fn start_with(objects: HashMap<String, Vec<u8>>, cap: Option<u64>) -> Self {
        let shared = Shared {
            objects: Arc::new(objects.into_iter().map(|(k, v)| (k, v.into())).collect()),
            seen_authorization: Arc::new(Mutex::new(Vec::new())),
            served: Arc::new(Mutex::new(0)),
            answers: Arc::new(Mutex::new(Vec::new())),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = shared.clone();
        // Our own accept loop, not axum::serve: the cap wraps each accepted
        // socket, and each connection's router knows its number.
        let task = tokio::spawn(async move {
            let mut accepted = 0;
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                accepted += 1;
                let app = Router::new()
                    .route("/bucket/{digest}", get(object))
                    .with_state(Connection {
                        shared: state.clone(),
                        number: accepted,
                    });
                let io = TokioIo::new(capped::Capped::new(tcp, cap));
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, TowerToHyperService::new(app))
                        .await;
                });
            }
        });
        ObjectStore {
            base,
            seen_authorization: shared.seen_authorization,
            served: shared.served,
            answers: shared.answers,
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
}

async fn object(
    State(c): State<Connection>,
    Path(digest): Path<String>,
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
    let Some(bytes) = s.objects.get(&digest).cloned() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let len = bytes.len() as u64;
    let asked = headers.get("range").and_then(|v| v.to_str().ok());
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
    *s.served.lock().unwrap() += 1;
    let sent = Arc::new(AtomicU64::new(0));
    let answer = Served {
        connection: c.number,
        start,
        end,
        partial: status == StatusCode::PARTIAL_CONTENT,
        sent: 0,
    };
    s.answers.lock().unwrap().push((answer, sent.clone()));
    let mut response = Response::builder()
        .status(status)
        .header("content-length", part.len())
        .header("accept-ranges", "bytes");
    if status == StatusCode::PARTIAL_CONTENT {
        response = response.header("content-range", format!("bytes {start}-{end}/{len}"));
    }
    let pieces = (0..part.len())
        .step_by(PIECE)
        .map(move |at| part.slice(at..(at + PIECE).min(part.len())));
    let counted = futures_util::stream::iter(pieces).map(move |piece| {
        sent.fetch_add(piece.len() as u64, Ordering::SeqCst);
        Ok::<_, Infallible>(piece)
    });
    response.body(Body::from_stream(counted)).unwrap()
}

fn snapshot((answer, sent): &(Served, Arc<AtomicU64>)) -> Served {
    Served {
        sent: sent.load(Ordering::SeqCst),
        ..answer.clone()
    }
}
