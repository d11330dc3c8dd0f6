//! The push: images of the layout into registries, the way `pull` brings
//! them the other way; with `pull`, the only module that joins the registry
//! and the layout.
//!
//! Four phases, run in order by [`push`]: [`plan::plan`] (each image's
//! documents and blobs, read from the layout), `connect` (one connection
//! per destination host, with the credential the pull would use),
//! [`blobs::push_all`] (every distinct blob to every repository needing it,
//! concurrently: HEAD, mount, or an upload streamed from the file) and
//! [`manifests::push_documents`] (manifests after their blobs, indexes after
//! their manifests, each with its exact bytes, so the digests at the
//! destination are the layout's). A registry refuses a manifest whose blobs
//! it lacks, so the order is what makes a push that stopped half-way safe:
//! the tag moves last, and a re-run HEADs what is there and sends the rest.
//!
//! Each image succeeds or fails on its own.

mod blobs;
mod error;
mod manifests;
mod plan;
mod progress;
mod report;
mod request;
mod transfer;

use std::collections::HashMap;
use std::sync::Arc;

pub use error::{PushError, PushFailure};
pub use progress::{BlobOutcome, Progress, Silent};
pub use report::{PushReport, PushTransfer, PushedImage};
pub use request::{CHUNK_SIZE, PushOptions, PushRequest};

use crate::auth::{Keychain, RegistryName};
use crate::layout::{Layout, LayoutError};
use crate::reference::ImageRef;
use crate::registry::retry::Retrying;
use crate::registry::{Login, Registry};
use blobs::{BlobFailure, BlobJob};
use plan::ImagePlan;

/// An image planned and connected, or why it cannot be pushed.
type Outcome = Result<(ImagePlan, Arc<Registry>), PushError>;

/// Pushes every request. Fails as a whole only when the layout cannot be
/// used (its gc lock); otherwise each image's outcome is in the report.
pub async fn push(
    layout: &Layout,
    requests: &[PushRequest],
    keychain: Arc<dyn Keychain>,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<PushReport, LayoutError> {
    // Held while blobs are read, so gc cannot delete them under the push. A
    // layout this user may not write (a shared, read-only cache) has no gc
    // of theirs to fear, and is pushed from without the lock.
    let _guard = match layout.pull_guard() {
        Ok(guard) => Some(guard),
        Err(LayoutError::Lock { source, .. })
            if matches!(
                source.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            None
        }
        Err(e) => return Err(e),
    };
    let plans: Vec<Result<ImagePlan, PushError>> = requests
        .iter()
        .map(|r| {
            plan::plan(layout, &r.descriptor)
                .and_then(|p| same_digest(r, p))
                .map_err(|kind| failure(r, None, kind))
        })
        .collect();
    let connections = connect_all(requests, &plans, &keychain, opts, progress).await;
    let mut results: Vec<Outcome> = plans
        .into_iter()
        .zip(requests)
        .map(|(plan, r)| {
            let plan = plan?;
            match &connections[r.target.api_host()] {
                Ok(registry) => Ok((plan, registry.clone())),
                Err(e) => Err(failure(r, None, PushFailure::Shared(e.clone()))),
            }
        })
        .collect();
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        progress.image_failed(e);
    }

    let jobs = blob_jobs(requests, &results);
    let (transfer, failures) = blobs::push_all(layout, jobs, opts, progress).await;
    fail_images(&mut results, requests, failures, progress);

    let mut done = Vec::with_capacity(results.len());
    for (result, r) in results.into_iter().zip(requests) {
        let (plan, registry) = match result {
            Ok(ok) => ok,
            Err(e) => {
                done.push(Err(e));
                continue;
            }
        };
        let pushed = manifests::push_documents(&registry, &r.target, &plan, opts, progress).await;
        let outcome = match pushed {
            Ok(_) => Ok(PushedImage {
                name: r.name.clone(),
                target: r.target.to_string(),
                digest: plan.top().digest.clone(),
                media_type: plan.top().media_type.clone(),
                manifests: plan.documents.len(),
                size: plan.size(),
            }),
            Err(kind) => Err(failure(r, registry.credential_source(), kind)),
        };
        match &outcome {
            Ok(image) => progress.image_done(image),
            Err(e) => progress.image_failed(e),
        }
        done.push(outcome);
    }
    Ok(PushReport {
        results: done,
        transfer,
    })
}

fn failure(r: &PushRequest, credential_source: Option<String>, kind: PushFailure) -> PushError {
    PushError {
        source_name: r.name.clone(),
        target: r.target.to_string(),
        registry: r.target.api_host().to_string(),
        credential_source,
        kind: Box::new(kind),
    }
}

/// A destination named by digest must be the digest the image has.
fn same_digest(r: &PushRequest, plan: ImagePlan) -> Result<ImagePlan, PushFailure> {
    match r.target.digest() {
        Some(d) if *d != plan.top().digest => Err(PushFailure::Unmappable {
            name: r.name.clone(),
            reason: format!(
                "the destination names the digest {d}, but the image is {}",
                plan.top().digest
            ),
        }),
        _ => Ok(plan),
    }
}

/// One connection per destination host that has an image to push.
async fn connect_all(
    requests: &[PushRequest],
    plans: &[Result<ImagePlan, PushError>],
    keychain: &Arc<dyn Keychain>,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> HashMap<String, Result<Arc<Registry>, Arc<PushFailure>>> {
    let mut connections = HashMap::new();
    for (r, _) in requests.iter().zip(plans).filter(|(_, p)| p.is_ok()) {
        let host = r.target.api_host();
        if connections.contains_key(host) {
            continue;
        }
        let connection = connect(&r.target, keychain, opts, progress).await;
        connections.insert(host.to_string(), connection.map_err(Arc::new));
    }
    connections
}

async fn connect(
    target: &ImageRef,
    keychain: &Arc<dyn Keychain>,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<Arc<Registry>, PushFailure> {
    let host = target.api_host();
    let login = Login {
        name: RegistryName::new(target.domain()),
        keychain: keychain.clone(),
    };
    let name = target.to_string();
    let notice = |retry: &Retrying<'_>| progress.retrying(&name, retry);
    let registry = Registry::connect(host, login, &opts.client, &opts.retry, &notice).await?;
    progress.credentials(host, registry.credential_source().as_deref());
    // Authenticate for pushing now, so that refused credentials fail the
    // images here, once, rather than each blob.
    let repo = target.repository();
    opts.retry
        .run(&format!("push access to {repo}"), &notice, async || {
            registry.authorize_push(repo).await
        })
        .await?;
    Ok(Arc::new(registry))
}

/// The blob jobs: each distinct blob per registry once, with every
/// repository (and the images) that need it, in request order.
fn blob_jobs(requests: &[PushRequest], results: &[Outcome]) -> Vec<BlobJob> {
    let mut jobs: Vec<BlobJob> = Vec::new();
    let mut at: HashMap<(String, crate::digest::Digest), usize> = HashMap::new();
    for (i, (r, result)) in requests.iter().zip(results).enumerate() {
        let Ok((plan, registry)) = result else {
            continue;
        };
        let repo = r.target.repository().to_string();
        for blob in &plan.blobs {
            let key = (r.target.api_host().to_string(), blob.digest.clone());
            let job = *at.entry(key).or_insert_with(|| {
                jobs.push(BlobJob {
                    registry: registry.clone(),
                    blob: blob.clone(),
                    targets: Vec::new(),
                    reference: r.target.to_string(),
                });
                jobs.len() - 1
            });
            let targets = &mut jobs[job].targets;
            match targets.iter_mut().find(|(t, _)| *t == repo) {
                Some((_, images)) => images.push(i),
                None => targets.push((repo.clone(), vec![i])),
            }
        }
    }
    jobs
}

/// Each image a blob failure touches fails with it (once, with the first).
fn fail_images(
    results: &mut [Outcome],
    requests: &[PushRequest],
    failures: Vec<BlobFailure>,
    progress: &dyn Progress,
) {
    for f in failures {
        let shared = Arc::new(f.error);
        for i in f.images {
            if let Ok((_, registry)) = &results[i] {
                let kind = PushFailure::Shared(shared.clone());
                let e = failure(&requests[i], registry.credential_source(), kind);
                progress.image_failed(&e);
                results[i] = Err(e);
            }
        }
    }
}
