//! The fake registry's blob answers: the fault switches for blobs (scripted
//! statuses, Range honoured or ignored, connections that go quiet midway,
//! bodies that never come). Every single range form is honoured (206, or 416
//! past the end), as the Distribution registry's blob answers do.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;

use super::super::range::{self, Ranged};
use super::{Faults, Shared};

/// A blob with the fault switches applied: scripted statuses, Range, dropped
/// connections (`drop_blobs_after` counts bytes of this answer's body, a range's
/// included).
pub(super) fn serve(
    shared: &std::sync::Arc<Shared>,
    faults: &Faults,
    digest: &str,
    bytes: Vec<u8>,
    headers: &HeaderMap,
) -> Response {
    let n = shared.blob_requests_total.fetch_add(1, Ordering::SeqCst);
    if let Some((status, retry_after)) = faults.blob_statuses.get(n) {
        let mut r = (StatusCode::from_u16(*status).unwrap(), "scripted failure").into_response();
        if let Some(ra) = retry_after {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static(ra));
        }
        return r;
    }
    let attempt = {
        let mut seen = shared.blob_requests.lock().unwrap();
        let a = seen.entry(digest.to_string()).or_insert(0);
        *a += 1;
        *a
    };
    let total = bytes.len() as u64;
    // `ignore_range` is a server that does not do ranges at all: 200, whole.
    let asked = headers
        .get("range")
        .and_then(|v| v.to_str().ok())
        .filter(|_| !faults.ignore_range);
    let (status, body, span) = match range::parse(asked, total) {
        Ranged::Unsatisfiable => {
            let unsatisfiable = StatusCode::RANGE_NOT_SATISFIABLE;
            return (
                unsatisfiable,
                [("content-range", format!("bytes */{total}"))],
            )
                .into_response();
        }
        Ranged::Part(a, b) => {
            let part = bytes[a as usize..=b as usize].to_vec();
            (StatusCode::PARTIAL_CONTENT, part, Some((a, b)))
        }
        Ranged::Whole => (StatusCode::OK, bytes, None),
    };
    let mut builder = Response::builder()
        .status(status)
        .header("content-length", body.len());
    if let Some((a, b)) = span {
        builder = builder.header("content-range", format!("bytes {a}-{b}/{total}"));
    }
    let cut = faults
        .drop_blobs_after
        .filter(|n| *n < body.len() && (attempt == 1 || faults.drop_every_attempt));
    match cut {
        Some(n) => {
            // Counted as hyper takes them for the socket, not now: a client
            // that gives up first (its idle timeout, on a loaded machine) was
            // not served them.
            let served = shared.clone();
            let first = futures_util::stream::once(async move {
                served
                    .blob_bytes_served
                    .fetch_add(n as u64, Ordering::SeqCst);
                Ok::<Vec<u8>, std::io::Error>(body[..n].to_vec())
            });
            // Data first, then silence: the bytes are delivered (the connection stays
            // open), and only the client's idle timeout ends the transfer.
            let stream = first.chain(futures_util::stream::pending());
            builder.body(Body::from_stream(stream)).unwrap()
        }
        None => {
            shared
                .blob_bytes_served
                .fetch_add(body.len() as u64, Ordering::SeqCst);
            builder.body(Body::from(body)).unwrap()
        }
    }
}

/// Headers for `len` bytes, then a body that never comes.
pub(super) fn stalled(len: usize) -> Response {
    let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    // The sender is leaked into a task that never sends: headers go out, the body never does.
    tokio::spawn(async move {
        let _keep = _tx;
        std::future::pending::<()>().await;
    });
    Response::builder()
        .header("content-length", len)
        .body(Body::from_stream(tokio_stream_from(rx)))
        .unwrap()
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
