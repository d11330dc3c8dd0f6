//! The second phase: which blobs to fetch, from where, for which images, and
//! whether they fit on the disk. Each blob's state on disk is looked at once,
//! here; the download trusts it, and only the per-blob lock looks again (it
//! must: another process may finish the blob in between).

use std::collections::{HashMap, HashSet};

use super::documents::BlobRef;
use super::download::{BlobJob, Candidate};
use super::resolve::{Found, Outcome};
use crate::digest::Digest;
use crate::layout::{Check, Layout, LayoutError};

/// A blob's state in the layout when the pull was planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDisk {
    Whole,
    /// A partial file from an earlier run, this many bytes long.
    Partial(u64),
    Missing,
}

pub struct Plan {
    /// Every distinct blob the resolved images need.
    pub jobs: Vec<BlobJob>,
    /// Blobs of images found up to date that no job fetches: reported as reused.
    pub kept: Vec<BlobRef>,
}

/// Plans the downloads for `results`; fails when what is missing cannot fit on the disk.
pub fn plan(layout: &Layout, results: &[Outcome]) -> Result<Plan, LayoutError> {
    let mut jobs = blob_jobs(results);
    let mut needed = 0u64;
    for job in &mut jobs {
        let b = &job.blob;
        job.on_disk = if layout.has_blob(&b.digest, b.size, Check::Size)? {
            OnDisk::Whole
        } else {
            match layout.partial_len(&b.digest) {
                0 => OnDisk::Missing,
                n => OnDisk::Partial(n),
            }
        };
        needed += match job.on_disk {
            OnDisk::Whole => 0,
            OnDisk::Partial(n) => b.size.saturating_sub(n),
            OnDisk::Missing => b.size,
        };
    }
    if let Some(available) = layout.free_space().filter(|a| needed > *a) {
        return Err(LayoutError::NoSpace {
            path: layout.root().to_path_buf(),
            needed,
            available,
        });
    }
    let fetched: HashSet<&Digest> = jobs.iter().map(|j| &j.blob.digest).collect();
    let mut kept = Vec::new();
    let mut counted = HashSet::new();
    for c in results.iter().flatten().filter_map(Found::current) {
        for b in c.layer_and_config_blobs() {
            // A blob another image also needs is reported by its download.
            if !fetched.contains(&b.digest) && counted.insert(b.digest.clone()) {
                kept.push(BlobRef {
                    digest: b.digest.clone(),
                    size: b.size,
                });
            }
        }
    }
    Ok(Plan { jobs, kept })
}

/// Every distinct blob the resolved images need, with each source that may
/// serve it (mirrors first, the upstream last) and the images needing it
/// from there.
fn blob_jobs(results: &[Outcome]) -> Vec<BlobJob> {
    let mut by_digest: HashMap<Digest, usize> = HashMap::new();
    let mut jobs: Vec<BlobJob> = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let Ok(Found::Resolved(r)) = r else { continue };
        for blob in &r.blobs {
            let j = *by_digest.entry(blob.digest.clone()).or_insert_with(|| {
                jobs.push(BlobJob {
                    blob: blob.clone(),
                    on_disk: OnDisk::Missing,
                    sources: Vec::new(),
                });
                jobs.len() - 1
            });
            let sources = &mut jobs[j].sources;
            for origin in &r.blob_origins {
                let same = |s: &&mut Candidate| {
                    s.origin.source.host == origin.source.host
                        && s.origin.source.repository == origin.source.repository
                };
                match sources.iter_mut().find(same) {
                    Some(s) if !s.images.contains(&i) => s.images.push(i),
                    Some(_) => {}
                    None => sources.push(Candidate {
                        origin: origin.clone(),
                        reference: r.reference.to_string(),
                        images: vec![i],
                    }),
                }
            }
        }
    }
    jobs
}
