//! What the caller asks for: images, each with what it overrides of the
//! pull's options, and the pull's options themselves.

use std::sync::Arc;

use crate::hosts::HostsConfig;
use crate::platform::Platform;
use crate::reference::ImageRef;
use crate::registry::ClientOptions;
use crate::registry::retry::RetryPolicy;

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The platform to pick from a multi-platform image, unless a request says.
    pub platform: Platform,
    /// Keep every platform of an index instead of picking one, for every request.
    pub all_platforms: bool,
    /// Store Docker-typed manifests as the registry sent them, not as OCI.
    pub preserve_digests: bool,
    /// Blobs downloaded at once.
    pub jobs: usize,
    pub client: ClientOptions,
    pub retry: RetryPolicy,
    /// Mirrors and pull-through caches: where each reference may come from.
    pub hosts: Arc<HostsConfig>,
}

/// One image to pull, with what it overrides of the pull's options.
#[derive(Debug, Clone)]
pub struct ImageRequest {
    pub reference: ImageRef,
    /// This image's platform, instead of [`PullOptions::platform`].
    pub platform: Option<Platform>,
    /// Keep every platform of this image.
    pub all_platforms: bool,
}

impl From<ImageRef> for ImageRequest {
    fn from(reference: ImageRef) -> Self {
        ImageRequest {
            reference,
            platform: None,
            all_platforms: false,
        }
    }
}

/// A request with the pull's options applied: what to store of one reference.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub reference: ImageRef,
    pub platform: Platform,
    pub all_platforms: bool,
    pub preserve_digests: bool,
    /// The choice as recorded in `index.json` ([`selection`]), to tell later
    /// whether the stored image is what the same request would store.
    pub selection: String,
}

impl Wanted {
    pub fn new(req: &ImageRequest, opts: &PullOptions) -> Self {
        let platform = req
            .platform
            .clone()
            .unwrap_or_else(|| opts.platform.clone());
        let all_platforms = opts.all_platforms || req.all_platforms;
        Wanted {
            reference: req.reference.clone(),
            selection: selection(&platform, all_platforms, opts.preserve_digests),
            platform,
            all_platforms,
            preserve_digests: opts.preserve_digests,
        }
    }
}

/// The request as it decides what is stored: the platform (or all of them)
/// and whether Docker manifests were kept as they are.
pub fn selection(platform: &Platform, all_platforms: bool, preserve_digests: bool) -> String {
    let platforms = if all_platforms {
        "all-platforms".to_string()
    } else {
        platform.format_all()
    };
    if preserve_digests {
        format!("{platforms}+preserve-digests")
    } else {
        platforms
    }
}
