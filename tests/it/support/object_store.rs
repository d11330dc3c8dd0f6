//! An S3-like object store for blob redirects: it serves pre-signed URLs and,
//! like S3, answers 400 "Only one auth mechanism allowed" when a request also
//! carries an `Authorization` header. It records every header it received.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub struct ObjectStore {
    pub base: String,
    pub seen_authorization: Arc<Mutex<Vec<String>>>,
    pub served: Arc<Mutex<usize>>,
    _task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    objects: Arc<HashMap<String, Vec<u8>>>,
    seen_authorization: Arc<Mutex<Vec<String>>>,
    served: Arc<Mutex<usize>>,
}

impl ObjectStore {
    pub async fn start(objects: HashMap<String, Vec<u8>>) -> Self {
        let shared = Shared {
            objects: Arc::new(objects),
            seen_authorization: Arc::new(Mutex::new(Vec::new())),
            served: Arc::new(Mutex::new(0)),
        };
        let app = Router::new()
            .route("/bucket/{digest}", get(object))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        ObjectStore {
            base,
            seen_authorization: shared.seen_authorization,
            served: shared.served,
            _task: task,
        }
    }
}

async fn object(
    State(s): State<Shared>,
    Path(digest): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(auth) = headers.get("authorization") {
        s.seen_authorization
            .lock()
            .unwrap()
            .push(auth.to_str().unwrap_or("?").to_string());
        let body = "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified</Message></Error>";
        return (StatusCode::BAD_REQUEST, body).into_response();
    }
    match s.objects.get(&digest) {
        Some(bytes) => {
            *s.served.lock().unwrap() += 1;
            bytes.clone().into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
