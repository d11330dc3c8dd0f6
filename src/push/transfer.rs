//! One blob into one repository: HEAD first, a mount when the blob is known
//! to be in another repository of the registry, else an upload, streamed
//! from the layout's file.
//!
//! A blob up to the chunk size goes in one PUT after the POST that opens
//! the upload (the upload is redone whole on failure). A larger one goes in
//! PATCH chunks of that size (or the registry's `OCI-Chunk-Min-Length`),
//! then an empty PUT with the digest. A failed chunk resumes where the
//! registry says it stands (`GET` of the upload: `Range: 0-N`, continue at
//! N+1); an upload the registry no longer knows (docker's registry drops
//! one whose chunk broke half-way) starts over. Attempts that moved the
//! upload forward do not use up the retry budget (`run_advancing`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::PushFailure;
use super::plan::BlobItem;
use super::progress::{BlobOutcome, Progress};
use super::request::PushOptions;
use crate::registry::retry::Notice;
use crate::registry::{FileSpan, Mount, Registry, UploadSession};

/// Where one blob goes.
pub struct Destination<'a> {
    pub registry: &'a Registry,
    pub repository: &'a str,
    /// Another repository of the registry known to hold the blob.
    pub mount_from: Option<&'a str>,
}

/// Puts `blob` (the file at `path`) into the destination's repository;
/// what happened and how many bytes were sent.
pub async fn put_blob(
    to: &Destination<'_>,
    blob: &BlobItem,
    path: &Path,
    opts: &PushOptions,
    notice: Notice<'_>,
    progress: &dyn Progress,
) -> Result<(BlobOutcome, u64), PushFailure> {
    let what = format!("blob {}", blob.digest);
    let (registry, repo) = (to.registry, to.repository);
    let exists = opts
        .retry
        .run(&what, notice, async || {
            registry.blob_exists(repo, &blob.digest).await
        })
        .await?;
    if exists {
        return Ok((BlobOutcome::Exists, 0));
    }
    let mut session = None;
    if let Some(from) = to.mount_from {
        let mount = async || registry.mount_blob(repo, &blob.digest, from).await;
        match opts.retry.run(&what, notice, mount).await? {
            Mount::Mounted => return Ok((BlobOutcome::Mounted, 0)),
            Mount::Upload(s) => session = Some(s),
        }
    }
    let chunked = blob.size > opts.chunk_size;
    progress.blob_started(repo, &blob.digest, blob.size, chunked);
    let _slot = registry.connection_slot().await;
    let upload = Upload {
        registry,
        repo,
        blob,
        path,
        chunk: opts.chunk_size,
        sent: Arc::new(AtomicU64::new(0)),
    };
    let held = AtomicU64::new(0);
    let mut broken = None;
    opts.retry
        .run_advancing(&what, notice, &held, async || {
            let s = match (session.take(), broken.take()) {
                (Some(s), _) => s,
                (None, Some(b)) if chunked => {
                    let resumed = upload.resume(&b, &held).await;
                    if resumed.is_err() {
                        broken = Some(b);
                    }
                    resumed?
                }
                _ => {
                    held.store(0, Ordering::SeqCst);
                    registry.start_upload(repo).await?
                }
            };
            if chunked {
                upload.chunks(s, &held, &mut broken).await
            } else {
                upload.whole(&s).await
            }
        })
        .await?;
    Ok((BlobOutcome::Uploaded, upload.sent.load(Ordering::Relaxed)))
}

struct Upload<'a> {
    registry: &'a Registry,
    repo: &'a str,
    blob: &'a BlobItem,
    path: &'a Path,
    chunk: u64,
    sent: Arc<AtomicU64>,
}

impl Upload<'_> {
    fn span(&self, offset: u64, len: u64) -> FileSpan {
        FileSpan {
            path: self.path.to_path_buf(),
            offset,
            len,
            sent: self.sent.clone(),
        }
    }

    /// The whole blob in the PUT that completes the upload.
    async fn whole(&self, s: &UploadSession) -> Result<(), PushFailure> {
        let span = self.span(0, self.blob.size);
        self.registry
            .finish_upload(self.repo, s, &self.blob.digest, Some(&span))
            .await?;
        Ok(())
    }

    /// PATCH from where the registry stands to the end, then the PUT. A
    /// failure leaves the session in `broken`, for the next attempt to ask.
    async fn chunks(
        &self,
        mut s: UploadSession,
        held: &AtomicU64,
        broken: &mut Option<UploadSession>,
    ) -> Result<(), PushFailure> {
        let chunk = self.chunk.max(s.min_chunk.unwrap_or(0)).max(1);
        loop {
            let at = held.load(Ordering::SeqCst);
            if at >= self.blob.size {
                break;
            }
            let len = chunk.min(self.blob.size - at);
            match self
                .registry
                .upload_chunk(self.repo, &s, &self.span(at, len))
                .await
            {
                Ok(next) => {
                    s = next;
                    held.store(at + len, Ordering::SeqCst);
                }
                Err(e) => {
                    *broken = Some(s);
                    return Err(e.into());
                }
            }
        }
        let done = self
            .registry
            .finish_upload(self.repo, &s, &self.blob.digest, None)
            .await;
        if done.is_err() {
            *broken = Some(s);
        }
        Ok(done?)
    }

    /// Where a broken upload stands, or a new upload when the registry no
    /// longer knows it (or holds more than the blob, which it cannot).
    async fn resume(
        &self,
        b: &UploadSession,
        held: &AtomicU64,
    ) -> Result<UploadSession, PushFailure> {
        match self.registry.upload_offset(self.repo, b).await {
            Ok((s, at)) if at <= self.blob.size => {
                tracing::info!("{}: resuming the upload at byte {at}", self.blob.digest);
                held.store(at, Ordering::SeqCst);
                Ok(s)
            }
            Err(e) if e.class().is_transient() => Err(e.into()),
            _ => {
                tracing::info!("{}: the upload is gone; starting over", self.blob.digest);
                held.store(0, Ordering::SeqCst);
                Ok(self.registry.start_upload(self.repo).await?)
            }
        }
    }
}
