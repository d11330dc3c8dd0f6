//! Blobs: each one GET + stream + hash + write, several at once.
//!
//! A blob goes straight from the socket through the verifying [`BlobWriter`] to a
//! temporary file, so memory stays flat whatever the layer size. Blobs already
//! present and whole are skipped, which makes re-pulling an up-to-date image move
//! no blob bytes. A transfer that breaks is retried under the retry policy and
//! resumed with Range from the last verified byte. A blob that images on
//! several registries (or repositories) share is fetched once, from the first;
//! when that fails for good, from the next, so one registry's trouble never
//! fails another's images. A failure that is final fails only the images that
//! needed the blob from there: the other transfers go on, and a blob not yet
//! started is dropped once every image needing it has failed.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{FutureExt, StreamExt, stream};

use super::documents::BlobRef;
use super::error::ImageError;
use super::plan::OnDisk;
use super::progress::Progress;
use super::report::Transfer;
use crate::layout::{BlobWriter, Layout};
use crate::registry::retry::{RetryPolicy, Retrying};
use crate::registry::{Registry, RegistryError, redact::redact};

/// Received bytes are written in batches of this size while data flows.
const WRITE_BATCH: usize = 1 << 20;

/// One blob to fetch, and the places it may come from, tried in order.
pub struct BlobJob {
    pub blob: BlobRef,
    /// As the plan found it.
    pub on_disk: OnDisk,
    pub sources: Vec<BlobSource>,
}

/// A registry and repository that serve a blob, and the images that need it from there.
pub struct BlobSource {
    pub registry: Arc<Registry>,
    pub repository: String,
    /// The first reference that needs it from here, for messages.
    pub reference: String,
    /// Indexes of the images (in the pull's request order) that need it.
    pub images: Vec<usize>,
}

impl BlobJob {
    pub fn images(&self) -> impl Iterator<Item = usize> + '_ {
        self.sources.iter().flat_map(|s| s.images.iter().copied())
    }
}

enum Outcome {
    /// Downloaded; the bytes received in this run.
    Fetched(u64),
    Reused(u64),
    /// Not started: every image that needed it had already failed.
    Dropped,
}

/// A blob that could not be downloaded, and the images it fails.
pub struct BlobFailure {
    pub images: Vec<usize>,
    pub error: ImageError,
}

/// Downloads every job, at most `concurrency` at a time; `failed` holds the
/// images already known to have failed, and gains those a blob failure fails.
pub async fn download_all(
    layout: &Layout,
    jobs: Vec<BlobJob>,
    concurrency: usize,
    policy: &RetryPolicy,
    progress: &dyn Progress,
    failed: &Mutex<HashSet<usize>>,
) -> (Transfer, Vec<BlobFailure>) {
    let results: Vec<Result<Outcome, Vec<BlobFailure>>> = stream::iter(jobs)
        .map(|job| async move {
            let all_failed = |images: &[usize]| {
                let failed = failed.lock().expect("not poisoned");
                images.iter().all(|i| failed.contains(i))
            };
            let mut failures: Vec<BlobFailure> = Vec::new();
            for (n, source) in job.sources.iter().enumerate() {
                if all_failed(&source.images) {
                    continue;
                }
                let e = match download_one(layout, &job, source, policy, progress).await {
                    Ok(outcome) => return Ok(outcome),
                    Err(e) => e,
                };
                let blob_error = |source: ImageError| ImageError::Blob {
                    digest: job.blob.digest.clone(),
                    source: Box::new(source),
                };
                if matches!(e, ImageError::Layout(_)) {
                    // The disk will not mend by asking another registry: every
                    // image still waiting for this blob fails with this error.
                    let shared = std::sync::Arc::new(blob_error(e));
                    for rest in &job.sources[n..] {
                        failures.push(BlobFailure {
                            images: rest.images.clone(),
                            error: ImageError::Shared(shared.clone()),
                        });
                    }
                    break;
                }
                failures.push(BlobFailure {
                    images: source.images.clone(),
                    error: blob_error(e),
                });
            }
            if failures.is_empty() {
                return Ok(Outcome::Dropped);
            }
            failed.lock().expect("not poisoned").extend(job.images());
            Err(failures)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut t = Transfer::default();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok(Outcome::Fetched(n)) => t.fetched(n),
            Ok(Outcome::Reused(n)) => t.reused(n),
            Ok(Outcome::Dropped) => {}
            Err(f) => failures.extend(f),
        }
    }
    (t, failures)
}

async fn download_one(
    layout: &Layout,
    job: &BlobJob,
    source: &BlobSource,
    policy: &RetryPolicy,
    progress: &dyn Progress,
) -> Result<Outcome, ImageError> {
    let blob = &job.blob;
    if job.on_disk == OnDisk::Whole {
        tracing::debug!("blob {} is already in the layout", blob.digest);
        progress.blob_skipped(&blob.digest, blob.size);
        return Ok(Outcome::Reused(blob.size));
    }
    // Waiting for another process's lock on this blob must not stall the runtime.
    let claim = {
        let (layout, digest, size) = (layout.clone(), blob.digest.clone(), blob.size);
        tokio::task::spawn_blocking(move || layout.claim_blob(&digest, size))
            .await
            .expect("claim task does not panic")?
    };
    let Some(mut writer) = claim else {
        tracing::debug!("blob {} was completed by another process", blob.digest);
        progress.blob_skipped(&blob.digest, blob.size);
        return Ok(Outcome::Reused(blob.size));
    };
    progress.blob_started(&blob.digest, blob.size, writer.resumed_from());
    let notice = |r: &Retrying<'_>| progress.retrying(&source.reference, r);
    let mut received = 0u64;
    let what = format!("blob {}", blob.digest);
    // Where the blob stands after each attempt: attempts that advance it do
    // not use up the retry budget.
    let position = AtomicU64::new(writer.written());
    policy
        .run_advancing(&what, &notice, &position, async || {
            let r = fetch_rest(blob, source, &mut writer, progress, &mut received).await;
            position.store(writer.written(), Ordering::SeqCst);
            r
        })
        .await?;
    let written = writer.written();
    // Verification is done; fsync of a large file can block for a while.
    tokio::task::spawn_blocking(move || writer.commit())
        .await
        .expect("commit task does not panic")?;
    tracing::info!(
        "fetched blob {} ({received} of {written} bytes)",
        blob.digest
    );
    progress.blob_finished(&blob.digest, written, received);
    Ok(Outcome::Fetched(received))
}

/// The rest of the blob, verified: a prefix kept from an earlier run that
/// proves wrong is thrown away and the blob fetched whole, once.
async fn fetch_rest(
    blob: &BlobRef,
    source: &BlobSource,
    writer: &mut BlobWriter,
    progress: &dyn Progress,
    received: &mut u64,
) -> Result<(), ImageError> {
    transfer(blob, source, writer, progress, received).await?;
    if writer.resumed_from() > 0 && writer.written() == blob.size && !writer.matches() {
        tracing::warn!(
            "blob {}: the partial data on disk did not verify; downloading it again",
            blob.digest
        );
        writer.restart()?;
        progress.blob_started(&blob.digest, blob.size, 0);
        transfer(blob, source, writer, progress, received).await?;
    }
    Ok(())
}

/// One GET of the rest of the blob: from where the writer stands, with Range.
/// The hash state carries on, so no byte is fetched twice when the server
/// honours Range; a server that answers 200 instead of 206 starts it over.
async fn transfer(
    blob: &BlobRef,
    source: &BlobSource,
    writer: &mut BlobWriter,
    progress: &dyn Progress,
    received: &mut u64,
) -> Result<(), ImageError> {
    let offset = writer.written();
    if offset == blob.size {
        return Ok(());
    }
    let resp = source
        .registry
        .blob_range(&source.repository, &blob.digest, offset, None)
        .await?;
    if offset > 0 && !resumes_at(&resp, offset) {
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
    let mut body = resp.bytes_stream();
    // Chunks are gathered into large writes while data flows, and written out
    // whenever the stream has nothing ready: a stalled or dying connection
    // never leaves received bytes in memory, where SIGKILL would lose them.
    let mut pending: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
    loop {
        let next = match body.next().now_or_never() {
            Some(next) => next,
            None => {
                flush(writer, &mut pending)?;
                body.next().await
            }
        };
        let Some(chunk) = next else { break };
        let chunk = match chunk {
            Ok(c) => c,
            Err(source) => {
                flush(writer, &mut pending)?;
                return Err(RegistryError::Body { url, source }.into());
            }
        };
        *received += chunk.len() as u64;
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

/// A 206 whose Content-Range starts exactly where we stand.
fn resumes_at(resp: &reqwest::Response, offset: u64) -> bool {
    resp.status() == reqwest::StatusCode::PARTIAL_CONTENT
        && resp
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("bytes "))
            .and_then(|v| v.split('-').next())
            .and_then(|start| start.parse::<u64>().ok())
            == Some(offset)
}
