//! One blob transfer as a single stream: one GET of the rest of the blob,
//! from where the writer stands, written as it arrives.
//!
//! The hash state carries on, so no byte is fetched twice when the server
//! honours Range; a server that answers 200 instead of 206 starts it over.

use reqwest::Response;
use tokio::sync::OwnedSemaphorePermit;

use super::documents::BlobRef;
use super::download::BlobSource;
use super::error::ImageError;
use super::progress::Progress;
use crate::layout::BlobWriter;
use crate::registry::{RegistryError, idle::BodyWatch, redact::redact};

/// Received bytes are written in batches of this size while data flows.
const WRITE_BATCH: usize = 1 << 20;

/// A response already in hand, with the connection slot it holds: read on
/// without waiting for another slot, or its server would wait for us.
pub type Answer = (Response, OwnedSemaphorePermit);

/// Streams the rest of the blob into `writer`. `answer` is a response
/// already in hand for it (a range probe the server answered whole).
pub async fn transfer(
    blob: &BlobRef,
    source: &BlobSource,
    writer: &mut BlobWriter,
    progress: &dyn Progress,
    received: &mut u64,
    answer: Option<Answer>,
) -> Result<(), ImageError> {
    let offset = writer.written();
    if offset == blob.size {
        return Ok(());
    }
    let (resp, _slot) = match answer {
        Some(answer) => answer,
        None => {
            let slot = source.registry.connection_slot().await;
            let resp = source
                .registry
                .blob_range(&source.repository, &blob.digest, offset, None)
                .await?;
            (resp, slot)
        }
    };
    if offset > 0 && content_range(&resp).map(|r| r.0) != Some(offset) {
        tracing::info!(
            "blob {}: the server ignored the Range request; starting over",
            blob.digest
        );
        writer.restart()?;
        progress.blob_started(&blob.digest, blob.size, 0);
    } else if offset > 0 {
        tracing::info!("blob {}: resuming at byte {offset}", blob.digest);
    }
    let url = redact(resp.url());
    let mut watch = BodyWatch::of(&resp);
    let mut body = resp.bytes_stream();
    // Chunks are gathered into large writes while data flows, and written out
    // whenever the stream has nothing ready: a stalled or dying connection
    // never leaves received bytes in memory, where SIGKILL would lose them.
    let mut pending: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    loop {
        let next = match watch.ready(&mut body) {
            Some(next) => next,
            None => {
                flush(writer, &mut pending)?;
                match watch.next(&mut body).await {
                    Ok(next) => next,
                    Err(s) => return Err(RegistryError::silent(url, s).into()),
                }
            }
        };
        let Some(chunk) = next else { break };
        let chunk = match chunk {
            Ok(c) => c,
            Err(source) => {
                flush(writer, &mut pending)?;
                return Err(RegistryError::body(url, source).into());
            }
        };
        *received += chunk.len() as u64;
        source.registry.add_received(chunk.len() as u64);
        pending.extend_from_slice(&chunk);
        if pending.len() >= WRITE_BATCH {
            flush(writer, &mut pending)?;
        }
        progress.blob_advanced(&blob.digest, chunk.len() as u64);
    }
    flush(writer, &mut pending)
}

/// Writes gathered chunks at once: page-cache writes, cheap enough on the runtime.
fn flush(writer: &mut BlobWriter, pending: &mut Vec<u8>) -> Result<(), ImageError> {
    if !pending.is_empty() {
        writer.write_chunk(pending)?;
        pending.clear();
    }
    Ok(())
}

/// The first and last byte a 206 answer says it carries (`Content-Range:
/// bytes FIRST-LAST/SIZE`); `None` for any other answer.
pub fn content_range(resp: &Response) -> Option<(u64, u64)> {
    if resp.status() != reqwest::StatusCode::PARTIAL_CONTENT {
        return None;
    }
    let value = resp
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let (first, rest) = value.strip_prefix("bytes ")?.split_once('-')?;
    let last = rest.split('/').next()?;
    Some((first.trim().parse().ok()?, last.trim().parse().ok()?))
}
