//! Manifests and indexes from the registry, each checked against the digest it
//! was asked by (or the registry's `Docker-Content-Digest`) before anything is
//! read from it, and retried under the pull's policy.

use serde_json::Value;

use super::error::ImageError;
use super::media::{self, ACCEPT, Kind, MAX_MANIFEST_BYTES};
use crate::digest::{Digest, Verifier};
use crate::reference::Target;
use crate::registry::Registry;
use crate::registry::retry::{Notice, RetryPolicy};

/// A document fetched from the registry and checked against its digest.
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The digest the registry knows it by.
    pub digest: Digest,
    pub kind: Kind,
    pub json: Value,
}

/// The retry policy of a request and who hears of its retries.
#[derive(Clone, Copy)]
pub struct Retry<'a> {
    pub policy: &'a RetryPolicy,
    pub notice: Notice<'a>,
}

/// [`fetch_once`], retried on transient failures.
pub async fn fetch(
    registry: &Registry,
    repository: &str,
    target: Target<'_>,
    retry: Retry<'_>,
) -> Result<Fetched, ImageError> {
    let what = format!("manifest of {repository}");
    retry
        .policy
        .run(&what, retry.notice, async || {
            fetch_once(registry, repository, target.clone()).await
        })
        .await
}

/// One GET of a manifest or index, checked: a digest asked for must match; a
/// tag's `Docker-Content-Digest`, when sent, must match too.
async fn fetch_once(
    registry: &Registry,
    repository: &str,
    target: Target<'_>,
) -> Result<Fetched, ImageError> {
    let reference = match &target {
        Target::Tag(t) => t.to_string(),
        Target::Digest(d) => d.to_string(),
    };
    let raw = registry
        .manifest(repository, &reference, ACCEPT, MAX_MANIFEST_BYTES)
        .await?;
    let bytes = raw.bytes;
    let digest = match target {
        Target::Digest(expected) => {
            let actual = hash_like(expected, &bytes);
            if &actual != expected {
                return Err(ImageError::ManifestDigest {
                    expected: expected.clone(),
                    actual,
                });
            }
            actual
        }
        Target::Tag(_) => match raw.digest_header.as_deref().map(Digest::parse) {
            Some(Ok(claimed)) => {
                let actual = hash_like(&claimed, &bytes);
                if actual != claimed {
                    return Err(ImageError::ContentDigestHeader {
                        header: claimed.to_string(),
                        actual,
                    });
                }
                actual
            }
            _ => Digest::sha256_of(&bytes),
        },
    };
    let (kind, json) = media::classify(&bytes, raw.content_type.as_deref())?;
    Ok(Fetched {
        bytes,
        digest,
        kind,
        json,
    })
}

fn hash_like(d: &Digest, bytes: &[u8]) -> Digest {
    let mut v = Verifier::hasher(d.algorithm());
    v.update(bytes);
    v.finish()
}
