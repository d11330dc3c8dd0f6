//! The first phase of a pull: every reference resolved to what it needs, or to
//! the image already stored as the registry has it now.
//!
//! Pinned digests already stored need no registry at all; the other
//! references share one connection per registry host, and at most
//! [`RESOLVE_CONCURRENCY`] manifest requests are in flight.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;

use super::connect::{Connection, connect_all};
use super::current::{self, Current};
use super::documents::{self, Resolved};
use super::error::{ImageError, PullError};
use super::fetch::Retry;
use super::progress::Progress;
use super::request::{PullOptions, Wanted};
use crate::auth::Keychain;
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

/// Resolves every request, in request order; failures are reported as they are found.
pub async fn resolve_all(
    layout: &Layout,
    wanted: &[Wanted],
    keychain: &Arc<dyn Keychain>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Vec<Outcome> {
    let mut pinned = Vec::with_capacity(wanted.len());
    for w in wanted {
        pinned.push(current::check(layout, None, &w.reference, &w.selection).await);
    }
    let to_connect = wanted.iter().zip(&pinned).filter(|(_, p)| p.is_none());
    let connections = connect_all(
        to_connect.map(|(w, _)| &w.reference),
        keychain,
        opts,
        progress,
    )
    .await;
    let resolving = wanted
        .iter()
        .zip(pinned)
        .map(|(w, pinned)| resolve_one(layout, w, pinned, &connections, opts, progress));
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

async fn resolve_one(
    layout: &Layout,
    wanted: &Wanted,
    pinned: Option<Current>,
    connections: &HashMap<String, Connection>,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Outcome {
    let r = &wanted.reference;
    let current = |c: Current| {
        progress.resolved(&c.resolved_image(r));
        Found::Current(Box::new(c))
    };
    if let Some(c) = pinned {
        return Ok(current(c));
    }
    let registry = connections[r.api_host()]
        .clone()
        .map_err(|e| PullError::new(r, None, ImageError::Shared(e)))?;
    let name = r.to_string();
    let notice = |retry: &Retrying<'_>| progress.retrying(&name, retry);
    let retry = Retry {
        policy: &opts.retry,
        notice: &notice,
    };
    // A digest was checked against the layout alone; a tag needs HEAD.
    if r.digest().is_none()
        && let Some(c) =
            current::check(layout, Some((&registry, retry)), r, &wanted.selection).await
    {
        return Ok(current(c));
    }
    let resolved = documents::resolve(registry.clone(), r, wanted, retry)
        .await
        .map_err(|e| PullError::new(r, registry.credential_source(), e))?;
    progress.resolved(&resolved.summary());
    Ok(Found::Resolved(Box::new(resolved)))
}
