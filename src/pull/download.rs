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

use futures_util::StreamExt;
use futures_util::stream::iter as each;

use super::connect::{Connections, Origin};
use super::documents::BlobRef;
use super::error::ImageError;
use super::plan::OnDisk;
use super::progress::Progress;
use super::ranged::{self, Ranged};
use super::report::Transfer;
use super::stream::transfer;
use crate::layout::{BlobWriter, Layout, LayoutError};
use crate::registry::Registry;
use crate::registry::retry::{RetryPolicy, Retrying};

/// One blob to fetch, and the places it may come from, tried in order.
pub struct BlobJob {
    pub blob: BlobRef,
    /// As the plan found it.
    pub on_disk: OnDisk,
    pub sources: Vec<Candidate>,
}

/// A source that may serve a blob (connected when first needed), and the
/// images that need it from there.
pub struct Candidate {
    pub origin: Origin,
    /// The first reference that needs it from here, for messages.
    pub reference: String,
    /// Indexes of the images (in the pull's request order) that need it.
    pub images: Vec<usize>,
}

/// A connected registry and the repository there that serves a blob.
pub struct BlobSource {
    pub registry: Arc<Registry>,
    pub repository: String,
    /// The first reference that needs it from here, for messages.
    pub reference: String,
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
    connections: &Connections,
    concurrency: usize,
    policy: &RetryPolicy,
    progress: &dyn Progress,
    failed: &Mutex<HashSet<usize>>,
) -> (Transfer, Vec<BlobFailure>) {
    let results: Vec<Result<Outcome, Vec<BlobFailure>>> = each(jobs)
        .map(|job| async move {
            let all_failed = |images: &[usize]| {
                let failed = failed.lock().expect("not poisoned");
                images.iter().all(|i| failed.contains(i))
            };
            let mut failures: Vec<BlobFailure> = Vec::new();
            for (n, candidate) in job.sources.iter().enumerate() {
                if all_failed(&candidate.images) {
                    continue;
                }
                // Images another source may still serve wait for it.
                let later: HashSet<usize> = job.sources[n + 1..]
                    .iter()
                    .flat_map(|c| c.images.iter().copied())
                    .collect();
                let orphaned: Vec<usize> = candidate
                    .images
                    .iter()
                    .copied()
                    .filter(|i| !later.contains(i))
                    .collect();
                // A mirror that could not be reached was reported once.
                if orphaned.is_empty() && connections.failed(&candidate.origin) {
                    continue;
                }
                let e = match fetch_from(layout, &job, candidate, connections, policy, progress)
                    .await
                {
                    Ok(outcome) => return Ok(outcome),
                    Err(e) => e,
                };
                let blob_error = |source: ImageError| ImageError::Blob {
                    digest: job.blob.digest.clone(),
                    source: Box::new(source),
                };
                if is_disk(&e) {
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
                // Images no later source serves fail with this error.
                if orphaned.is_empty() {
                    let what = format!("blob {}", job.blob.digest);
                    let host = &candidate.origin.source.host;
                    tracing::warn!("{host} could not serve {what} ({e}); trying the next source");
                    progress.source_skipped(host, &what, &e);
                    continue;
                }
                failures.push(BlobFailure {
                    images: orphaned,
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

/// The blob from one candidate source: connected now if it was not yet.
async fn fetch_from(
    layout: &Layout,
    job: &BlobJob,
    candidate: &Candidate,
    connections: &Connections,
    policy: &RetryPolicy,
    progress: &dyn Progress,
) -> Result<Outcome, ImageError> {
    let registry = connections
        .get(&candidate.origin, progress)
        .await
        .map_err(ImageError::Shared)?;
    let source = BlobSource {
        registry,
        repository: candidate.origin.source.repository.clone(),
        reference: candidate.reference.clone(),
    };
    let host = &candidate.origin.source.host;
    tracing::info!("blob {} from {host}", job.blob.digest);
    progress.blob_source(&job.blob.digest, host);
    download_one(layout, job, &source, policy, progress).await
}

/// A failure of the local disk, which no other source mends (content that
/// did not verify is the source's fault, not the disk's).
fn is_disk(e: &ImageError) -> bool {
    matches!(e, ImageError::Layout(l) if !matches!(l, LayoutError::Verify { .. }))
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
    let Some(writer) = claim else {
        tracing::debug!("blob {} was completed by another process", blob.digest);
        progress.blob_skipped(&blob.digest, blob.size);
        return Ok(Outcome::Reused(blob.size));
    };
    progress.blob_started(&blob.digest, blob.size, writer.stored());
    let notice = |r: &Retrying<'_>| progress.retrying(&source.reference, r);
    let mut received = 0u64;
    let what = format!("blob {}", blob.digest);
    // Where the blob stands after each attempt: attempts that advance it do
    // not use up the retry budget.
    let position = AtomicU64::new(writer.stored());
    // Each attempt takes the writer (ranges hash it on a thread of their
    // own) and hands it back.
    let mut held = Some(writer);
    let result = policy
        .run_advancing(&what, &notice, &position, async || {
            let writer = held.take().expect("handed back by every attempt");
            let (writer, r) = fetch_rest(blob, source, writer, progress, &mut received).await;
            position.store(writer.stored(), Ordering::SeqCst);
            held = Some(writer);
            r
        })
        .await;
    let writer = held.take().expect("handed back by every attempt");
    result?;
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

/// The rest of the blob, verified: as parallel ranges when it is big and the
/// server allows, else as one stream. Bytes kept from an earlier run or
/// fetched as ranges that prove wrong are thrown away and the blob fetched
/// whole as one stream, once; if that is wrong too, commit refuses it.
async fn fetch_rest(
    blob: &BlobRef,
    source: &BlobSource,
    mut writer: BlobWriter,
    progress: &dyn Progress,
    received: &mut u64,
) -> (BlobWriter, Result<(), ImageError>) {
    let mut answer = None;
    let mut pieced = false;
    if blob.size >= ranged::THRESHOLD && writer.written() < blob.size {
        let (back, r) = ranged::fetch(blob, source, writer, progress, received).await;
        writer = back;
        match r {
            Ok(Ranged::Done) => pieced = true,
            // The rest as one stream, after some ranges (none when the
            // server sent the whole blob to the first).
            Ok(Ranged::Unranged(whole)) => {
                pieced = whole.is_none();
                answer = whole;
            }
            Err(e) => return (writer, Err(e)),
        }
    }
    let r = async {
        transfer(blob, source, &mut writer, progress, received, answer).await?;
        let retold = writer.resumed_from() > 0 || pieced;
        if retold && writer.written() == blob.size && !writer.matches() {
            tracing::warn!(
                "blob {}: the bytes on disk did not verify; downloading it again as one stream",
                blob.digest
            );
            writer.restart()?;
            progress.blob_started(&blob.digest, blob.size, 0);
            transfer(blob, source, &mut writer, progress, received, None).await?;
        }
        Ok(())
    }
    .await;
    (writer, r)
}
