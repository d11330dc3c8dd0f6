//! The first phase of a pull: every reference resolved to what it needs, or to
//! the image already stored as the registry has it now.
//!
//! Pinned digests already stored need no registry at all; the other
//! references are resolved at the first of their sources (mirrors, then the
//! upstream) that can, sharing one connection per source, and at most
//! [`RESOLVE_CONCURRENCY`] manifest requests are in flight.

use futures_util::StreamExt;

use super::connect::{Connections, Origin};
use super::current::{self, Current};
use super::documents::{self, Resolved};
use super::error::{ImageError, PullError};
use super::fetch::Retry;
use super::progress::Progress;
use super::request::{PullOptions, Wanted};
use crate::hosts::Source;
use crate::layout::Layout;
use crate::registry::retry::Retrying;

/// References resolved at once (manifest requests in flight), in request order.
pub const RESOLVE_CONCURRENCY: usize = 8;

/// What a request amounts to before any blob is fetched.
pub enum Found {
    /// Already in the layout as the registry has it now.
    Current(Box<Current>),
    Resolved(Box<Resolved>),
}

/// A request resolved, or why it cannot be pulled.
pub type Outcome = Result<Found, PullError>;

impl Found {
    pub fn current(&self) -> Option<&Current> {
        match self {
            Found::Current(c) => Some(c),
            Found::Resolved(_) => None,
        }
    }

    /// A failure of this image from here on, naming the credential it used.
    pub fn fail(&self, wanted: &Wanted, kind: ImageError) -> PullError {
        let source = match self {
            Found::Resolved(r) => r.registry.credential_source(),
            Found::Current(_) => None,
        };
        PullError::new(&wanted.reference, source, kind)
    }
}

/// Resolves every request, in request order; failures are reported as they
/// are found. `connections` gains every source the requests may use.
pub async fn resolve_all(
    layout: &Layout,
    wanted: &[Wanted],
    connections: &mut Connections,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Vec<Outcome> {
    let mut pinned = Vec::with_capacity(wanted.len());
    for w in wanted {
        pinned.push(current::check(layout, None, &w.reference, &w.selection).await);
    }
    // Boxed: a failure here is rare, and PullError is large.
    let origins: Vec<Result<Vec<Origin>, Box<PullError>>> = wanted
        .iter()
        .map(|w| {
            let r = &w.reference;
            let sources = opts
                .hosts
                .sources(r)
                .map_err(|e| Box::new(PullError::new(r, None, ImageError::Sources(e))))?;
            Ok(connections.add(r, &sources))
        })
        .collect();
    let connections = &*connections;
    let resolving =
        wanted
            .iter()
            .zip(pinned)
            .zip(origins)
            .map(|((w, pinned), origins)| async move {
                let origins = origins.map_err(|e| *e)?;
                resolve_one(layout, w, pinned, origins, connections, opts, progress).await
            });
    // A list of hundreds of images must not become hundreds of simultaneous
    // manifest requests: registries rate-limit bursts.
    let results: Vec<Outcome> = futures_util::stream::iter(resolving)
        .buffered(RESOLVE_CONCURRENCY)
        .collect()
        .await;
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        progress.image_failed(e);
    }
    results
}

/// Resolves one reference at the first of its sources that can: a mirror
/// that cannot (down, an error after retries, not found, wrong bytes) is
/// skipped for the next, and only the upstream's failure is final.
async fn resolve_one(
    layout: &Layout,
    wanted: &Wanted,
    pinned: Option<Current>,
    origins: Vec<Origin>,
    connections: &Connections,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Outcome {
    let r = &wanted.reference;
    let current = |c: Current, source: &str| {
        progress.resolved(&c.resolved_image(r, source));
        Found::Current(Box::new(c))
    };
    if let Some(c) = pinned {
        return Ok(current(c, "the layout"));
    }
    let name = r.to_string();
    let notice = |retry: &Retrying<'_>| progress.retrying(&name, retry);
    let retry = Retry {
        policy: &opts.retry,
        notice: &notice,
    };
    let by_tag = r.digest().is_none();
    let blob_origins: Vec<Origin> = origins
        .iter()
        .filter(|o| o.source.by_digest)
        .cloned()
        .collect();
    let mut last = None;
    for origin in origins.iter().filter(|o| may_resolve(&o.source, by_tag)) {
        let source = &origin.source;
        let registry = match connections.get(origin, progress).await {
            Ok(registry) => registry,
            Err(e) => {
                last = Some(PullError::new(r, None, ImageError::Shared(e)));
                continue;
            }
        };
        // A digest was checked against the layout alone; a tag needs HEAD.
        if by_tag
            && let Some(c) = current::check(
                layout,
                Some((&registry, &source.repository, retry)),
                r,
                &wanted.selection,
            )
            .await
        {
            return Ok(current(c, &source.host));
        }
        match documents::resolve(registry.clone(), &source.repository, r, wanted, retry).await {
            Ok(mut resolved) => {
                tracing::info!("{r}: manifests from {}", source.host);
                resolved.blob_origins = blob_origins;
                progress.resolved(&resolved.summary());
                return Ok(Found::Resolved(Box::new(resolved)));
            }
            Err(e) if !source.upstream => {
                tracing::warn!(
                    "{} could not serve the manifest of {r} ({e}); trying the next source",
                    source.host
                );
                progress.source_skipped(&source.host, &format!("manifest of {r}"), &e);
                last = Some(PullError::new(r, registry.credential_source(), e));
            }
            Err(e) => return Err(PullError::new(r, registry.credential_source(), e)),
        }
    }
    Err(last.expect("every reference has its upstream as a source"))
}

/// Whether `source` may answer for a reference by tag (`by_tag`) or by digest.
fn may_resolve(source: &Source, by_tag: bool) -> bool {
    if by_tag {
        source.resolve_tags
    } else {
        source.by_digest
    }
}
