//! A big blob fetched as parallel ranges: what object stores behind CDNs,
//! which cap each connection, need to fill a fast link (containerd's
//! parallel layer fetch does the same).
//!
//! The first range asked for doubles as the probe: a 206 for exactly that
//! range switches the blob to ranges, anything else leaves it to one stream
//! (`stream.rs`), which takes a 200 answer as it is. Ranges are written in
//! place at their offsets and recorded beside the partial file, so a killed
//! pull keeps them; a hashing thread follows the run from byte 0
//! (`hasher.rs`); the digest of the whole decides, as for one stream. The
//! number in flight grows while throughput does (`pace.rs`), within the
//! registry host's connection bound.
//!
//! When the registry redirects to object storage, the pre-signed URL it
//! gave is reused for every range of the blob, without the registry's
//! credentials; once the store refuses it (S3's 403 "Request has expired"),
//! the registry is asked again for a fresh one.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use reqwest::{Response, Url};
use tokio::sync::OwnedSemaphorePermit;

use super::documents::BlobRef;
use super::download::BlobSource;
use super::error::ImageError;
use super::hasher::Hasher;
use super::pace::{Pace, Window};
use super::progress::Progress;
use super::stream::{Answer, content_range};
use crate::layout::{BlobWriter, PlacedWriter};
use crate::registry::{RegistryError, idle::BodyWatch, redact::redact};

/// Blobs at least this big are fetched as ranges, where the server allows.
pub const THRESHOLD: u64 = 16 << 20;

/// The size of each range asked for: big enough that a request's round trip
/// is noise next to its transfer, small enough to spread a blob over eight.
pub const PIECE: u64 = 8 << 20;

/// Each range writes what it received in batches of this size: several
/// ranges of several blobs are in flight, so this is kept well under one
/// stream's batch to keep memory flat.
const RANGE_BATCH: usize = 256 << 10;

/// How an attempt at ranges ended.
pub enum Ranged {
    /// Every missing range is in the partial file, and hashed.
    Done,
    /// The server does not (or no longer) serve ranges: one stream from
    /// here, starting with this answer (and its connection) when it is the
    /// whole blob.
    Unranged(Option<Answer>),
}

/// Fetches every missing range of the blob. Takes the writer (a thread
/// hashes with it meanwhile) and always hands it back.
pub async fn fetch(
    blob: &BlobRef,
    source: &BlobSource,
    mut writer: BlobWriter,
    progress: &dyn Progress,
    received: &mut u64,
) -> (BlobWriter, Result<Ranged, ImageError>) {
    let mut queue = pieces(&writer.missing());
    let Some((start, end)) = queue.pop_front() else {
        return (writer, Ok(Ranged::Done));
    };
    let direct = Mutex::new(None);
    let slot = source.registry.connection_slot().await;
    let first = match ask(blob, source, &direct, start, end).await {
        Ok(first) => first,
        Err(e) => return (writer, Err(e)),
    };
    if content_range(&first) != Some((start, end - 1)) {
        tracing::info!(
            "blob {}: the server does not serve ranges; fetching it as one stream",
            blob.digest
        );
        let whole = (first.status() == reqwest::StatusCode::OK).then_some((first, slot));
        return (writer, Ok(Ranged::Unranged(whole)));
    }
    // From here on the partial file is written at offsets, and recorded.
    let placed = match writer.placed() {
        Ok(placed) => placed,
        Err(e) => return (writer, Err(e.into())),
    };
    let fetch = Fetch {
        blob,
        source,
        placed,
        direct,
        progress,
        received: AtomicU64::new(0),
    };
    tracing::info!(
        "blob {}: fetching {} bytes as parallel ranges",
        blob.digest,
        queue.iter().map(|(s, e)| e - s).sum::<u64>() + (end - start)
    );
    let hasher = Hasher::start(writer);
    let result = fetch.run(queue, (start, end, first, slot), &hasher).await;
    *received += fetch.received.load(Ordering::Relaxed);
    let (writer, hashed) = hasher.finish().await;
    let result = result.and_then(|ranged| hashed.map(|()| ranged).map_err(Into::into));
    (writer, result)
}

/// The missing spans cut into pieces of at most [`PIECE`] bytes, in order.
fn pieces(missing: &[(u64, u64)]) -> VecDeque<(u64, u64)> {
    let mut out = VecDeque::new();
    for &(mut start, end) in missing {
        while start < end {
            let stop = end.min(start + PIECE);
            out.push_back((start, stop));
            start = stop;
        }
    }
    out
}

/// Whether the rest is better fetched as one stream: more ranges did not
/// help, and one stream hashes as it goes instead of reading back what it
/// wrote. Only once every range so far is in order from byte 0 (a resumed
/// blob with spans beyond a gap keeps to ranges, to fetch only the gaps).
fn one_stream(pace: &Pace, spans: &crate::layout::Spans) -> bool {
    !pace.exploring() && pace.target() == 1 && spans.total() == spans.prefix()
}

/// What every range of one blob shares.
struct Fetch<'a> {
    blob: &'a BlobRef,
    source: &'a BlobSource,
    placed: PlacedWriter,
    /// The object-store URL the registry redirected to, while it lasts.
    direct: Mutex<Option<Url>>,
    progress: &'a dyn Progress,
    received: AtomicU64,
}

/// How one range ended.
enum PieceEnd {
    Done,
    /// Answered with something other than the range asked for.
    Unranged,
}

impl Fetch<'_> {
    /// Keeps up to the pace's count of ranges in flight until none is left;
    /// a range that fails lets the others finish (their bytes are kept),
    /// then the attempt fails for the retry runner, which resumes it.
    async fn run(
        &self,
        mut queue: VecDeque<(u64, u64)>,
        first: (u64, u64, Response, OwnedSemaphorePermit),
        hasher: &Hasher,
    ) -> Result<Ranged, ImageError> {
        let registry = &self.source.registry;
        let mut pace = Pace::new(registry.connections());
        let mut in_flight = FuturesUnordered::new();
        let (start, end, answer, slot) = first;
        in_flight.push(self.piece(start, end, Some(answer), slot, hasher));
        let mut window = Window::open(Instant::now(), 0, registry.received());
        let mut failure = None;
        let mut unranged = false;
        loop {
            while failure.is_none()
                && !unranged
                && !one_stream(&pace, &self.placed.spans())
                && in_flight.len() < pace.target()
            {
                let Some(&(start, end)) = queue.front() else {
                    break;
                };
                // Take a free connection, never wait for one while ranges
                // are in flight: they must be read, or their servers stall.
                let slot = match registry.try_connection_slot() {
                    Some(slot) => slot,
                    None if in_flight.is_empty() => registry.connection_slot().await,
                    None => break,
                };
                queue.pop_front();
                in_flight.push(self.piece(start, end, None, slot, hasher));
            }
            let Some(ended) = in_flight.next().await else {
                break;
            };
            match ended {
                Ok(PieceEnd::Done) => {}
                Ok(PieceEnd::Unranged) => unranged = true,
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
            let own = self.received.load(Ordering::Relaxed);
            if pace.exploring() && window.full(own, pace.target(), PIECE) {
                // One reading closes this window and opens the next: no
                // byte or instant falls between them.
                let (now, host) = (Instant::now(), registry.received());
                let rate = window.rate(now, host);
                pace.observe(rate);
                tracing::debug!(
                    "blob {}: {:.0} MB/s from its host; {} range(s) at once from here{}",
                    self.blob.digest,
                    rate / 1e6,
                    pace.target(),
                    if pace.exploring() { "" } else { " (settled)" }
                );
                window = Window::open(now, own, host);
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        if unranged {
            tracing::info!(
                "blob {}: the server stopped serving ranges; fetching the rest as one stream",
                self.blob.digest
            );
            return Ok(Ranged::Unranged(None));
        }
        if !queue.is_empty() {
            tracing::debug!(
                "blob {}: one connection is as fast as several; fetching the rest as one stream",
                self.blob.digest
            );
            return Ok(Ranged::Unranged(None));
        }
        Ok(Ranged::Done)
    }

    /// Fetches `[start, end)` and writes it in place, in batches, each
    /// recorded and handed to the hasher as it lands.
    async fn piece(
        &self,
        start: u64,
        end: u64,
        answer: Option<Response>,
        _slot: OwnedSemaphorePermit,
        hasher: &Hasher,
    ) -> Result<PieceEnd, ImageError> {
        let resp = match answer {
            Some(resp) => resp,
            None => ask(self.blob, self.source, &self.direct, start, end).await?,
        };
        if content_range(&resp) != Some((start, end - 1)) {
            return Ok(PieceEnd::Unranged);
        }
        let url = redact(resp.url());
        let mut watch = BodyWatch::of(&resp);
        let mut body = resp.bytes_stream();
        let mut at = start;
        let mut pending: Vec<u8> = Vec::with_capacity(RANGE_BATCH);
        let flush = |at: &mut u64, pending: &mut Vec<u8>| -> Result<(), ImageError> {
            if !pending.is_empty() {
                self.placed.write_at(*at, pending)?;
                *at += pending.len() as u64;
                pending.clear();
                hasher.nudge();
            }
            Ok(())
        };
        loop {
            // As for one stream: written out whenever nothing is ready, so
            // a stalled range never holds received bytes in memory.
            let next = match watch.ready(&mut body) {
                Some(next) => next,
                None => {
                    flush(&mut at, &mut pending)?;
                    match watch.next(&mut body).await {
                        Ok(next) => next,
                        Err(s) => return Err(RegistryError::silent(url, s).into()),
                    }
                }
            };
            let Some(chunk) = next else { break };
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(source) => {
                    flush(&mut at, &mut pending)?;
                    return Err(RegistryError::body(url, source).into());
                }
            };
            // Never past the range: a server cannot make one range
            // overwrite another.
            let room = (end - at - pending.len() as u64).min(chunk.len() as u64) as usize;
            pending.extend_from_slice(&chunk[..room]);
            self.received.fetch_add(room as u64, Ordering::Relaxed);
            self.source.registry.add_received(room as u64);
            self.progress.blob_advanced(&self.blob.digest, room as u64);
            if pending.len() >= RANGE_BATCH {
                flush(&mut at, &mut pending)?;
            }
        }
        flush(&mut at, &mut pending)?;
        // A body that ended short without an error: give up on ranges
        // rather than trust this server's.
        Ok(if at == end {
            PieceEnd::Done
        } else {
            PieceEnd::Unranged
        })
    }
}

/// Asks for `[start, end)` of the blob: at the object store's URL while it
/// works, else of the registry (which redirects again, with a fresh URL).
async fn ask(
    blob: &BlobRef,
    source: &BlobSource,
    direct: &Mutex<Option<Url>>,
    start: u64,
    end: u64,
) -> Result<Response, ImageError> {
    let registry = &source.registry;
    let known = direct.lock().expect("not poisoned").clone();
    if let Some(url) = known {
        match registry.blob_range_at(&url, start, end - 1).await {
            Ok(resp) => return Ok(resp),
            Err(RegistryError::Status { status, .. }) if (400..500).contains(&status) => {
                tracing::info!(
                    "blob {}: {} refused its URL ({status}); asking the registry for a new one",
                    blob.digest,
                    url.host_str().unwrap_or("the object store")
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let resp = registry
        .blob_range(&source.repository, &blob.digest, start, Some(end - 1))
        .await?;
    let location = (!registry.serves(resp.url())).then(|| resp.url().clone());
    *direct.lock().expect("not poisoned") = location;
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_spans_are_cut_into_pieces_in_order() {
        let missing = [(0, PIECE + 5), (3 * PIECE, 3 * PIECE + 1)];
        assert_eq!(
            Vec::from(pieces(&missing)),
            [(0, PIECE), (PIECE, PIECE + 5), (3 * PIECE, 3 * PIECE + 1)]
        );
        assert!(pieces(&[]).is_empty());
    }
}
