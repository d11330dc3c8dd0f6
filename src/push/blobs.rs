//! The blob phase: every distinct blob of every image, each to every
//! repository that needs it, `jobs` blobs at once.
//!
//! A blob bound for several repositories of one registry (images of a
//! `--to` list sharing a base) goes to them one after the other: the first
//! gets it by HEAD or upload, the others by a mount from a repository that
//! now holds it, which sends no bytes.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt;

use super::error::PushFailure;
use super::plan::BlobItem;
use super::progress::{BlobOutcome, Progress};
use super::report::PushTransfer;
use super::request::PushOptions;
use super::transfer::{Destination, put_blob};
use crate::layout::Layout;
use crate::registry::Registry;
use crate::registry::retry::Retrying;

/// One blob on one registry, and the repositories (with the images, by
/// request index) that need it.
pub struct BlobJob {
    pub registry: Arc<Registry>,
    pub blob: BlobItem,
    pub targets: Vec<(String, Vec<usize>)>,
    /// The image named in retry notices.
    pub reference: String,
}

/// A blob that could not be put somewhere, and the images that needed it there.
pub struct BlobFailure {
    pub images: Vec<usize>,
    pub error: PushFailure,
}

pub async fn push_all(
    layout: &Layout,
    jobs: Vec<BlobJob>,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> (PushTransfer, Vec<BlobFailure>) {
    let transfer = Mutex::new(PushTransfer::default());
    let failures = Mutex::new(Vec::new());
    let run = |job: BlobJob| {
        let (transfer, failures) = (&transfer, &failures);
        async move {
            let notice = |r: &Retrying<'_>| progress.retrying(&job.reference, r);
            let path = layout.blob_path(&job.blob.digest);
            let mut holders: Vec<String> = Vec::new();
            for (repo, images) in &job.targets {
                let to = Destination {
                    registry: &job.registry,
                    repository: repo,
                    mount_from: holders.first().map(String::as_str),
                };
                match put_blob(&to, &job.blob, &path, opts, &notice, progress).await {
                    Ok((outcome, sent)) => {
                        let from = (outcome == BlobOutcome::Mounted)
                            .then_some(to.mount_from)
                            .flatten();
                        progress.blob_finished(
                            repo,
                            &job.blob.digest,
                            job.blob.size,
                            outcome,
                            sent,
                            from,
                        );
                        count(
                            &mut transfer.lock().expect("not poisoned"),
                            outcome,
                            job.blob.size,
                            sent,
                        );
                        holders.push(repo.clone());
                    }
                    Err(e) => failures.lock().expect("not poisoned").push(BlobFailure {
                        images: images.clone(),
                        error: PushFailure::Blob {
                            digest: job.blob.digest.clone(),
                            source: Box::new(e),
                        },
                    }),
                }
            }
        }
    };
    futures_util::stream::iter(jobs)
        .map(run)
        .buffer_unordered(opts.jobs.max(1))
        .collect::<Vec<()>>()
        .await;
    (
        transfer.into_inner().expect("not poisoned"),
        failures.into_inner().expect("not poisoned"),
    )
}

fn count(t: &mut PushTransfer, outcome: BlobOutcome, size: u64, sent: u64) {
    match outcome {
        BlobOutcome::Exists => {
            t.existing_blobs += 1;
            t.existing_bytes += size;
        }
        BlobOutcome::Mounted => {
            t.mounted_blobs += 1;
            t.mounted_bytes += size;
        }
        BlobOutcome::Uploaded => {
            t.uploaded_blobs += 1;
            t.uploaded_bytes += size;
            t.sent_bytes += sent;
        }
    }
}
