//! One place an image may be fetched from: a mirror, a pull-through cache,
//! or the upstream registry itself, with what it may be trusted to do.

use std::path::PathBuf;

/// A registry endpoint to try for one reference, in the order
/// [`super::HostsConfig::sources`] returns them (mirrors first, the upstream
/// last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The host (and port) to talk to: `mirror.example:5000`.
    pub host: String,
    /// The repository on that host: the reference's path, rewritten when
    /// the configuration maps a prefix onto a location with a path
    /// (`docker.io/library/ubuntu` at `mirror.example/hub` is
    /// `hub/library/ubuntu`).
    pub repository: String,
    /// The path the Registry v2 API lives under, with its slashes: `/v2/`,
    /// or what a containerd `hosts.toml` host with `override_path` names.
    pub api_path: String,
    /// Plain HTTP (an `http://` location, or `insecure` in registries.conf).
    pub plain_http: bool,
    /// Do not verify its TLS certificate (`skip_verify`, `insecure`).
    pub skip_verify: bool,
    /// Extra CA certificates (PEM) to trust for it (`ca` in hosts.toml).
    pub ca_certs: Vec<PathBuf>,
    /// May it answer "which manifest is this tag"? A mirror that may not
    /// still serves manifests and blobs by digest.
    pub resolve_tags: bool,
    /// May it serve content by digest? (`pull-from-mirror = "tag-only"`
    /// mirrors serve only references by tag.)
    pub by_digest: bool,
    /// The registry the reference names (always tried, last).
    pub upstream: bool,
    /// Where this source was configured, for messages and `-v`:
    /// `--mirror`, `/etc/containers/registries.conf:12`,
    /// `/etc/containerd/certs.d/docker.io/hosts.toml:4`, or `the reference`.
    pub origin: String,
}
