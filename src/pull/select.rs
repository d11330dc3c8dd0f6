//! Which entry of an index to pull for a platform: containerd's ranking over
//! the entries that may run (attestations never), shared by pull and inspect.

use serde_json::Value;

use super::error::ImageError;
use crate::layout::is_attestation;
use crate::platform::{MatchComparer, Platform, rank};

/// The entries of an index a platform may be chosen from (attestations never
/// qualify), and the platform each declares.
pub(super) fn runnable(entries: &[Value]) -> (Vec<&Value>, Vec<Option<Platform>>) {
    let runnable: Vec<&Value> = entries.iter().filter(|e| !is_attestation(e)).collect();
    let platforms = runnable.iter().map(|e| platform_of(e)).collect();
    (runnable, platforms)
}

/// Which of `platforms` to take for `wanted`, by containerd's ranking.
pub(super) fn choose(
    platforms: &[Option<Platform>],
    wanted: &Platform,
) -> Result<usize, ImageError> {
    if let Some(&best) = rank(platforms, &MatchComparer::only(wanted)).first() {
        return Ok(best);
    }
    let mut available: Vec<String> = platforms
        .iter()
        .flatten()
        .filter(|p| !p.is_unknown())
        .map(Platform::format_all)
        .collect();
    // Entries may repeat a platform anywhere in the index, not only side by
    // side: keep the first of each, in index order.
    let mut seen = std::collections::HashSet::new();
    available.retain(|p| seen.insert(p.clone()));
    Err(ImageError::NoMatchingPlatform {
        wanted: wanted.format_all(),
        available,
    })
}

/// The platform an index entry declares, if it has a `platform` object.
pub(super) fn platform_of(entry: &Value) -> Option<Platform> {
    entry.get("platform").and_then(Platform::from_json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_match_lists_each_platform_once_in_index_order() {
        let p = |s: &str| Some(Platform::parse(s).unwrap());
        let platforms = [p("linux/amd64"), p("linux/arm64"), p("linux/amd64")];
        match choose(&platforms, &Platform::parse("linux/s390x").unwrap()) {
            Err(ImageError::NoMatchingPlatform { available, .. }) => {
                assert_eq!(available, ["linux/amd64", "linux/arm64"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
