//! The real Distribution registry as a pull-through cache (`proxy: remoteurl`)
//! in front of an upstream that is itself Distribution, in token mode with
//! the kit's token server giving tokens to one user only: the cache's.
//!
//! Distribution 2.8 (Debian's `docker-registry`) takes `proxy: {remoteurl,
//! username, password}`; at start it asks the remote's `/v2/` for its
//! challenge and files the credentials under the Bearer realm it names (it
//! has no Basic auth towards the remote), so the upstream must be up first.
//! It serves a cached blob from its storage (Range honoured); a blob it lacks
//! it streams from the remote to the client (whole, 200, Range ignored) while
//! a second fetch of its own stores it, and each concurrent miss streams it
//! from the remote again. Tags are asked of the remote on every request.
//!
//! What the upstream served is read from its log: Distribution logs each
//! answered request with its method, URI, status, user agent and the bytes
//! of the body it wrote ([`logged`], [`Served`]).

use std::path::PathBuf;

use super::distribution::{Auth, Distribution, TokenRegistry};
use super::image::{Blob, TestImage};
use super::push::{PushAuth, Pusher};

/// The upstream's one user, which the cache logs in as.
pub const USER: &str = "cache-robot";
pub const PASSWORD: &str = "cache-robot-secret";

/// An upstream registry with token auth and a pull-through cache in front.
pub struct ProxySetup {
    pub upstream: TokenRegistry,
    pub cache: Distribution,
}

impl ProxySetup {
    pub async fn start() -> Self {
        let upstream = TokenRegistry::start(Some((USER, PASSWORD))).await;
        let cache = start_cache(&upstream.registry.host, USER, PASSWORD);
        ProxySetup { upstream, cache }
    }

    /// Pushes `img` to the upstream as `repo:tag`, with a token the kit mints.
    pub async fn push(&self, repo: &str, tag: &str, img: &TestImage) {
        let token = self
            .upstream
            .tokens
            .mint(&format!("repository:{repo}:pull,push"));
        let auth = PushAuth::Bearer(Box::new(move |_| token.clone()));
        Pusher::new(&self.upstream.registry.host, None, auth)
            .image(repo, tag, img)
            .await;
    }

    /// Has the cache stored `img`'s blobs (config and layers) for good? A cold
    /// blob is stored by a fetch of the cache's own that may end after the
    /// client's answer did.
    pub fn cache_holds(&self, img: &TestImage) -> bool {
        std::iter::once(&img.config)
            .chain(&img.layers)
            .all(|b| self.cache_holds_blob(b))
    }

    pub fn cache_holds_blob(&self, blob: &Blob) -> bool {
        stored_blob(&self.cache, &blob.digest.to_string()).exists()
    }

    /// What the upstream has served so far, in all.
    pub fn upstream_served(&self) -> Served {
        Served::of(&logged(&self.upstream.registry.log()))
    }
}

/// Distribution as a pull-through cache of the registry at `remote`
/// (`127.0.0.1:PORT`, plain HTTP), logging in there as `user`.
pub fn start_cache(remote: &str, user: &str, password: &str) -> Distribution {
    let proxy = format!(
        "proxy:\n  remoteurl: http://{remote}\n  username: {user}\n  password: {password}\n"
    );
    Distribution::start_with(Auth::Open, false, &proxy)
}

/// Where the filesystem driver keeps a blob's bytes once it is stored.
pub fn stored_blob(reg: &Distribution, digest: &str) -> PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
    reg.data()
        .join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

/// One answered request, as Distribution logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: String,
    pub uri: String,
    pub status: u16,
    /// Body bytes written (for a transfer cut short: those sent before).
    pub written: u64,
    pub user_agent: String,
}

impl Logged {
    pub fn is_blob(&self) -> bool {
        self.uri.contains("/blobs/sha256:")
    }

    pub fn is_manifest(&self) -> bool {
        self.uri.contains("/manifests/")
    }

    /// Was it regpull that asked (not a cache fetching for itself)?
    pub fn by_regpull(&self) -> bool {
        self.user_agent.starts_with("regpull")
    }
}

/// The value of `key=` in a logfmt line: bare, or quoted with `\"` escapes.
fn field<'a>(line: &'a str, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    let pat = format!(" {key}=");
    let at = line.find(&pat)? + pat.len();
    let rest = &line[at..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut end = None;
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let raw = &quoted[..end?];
        Some(std::borrow::Cow::Owned(raw.replace("\\\"", "\"")))
    } else {
        let end = rest.find(' ').unwrap_or(rest.len());
        Some(std::borrow::Cow::Borrowed(&rest[..end]))
    }
}

/// Every request the log records as answered ("response completed", with
/// or without an error), in order.
pub fn logged(log: &str) -> Vec<Logged> {
    log.lines()
        .filter(|l| l.contains("msg=\"response completed"))
        .filter_map(|l| {
            Some(Logged {
                method: field(l, "http.request.method")?.into_owned(),
                uri: field(l, "http.request.uri")?.into_owned(),
                status: field(l, "http.response.status")?.parse().ok()?,
                written: field(l, "http.response.written")
                    .and_then(|w| w.parse().ok())
                    .unwrap_or(0),
                user_agent: field(l, "http.request.useragent")
                    .map(|u| u.into_owned())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// What a registry served, summed from its log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    /// Requests answered, of any kind.
    pub requests: usize,
    /// Body bytes of blob GETs.
    pub blob_bytes: u64,
    /// Blob GETs.
    pub blob_gets: usize,
    /// Manifest requests (GET and HEAD).
    pub manifest_requests: usize,
}

impl Served {
    pub fn of(requests: &[Logged]) -> Served {
        let blob_gets: Vec<&Logged> = requests
            .iter()
            .filter(|r| r.method == "GET" && r.is_blob())
            .collect();
        Served {
            requests: requests.len(),
            blob_bytes: blob_gets.iter().map(|r| r.written).sum(),
            blob_gets: blob_gets.len(),
            manifest_requests: requests.iter().filter(|r| r.is_manifest()).count(),
        }
    }

    /// What was served between `before` and `self`.
    pub fn since(&self, before: &Served) -> Served {
        Served {
            requests: self.requests - before.requests,
            blob_bytes: self.blob_bytes - before.blob_bytes,
            blob_gets: self.blob_gets - before.blob_gets,
            manifest_requests: self.manifest_requests - before.manifest_requests,
        }
    }
}
