//! The document phase: an image's manifests, then the index that lists them,
//! each with its exact bytes and media type; the top one under the target's
//! tag (or digest), the others by digest. A document the registry already
//! holds under that name (HEAD answers its digest) is not sent again.

use super::error::PushFailure;
use super::plan::{Document, ImagePlan};
use super::progress::Progress;
use super::request::PushOptions;
use crate::reference::{ImageRef, Target};
use crate::registry::Registry;
use crate::registry::retry::Retrying;

/// Pushes every document of `plan`, children first; the number sent.
pub async fn push_documents(
    registry: &Registry,
    target: &ImageRef,
    plan: &ImagePlan,
    opts: &PushOptions,
    progress: &dyn Progress,
) -> Result<usize, PushFailure> {
    let repo = target.repository();
    let name = target.to_string();
    let notice = |r: &Retrying<'_>| progress.retrying(&name, r);
    let top = plan.documents.len() - 1;
    let mut sent = 0;
    for (i, doc) in plan.documents.iter().enumerate() {
        let reference = match target.target() {
            Target::Tag(tag) if i == top => tag.to_string(),
            _ => doc.digest.to_string(),
        };
        let at = if i == top {
            name.clone()
        } else {
            format!("{}@{}", target.name(), doc.digest)
        };
        let pushed = put_document(registry, repo, &reference, doc, opts, &notice)
            .await
            .map_err(|e| PushFailure::Manifest {
                digest: doc.digest.clone(),
                source: Box::new(e),
            })?;
        progress.manifest_finished(&at, &doc.digest, &doc.media_type, pushed);
        sent += usize::from(pushed);
    }
    Ok(sent)
}

/// HEAD, then PUT unless the registry holds this very document there.
async fn put_document(
    registry: &Registry,
    repo: &str,
    reference: &str,
    doc: &Document,
    opts: &PushOptions,
    notice: crate::registry::retry::Notice<'_>,
) -> Result<bool, PushFailure> {
    let what = format!("manifest of {repo}");
    let held = opts
        .retry
        .run(&what, notice, async || {
            registry
                .pushed_manifest(repo, reference, &doc.media_type)
                .await
        })
        .await?;
    if held.as_ref() == Some(&doc.digest) {
        return Ok(false);
    }
    opts.retry
        .run(&what, notice, async || {
            registry
                .put_manifest(repo, reference, &doc.bytes, &doc.media_type)
                .await
        })
        .await?;
    Ok(true)
}
