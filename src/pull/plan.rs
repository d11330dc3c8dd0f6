//! Between resolving and downloading: which blobs to fetch for which images,
//! and whether they fit on the disk.

use std::collections::HashMap;

use super::ResolvedImage;
use super::current::Current;
use super::download::{BlobJob, BlobSource};
use super::error::PullError;
use super::resolve::Resolved;
use crate::digest::Digest;
use crate::layout::Layout;

/// What a request amounts to before any blob is fetched.
pub enum Found {
    /// Already in the layout as the registry has it now.
    Current(Box<Current>),
    Resolved(Box<Resolved>),
}

impl Found {
    pub fn current(&self) -> Option<&Current> {
        match self {
            Found::Current(c) => Some(c),
            Found::Resolved(_) => None,
        }
    }
}

/// Every distinct blob the resolved images need, with each registry and
/// repository that serves it and the images needing it from there.
pub fn blob_jobs(results: &[Result<Found, PullError>]) -> Vec<BlobJob> {
    let mut by_digest: HashMap<Digest, usize> = HashMap::new();
    let mut jobs: Vec<BlobJob> = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let Ok(Found::Resolved(r)) = r else { continue };
        for blob in &r.blobs {
            let j = *by_digest.entry(blob.digest.clone()).or_insert_with(|| {
                jobs.push(BlobJob {
                    blob: blob.clone(),
                    sources: Vec::new(),
                });
                jobs.len() - 1
            });
            let sources = &mut jobs[j].sources;
            let same = |s: &&mut BlobSource| {
                s.registry.host() == r.registry.host() && s.repository == r.repository
            };
            match sources.iter_mut().find(same) {
                Some(s) if !s.images.contains(&i) => s.images.push(i),
                Some(_) => {}
                None => sources.push(BlobSource {
                    registry: r.registry.clone(),
                    repository: r.repository.clone(),
                    reference: r.reference.to_string(),
                    images: vec![i],
                }),
            }
        }
    }
    jobs
}

pub fn summary(r: &Resolved) -> ResolvedImage {
    let blobs = r.distinct_blobs();
    ResolvedImage {
        reference: r.reference.to_string(),
        registry: r.reference.api_host().to_string(),
        digest: r.resolved_digest.clone(),
        media_type: r.resolved_media_type.to_string(),
        manifests: r.manifests.clone(),
        blobs: blobs.len(),
        blob_bytes: blobs.iter().map(|b| b.size).sum(),
    }
}

/// Stops before downloading when what is still missing cannot fit on the disk.
pub fn check_space(layout: &Layout, jobs: &[BlobJob]) -> Result<(), crate::layout::LayoutError> {
    use crate::layout::Check;
    let mut needed = 0u64;
    for job in jobs {
        let b = &job.blob;
        if !layout.has_blob(&b.digest, b.size, Check::Size)? {
            needed += b.size.saturating_sub(layout.partial_len(&b.digest));
        }
    }
    match layout.free_space() {
        Some(available) if needed > available => Err(crate::layout::LayoutError::NoSpace {
            path: layout.root().to_path_buf(),
            needed,
            available,
        }),
        _ => Ok(()),
    }
}
