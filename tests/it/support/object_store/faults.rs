//! What the object store can be made to do wrong, switchable while it runs:
//! pre-signed URLs that expire, bytes that come back changed, a connection
//! that breaks midway, a first range that finishes last, ranges ignored.
//! What a client downloading ranges in parallel from S3 or a CDN meets.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::response::Response;
use futures_util::StreamExt as _;
use tokio::sync::watch;

use super::flushed::{Flushes, next_flush};
use super::{PIECE, expired};

/// The longest `hold_at` holds a body back: a client that never asks for
/// another range (or one that waits for the first range before the others)
/// still gets it, late, instead of hanging the test.
pub const HOLD_LIMIT: Duration = Duration::from_secs(5);

/// Misbehaviours to switch on (all off by default), through
/// `ObjectStore::faults`; each answer reads them as it starts.
#[derive(Clone, Debug, Default)]
pub struct StoreFaults {
    /// Each distinct `X-Amz-Signature` is good for this many requests; later
    /// ones get S3's 403 "Request has expired" (a pre-signed URL outlived).
    /// Uses are counted from the store's start, whether or not this is on;
    /// requests without a signature never expire.
    pub expire_after: Option<usize>,
    /// The byte at this offset of the object goes out XOR 0xff in every
    /// answer whose span covers it (a bad cache or a bit flip on the way).
    pub corrupt_byte_at: Option<u64>,
    /// ...in 206 answers only: a 200 with the whole object is right. (A
    /// `bytes=0-` is answered 206, as S3 does, so it is corrupted too.)
    pub corrupt_only_partial: bool,
    /// `(start, n)`: the first answer that starts at byte `start` (a 200
    /// starts at 0) and is longer than `n` sends `n` body bytes, waits until
    /// they are out on the socket, then breaks its connection: the client
    /// gets the headers and the `n` bytes, then a body cut short, not a
    /// clean end.
    /// Cleared as it fires, so later answers for that start are whole.
    pub cut_once: Option<(u64, u64)>,
    /// A 206 that starts at this byte sends its headers at once but holds
    /// its body back until another answer has sent its whole body, the last
    /// byte out on the socket (or until [`HOLD_LIMIT`] has passed), so ranges
    /// complete out of order.
    pub hold_at: Option<u64>,
    /// Answer 200 with the whole object whatever `Range` says (416 included).
    pub ignore_range: bool,
}

/// The store's fault switches and what they need to remember.
pub(super) struct FaultState {
    pub(super) faults: Arc<Mutex<StoreFaults>>,
    /// Per signature: requests seen, and when the last good one was answered.
    uses: Mutex<HashMap<String, (usize, SystemTime)>>,
    pub(super) expired: AtomicUsize,
    /// Answers that have sent their whole body, for `hold_at` to wait on.
    finished: watch::Sender<u64>,
}

impl FaultState {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(FaultState {
            faults: Arc::new(Mutex::new(StoreFaults::default())),
            uses: Mutex::new(HashMap::new()),
            expired: AtomicUsize::new(0),
            finished: watch::channel(0).0,
        })
    }

    pub(super) fn snapshot(&self) -> StoreFaults {
        self.faults.lock().unwrap().clone()
    }

    /// S3's 403 when this request's signature is used up; counts the use otherwise.
    pub(super) fn expiry(&self, query: &HashMap<String, String>) -> Option<Response> {
        let signature = query.get("X-Amz-Signature")?;
        let limit = self.faults.lock().unwrap().expire_after;
        let mut uses = self.uses.lock().unwrap();
        let now = SystemTime::now();
        let (used, last_good) = uses.entry(signature.clone()).or_insert((0, now));
        if limit.is_some_and(|limit| *used >= limit) {
            let n = self.expired.fetch_add(1, Ordering::SeqCst);
            let lifetime = query.get("X-Amz-Expires").map(String::as_str);
            return Some(expired::answer(n, lifetime, *last_good));
        }
        *used += 1;
        *last_good = now;
        None
    }

    /// `cut_once`'s byte count if it fires for an answer of `len` bytes from `start`.
    fn take_cut(&self, start: u64, len: u64) -> Option<u64> {
        let mut faults = self.faults.lock().unwrap();
        let (at, n) = faults.cut_once?;
        if at != start || n >= len {
            return None;
        }
        faults.cut_once = None;
        Some(n)
    }

    /// The body of an answer on the connection of `flushes`: `part` is the
    /// object's bytes from `start`, and `sent` counts what goes out, piece by
    /// piece.
    pub(super) fn body(
        self: &Arc<Self>,
        faults: &StoreFaults,
        (part, start, partial): (Bytes, u64, bool),
        sent: Arc<AtomicU64>,
        flushes: Flushes,
    ) -> Body {
        let len = part.len() as u64;
        let part = match faults.corrupt_byte_at {
            Some(at)
                if (start..start + len).contains(&at)
                    && (partial || !faults.corrupt_only_partial) =>
            {
                let mut changed = part.to_vec();
                changed[(at - start) as usize] ^= 0xff;
                Bytes::from(changed)
            }
            _ => part,
        };
        let cut = self.take_cut(start, len);
        // Subscribed now, before the headers go out: an answer that finishes
        // from here on releases this one.
        let mut hold =
            (partial && faults.hold_at == Some(start)).then(|| self.finished.subscribe());
        let wait = futures_util::stream::once(async move {
            if let Some(rx) = &mut hold {
                let _ = tokio::time::timeout(HOLD_LIMIT, rx.changed()).await;
            }
        })
        .filter_map(|()| std::future::ready(None::<io::Result<Bytes>>));
        let kept = cut.map_or(part.len(), |n| n as usize);
        let pieces = (0..kept)
            .step_by(PIECE)
            .map(move |at| part.slice(at..(at + PIECE).min(kept)));
        let state = self.clone();
        let on_socket = flushes.clone();
        let counted = futures_util::stream::iter(pieces).map(move |piece| {
            let now = sent.fetch_add(piece.len() as u64, Ordering::SeqCst) + piece.len() as u64;
            if now == len {
                // hyper takes the last piece now and drops the body at once:
                // the flush that follows says it is out.
                let out = next_flush(&on_socket);
                let state = state.clone();
                tokio::spawn(async move {
                    if out.await {
                        state.finished.send_modify(|n| *n += 1);
                    }
                });
            }
            Ok(piece)
        });
        // An error from the body makes hyper drop the connection mid-body,
        // and with it what it has not sent yet: so first the flush.
        let broken = futures_util::stream::iter(cut).then(move |n| {
            let out = next_flush(&flushes);
            async move {
                out.await;
                Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    format!("cut_once: the object store breaks the connection after {n} bytes"),
                ))
            }
        });
        Body::from_stream(wait.chain(counted).chain(broken))
    }
}
