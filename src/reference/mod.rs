//! Image references (`[registry[:port]/]repository[:tag][@digest]`), read the way
//! the docker CLI reads them.
//!
//! Parsing follows distribution/reference's `ParseNormalizedNamed`: a name with no
//! registry belongs to Docker Hub (`ubuntu` -> `docker.io/library/ubuntu`), the legacy
//! `index.docker.io` is folded into `docker.io`, and a first component counts as a
//! registry only if it holds a `.` or `:`, is `localhost`, or has uppercase letters.
//! The conformance test runs every `ParseNormalizedNamed` vector of the reference
//! implementation through [`ImageRef::parse`].

mod diagnose;
mod grammar;

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

pub use grammar::NAME_TOTAL_LENGTH_MAX;

/// Docker Hub's name in references.
pub const DOCKER_HUB_DOMAIN: &str = "docker.io";
/// The host that actually serves Docker Hub's Registry v2 API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
const LEGACY_DOCKER_HUB_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";

/// Why a string is not an image reference. Each message names the part of the
/// input and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("invalid reference {input:?}: {reason}")]
    InvalidFormat { input: String, reason: String },
    #[error("invalid reference {input:?}: repository name {name:?} must be lowercase")]
    Uppercase { input: String, name: String },
    #[error(
        "invalid reference {input:?}: repository name is {length} characters long, at most {} are allowed",
        NAME_TOTAL_LENGTH_MAX
    )]
    NameTooLong { input: String, length: usize },
    #[error(
        "invalid reference {input:?}: a 64-character hex string is an image ID, not a repository name"
    )]
    HexIdentifier { input: String },
    #[error("invalid reference {input:?}: {source}")]
    Digest {
        input: String,
        #[source]
        source: DigestError,
    },
}

impl ReferenceError {
    /// A stable name for the rule that was broken (the conformance data's `error_kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            ReferenceError::InvalidFormat { .. } => "invalid_format",
            ReferenceError::Uppercase { .. } => "uppercase",
            ReferenceError::NameTooLong { .. } => "name_too_long",
            ReferenceError::HexIdentifier { .. } => "hex_identifier",
            ReferenceError::Digest { source, .. } => match source {
                DigestError::InvalidLength { .. } => "digest_invalid_length",
                DigestError::InvalidFormat { .. } | DigestError::InvalidHex { .. } => {
                    "digest_invalid_format"
                }
                DigestError::Unsupported { .. } => "digest_unsupported",
            },
        }
    }
}

/// What a pull asks the registry for: a tag, or (preferred when both are given) a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target<'a> {
    Tag(&'a str),
    Digest(&'a Digest),
}

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ImageRef {
    /// Parses a reference the way `docker pull` does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if grammar::is_identifier(input) {
            return Err(ReferenceError::HexIdentifier {
                input: input.to_string(),
            });
        }
        let (domain, remainder) = split_docker_domain(input);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if remote_name.to_lowercase() != remote_name {
            return Err(ReferenceError::Uppercase {
                input: input.to_string(),
                name: remote_name.to_string(),
            });
        }
        let full = format!("{domain}/{remainder}");
        parse_strict(&full).map_err(|e| e.for_input(input, &full))
    }

    /// The registry as written in the reference (`docker.io`, `localhost:5000`).
    /// Empty only when the first component looked like a host but is not a valid one
    /// (`my_registry.com/app`), which is then part of the path.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The host (and port) that serves the Registry v2 API for this reference.
    pub fn api_host(&self) -> &str {
        api_host(&self.domain)
    }

    /// The repository path (`library/ubuntu`).
    pub fn repository(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to fetch: the digest when there is one (it is immutable), else the tag,
    /// else `latest`.
    pub fn target(&self) -> Target<'_> {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Target::Digest(d),
            (None, Some(t)) => Target::Tag(t),
            (None, None) => Target::Tag(DEFAULT_TAG),
        }
    }

    /// `domain/path`, or just `path` when there is no domain.
    pub fn name(&self) -> String {
        join_name(&self.domain, &self.path)
    }

    /// The fully qualified form docker stores: `:latest` added when there is neither
    /// tag nor digest, and the tag dropped when a digest pins the content.
    pub fn normalized(&self) -> String {
        let name = self.name();
        match (&self.digest, &self.tag) {
            (Some(d), _) => format!("{name}@{d}"),
            (None, Some(t)) => format!("{name}:{t}"),
            (None, None) => format!("{name}:{DEFAULT_TAG}"),
        }
    }

    /// The short form people type: `docker.io/` and `library/` stripped.
    pub fn familiar(&self) -> String {
        format_ref(
            &self.familiar_name(),
            self.tag.as_deref(),
            self.digest.as_ref(),
        )
    }

    /// The short name: `ubuntu` for `docker.io/library/ubuntu`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DOCKER_HUB_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_ref(
            &self.name(),
            self.tag.as_deref(),
            self.digest.as_ref(),
        ))
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

/// The API host for a registry domain: Docker Hub's is `registry-1.docker.io`.
pub fn api_host(domain: &str) -> &str {
    if domain == DOCKER_HUB_DOMAIN {
        DOCKER_HUB_API_HOST
    } else {
        domain
    }
}

/// A registry as users type it for `login` (`https://index.docker.io/v1/`,
/// `nvcr.io`, `localhost:5000`), reduced to the domain used in references.
pub fn registry_domain(input: &str) -> String {
    let no_scheme = input.split_once("://").map_or(input, |(_, rest)| rest);
    let host = no_scheme
        .split('/')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    match host.as_str() {
        "" | LEGACY_DOCKER_HUB_DOMAIN | DOCKER_HUB_API_HOST => DOCKER_HUB_DOMAIN.to_string(),
        _ => host,
    }
}

fn join_name(domain: &str, path: &str) -> String {
    if domain.is_empty() {
        path.to_string()
    } else {
        format!("{domain}/{path}")
    }
}

fn format_ref(name: &str, tag: Option<&str>, digest: Option<&Digest>) -> String {
    let mut s = name.to_string();
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(&d.to_string());
    }
    s
}

/// docker's `splitDockerDomain`: decides whether the first component is a registry.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((maybe_domain, rest)) = name.split_once('/') else {
        // A single component ("ubuntu:22.04") is always a Docker Hub official image,
        // so that "localhost:5000" reads as image "localhost", tag "5000".
        return (DOCKER_HUB_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == LEGACY_DOCKER_HUB_DOMAIN {
        (DOCKER_HUB_DOMAIN, rest)
    } else if maybe_domain == "localhost"
        || maybe_domain.contains(['.', ':'])
        || maybe_domain.to_lowercase() != maybe_domain
    {
        (maybe_domain, rest)
    } else {
        (DOCKER_HUB_DOMAIN, name)
    };
    if domain == DOCKER_HUB_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_string())
}

/// The errors of the strict grammar, before they are tied back to what the user typed.
enum StrictError {
    Format,
    Uppercase(String),
    TooLong(usize),
    Digest(DigestError),
}

impl StrictError {
    fn for_input(self, input: &str, normalized: &str) -> ReferenceError {
        let input = input.to_string();
        match self {
            StrictError::Format => {
                let reason = diagnose::why_invalid(&input, normalized);
                ReferenceError::InvalidFormat { input, reason }
            }
            StrictError::Uppercase(name) => ReferenceError::Uppercase { input, name },
            StrictError::TooLong(length) => ReferenceError::NameTooLong { input, length },
            StrictError::Digest(source) => ReferenceError::Digest { input, source },
        }
    }
}

/// distribution/reference's `Parse`: the grammar with no defaults.
fn parse_strict(s: &str) -> Result<ImageRef, StrictError> {
    let Some(m) = grammar::match_reference(s) else {
        if grammar::match_reference(&s.to_lowercase()).is_some() {
            let name = s.split(['@', ':']).next().unwrap_or(s);
            return Err(StrictError::Uppercase(name.to_string()));
        }
        return Err(StrictError::Format);
    };
    if m.path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(StrictError::TooLong(m.path.len()));
    }
    let digest = m
        .digest
        .map(Digest::parse)
        .transpose()
        .map_err(StrictError::Digest)?;
    Ok(ImageRef {
        domain: m.domain.to_string(),
        path: m.path.to_string(),
        tag: m.tag.map(str::to_string),
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_hub_names_are_normalized() {
        let r = parse("ubuntu");
        assert_eq!(r.normalized(), "docker.io/library/ubuntu:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.familiar(), "ubuntu");
        assert_eq!(parse("index.docker.io/x").name(), "docker.io/library/x");
        assert_eq!(parse("user/app:1").normalized(), "docker.io/user/app:1");
    }

    #[test]
    fn registries_with_ports_and_ipv6() {
        let r = parse("localhost:5000/x");
        assert_eq!((r.domain(), r.repository()), ("localhost:5000", "x"));
        assert_eq!(r.api_host(), "localhost:5000");
        let r = parse("[::1]:5000/x");
        assert_eq!(r.domain(), "[::1]:5000");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("host:5000/a/b/c:tag@{d}"));
        assert_eq!(r.tag(), Some("tag"));
        assert_eq!(r.target(), Target::Digest(r.digest().unwrap()));
        assert_eq!(r.normalized(), format!("host:5000/a/b/c@{d}"));
    }

    #[test]
    fn a_lone_host_and_port_is_an_image_and_tag() {
        let r = parse("localhost:5000");
        assert_eq!(r.name(), "docker.io/library/localhost");
        assert_eq!(r.tag(), Some("5000"));
    }

    #[test]
    fn errors_name_their_rule() {
        let e = ImageRef::parse("docker/Docker").unwrap_err();
        assert_eq!(e.kind(), "uppercase");
        assert!(e.to_string().contains("docker/Docker"), "{e}");
        let e = ImageRef::parse(&"a".repeat(300)).unwrap_err();
        assert_eq!(e.kind(), "name_too_long");
        let e = ImageRef::parse("ubuntu:-tag").unwrap_err();
        assert!(e.to_string().contains("tag \"-tag\""), "{e}");
    }
}
