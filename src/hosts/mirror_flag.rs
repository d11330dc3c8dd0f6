//! `--mirror REGISTRY=MIRROR`: a mirror named on the command line, tried
//! before any configured one.
//!
//! REGISTRY is a registry domain as references write it (`docker.io`,
//! `nvcr.io`, `localhost:5000`; Docker Hub's other names fold into
//! `docker.io`). MIRROR is `[http(s)://]host[:port][/path]`: `http://` means
//! plain HTTP, and a path is a repository prefix, as a registries.conf
//! `location` is (`docker.io=mirror.example/hub` fetches
//! `docker.io/library/ubuntu` as `mirror.example/hub/library/ubuntu`). The
//! person typing the flag vouches for the mirror: it may answer for tags and
//! serve by digest.

use super::error::HostsError;
use super::prefix::host_and_repository;
use super::source::Source;
use super::url::HostUrl;
use crate::reference::{ImageRef, registry_domain};

/// Splits and checks `REGISTRY=MIRROR` (usable as clap's `value_parser`):
/// the registry domain, normalized, and the mirror as written.
pub fn parse_mirror_flag(s: &str) -> Result<(String, String), HostsError> {
    let bad = |reason: &str| HostsError::MirrorFlag {
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let Some((registry, mirror)) = s.split_once('=') else {
        return Err(bad(
            "expected REGISTRY=MIRROR, as in docker.io=mirror.example",
        ));
    };
    let (registry, mirror) = (registry.trim(), mirror.trim());
    if registry.is_empty()
        || registry.contains(['/', '@', '*'])
        || registry.contains(char::is_whitespace)
    {
        return Err(bad(
            "REGISTRY is a registry domain such as docker.io or localhost:5000, with no scheme or path",
        ));
    }
    if mirror.is_empty() {
        return Err(bad("MIRROR is empty"));
    }
    HostUrl::parse(mirror).map_err(|reason| bad(&format!("MIRROR {reason}")))?;
    Ok((registry_domain(registry), mirror.to_string()))
}

/// A checked `--mirror`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlagMirror {
    pub registry: String,
    url: HostUrl,
    origin: String,
}

impl FlagMirror {
    pub fn new(registry: &str, mirror: &str) -> Result<FlagMirror, HostsError> {
        let (registry, mirror) = parse_mirror_flag(&format!("{registry}={mirror}"))?;
        let url = HostUrl::parse(&mirror).expect("checked by parse_mirror_flag");
        Ok(FlagMirror {
            origin: format!("--mirror {registry}={mirror}"),
            registry,
            url,
        })
    }

    /// The source this mirror is for `image`, if it mirrors its registry.
    pub fn source_for(&self, image: &ImageRef) -> Option<Source> {
        if image.domain() != self.registry {
            return None;
        }
        let repository = match self.url.path.trim_start_matches('/') {
            "" => image.repository().to_string(),
            prefix => format!("{prefix}/{}", image.repository()),
        };
        let (host, repository) = host_and_repository(&self.url.host, &repository);
        Some(Source {
            host,
            repository,
            api_path: "/v2/".into(),
            plain_http: self.url.plain_http,
            skip_verify: false,
            ca_certs: Vec::new(),
            resolve_tags: true,
            by_digest: true,
            upstream: false,
            origin: self.origin.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_normalizes() {
        let (r, m) = parse_mirror_flag("index.docker.io=http://mirror.example:5000/hub").unwrap();
        assert_eq!(
            (r.as_str(), m.as_str()),
            ("docker.io", "http://mirror.example:5000/hub")
        );
        assert_eq!(
            parse_mirror_flag("localhost:5000=m.example").unwrap().0,
            "localhost:5000"
        );
    }

    #[test]
    fn bad_values_name_the_flag_value() {
        for bad in [
            "docker.io",
            "=m.example",
            "docker.io=",
            "https://docker.io=m",
            "docker.io=ftp://m",
        ] {
            let e = parse_mirror_flag(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("--mirror {bad:?}")), "{e}");
        }
    }

    #[test]
    fn a_path_prefixes_the_repository() {
        let m = FlagMirror::new("docker.io", "http://mirror.example/hub").unwrap();
        let s = m.source_for(&ImageRef::parse("ubuntu").unwrap()).unwrap();
        assert_eq!(
            (s.host.as_str(), s.repository.as_str()),
            ("mirror.example", "hub/library/ubuntu")
        );
        assert!(s.plain_http && s.resolve_tags && s.by_digest && !s.upstream);
        assert_eq!(s.origin, "--mirror docker.io=http://mirror.example/hub");
        assert!(
            m.source_for(&ImageRef::parse("quay.io/a/b").unwrap())
                .is_none()
        );
    }
}
