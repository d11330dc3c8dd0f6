//! The pull: the only module that knows both the registry and the layout.
//!
//! Four phases, each a function with its inputs and outputs as types:
//! [`resolve_all`] (references to documents and blobs, or to images already up
//! to date), [`plan::plan`] (distinct blobs, their state on disk, the space
//! they need), [`download_all`] (concurrent verified blobs) and
//! [`record::record_all`] (manifests, then `index.json`). The order is what
//! makes a pull crash-safe: `index.json` changes last, so a pull stopped at any
//! point leaves the layout as valid as before.
//!
//! Each image succeeds or fails on its own: a prefetch list with one bad entry
//! still stores the others, and the report says which failed and why.

mod connect;
mod convert;
mod current;
mod documents;
mod download;
mod error;
mod fetch;
mod hasher;
pub mod inspect;
mod media;
mod pace;
mod plan;
mod probe;
mod progress;
mod ranged;
mod record;
mod report;
mod request;
mod resolve;
mod select;
mod stream;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

pub use convert::REGISTRY_DIGEST_ANNOTATION;
pub use current::SOURCE_ANNOTATION;
pub use error::{ImageError, PullError};
pub use media::ACCEPT;
pub use probe::{Probe, probe};
pub use progress::{Progress, Silent};
pub use report::{PullReport, PulledImage, ResolvedImage, Transfer};
pub use request::{ImageRequest, PullOptions};
pub use resolve::RESOLVE_CONCURRENCY;

use crate::auth::Keychain;
use crate::layout::Layout;
use connect::Connections;
use download::{BlobFailure, download_all};
use request::Wanted;
use resolve::{Outcome, resolve_all};

/// Pulls every request into `layout`, sharing connections, tokens and blob
/// downloads. Fails as a whole only when the layout cannot be used at all
/// (its gc lock, or too little disk for what is missing); otherwise each
/// image's outcome is in the report.
pub async fn pull(
    layout: &Layout,
    requests: &[ImageRequest],
    keychain: Arc<dyn Keychain>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<PullReport, PullError> {
    let whole = |r: Option<&ImageRequest>, kind: ImageError| PullError {
        reference: r.map(|r| r.reference.to_string()).unwrap_or_default(),
        registry: r
            .map(|r| r.reference.api_host().to_string())
            .unwrap_or_default(),
        credential_source: None,
        kind,
    };
    // Held until the pull has recorded its images, so gc cannot delete blobs
    // downloaded but not yet named in index.json.
    let _guard = layout
        .pull_guard()
        .map_err(|e| whole(requests.first(), ImageError::Layout(e)))?;
    let wanted: Vec<Wanted> = requests.iter().map(|r| Wanted::new(r, opts)).collect();

    let mut connections = Connections::new(&keychain, opts);
    let mut results = resolve_all(layout, &wanted, &mut connections, opts, progress).await;

    let plan = plan::plan(layout, &results).map_err(|e| {
        let first = plan_owner(&results).map(|i| &requests[i]);
        whole(first, ImageError::Layout(e))
    })?;

    let failed: Mutex<HashSet<usize>> = Mutex::new(
        (0..results.len())
            .filter(|i| results[*i].is_err())
            .collect(),
    );
    let (mut transfer, blob_failures) = download_all(
        layout,
        plan.jobs,
        &connections,
        opts.jobs,
        &opts.retry,
        progress,
        &failed,
    )
    .await;
    fail_images(&mut results, &wanted, blob_failures, progress);
    for b in plan.kept {
        progress.blob_skipped(&b.digest, b.size);
        transfer.reused(b.size);
    }

    let results = record::record_all(layout, results, &wanted, progress);
    Ok(PullReport { results, transfer })
}

/// The first image that needs a blob: the one a failure to plan is reported for.
fn plan_owner(results: &[Outcome]) -> Option<usize> {
    results
        .iter()
        .position(|r| matches!(r, Ok(resolve::Found::Resolved(_))))
}

/// Each image a blob failure touches fails with it (once, with the first).
fn fail_images(
    results: &mut [Outcome],
    wanted: &[Wanted],
    failures: Vec<BlobFailure>,
    progress: &dyn Progress,
) {
    for f in failures {
        let shared = Arc::new(f.error);
        for i in f.images {
            if let Ok(found) = &results[i] {
                let e = found.fail(&wanted[i], ImageError::Shared(shared.clone()));
                progress.image_failed(&e);
                results[i] = Err(e);
            }
        }
    }
}
