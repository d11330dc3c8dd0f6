//! registries.conf names: which `prefix` a reference falls under, and what
//! the reference becomes at a `location`.
//!
//! The rules follow containers/image (`sysregistriesv2`): a prefix matches
//! the reference written out as `domain/path:tag@digest` when the reference
//! starts with it and goes on with `/`, `:`, `@` or ends there; the longest
//! prefix wins; whatever of the name follows the match is appended to the
//! location. Two deliberate differences, both about ports: containers/image
//! lets `example.com` match `example.com:5000/x` (its code says not to rely
//! on it), regpull does not; and for a `*.example.com` prefix the whole
//! domain, port included, is what the match replaces.

use crate::reference::{ImageRef, api_host};

/// A registries.conf `prefix`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// `host[:port][/namespace...][/repo][:tag|@digest]`
    Name(String),
    /// `*.example.com`, kept as `.example.com`: any subdomain, any depth.
    Wildcard(String),
}

impl Prefix {
    /// Checks a prefix as written (trailing slashes dropped, as
    /// containers/image does).
    pub fn parse(s: &str) -> Result<Prefix, String> {
        let s = no_scheme(s.trim_end_matches('/'))?;
        if s.is_empty() {
            return Err("the prefix is empty".into());
        }
        if let Some(suffix) = s.strip_prefix('*') {
            if !suffix.starts_with('.') || suffix.len() < 2 || suffix.contains(['/', '@', ':', '*'])
            {
                return Err(format!(
                    "a wildcard prefix is `*.example.com` (no port, path, tag or digest), not {s:?}"
                ));
            }
            return Ok(Prefix::Wildcard(suffix.to_string()));
        }
        if s.contains('*') {
            return Err(format!(
                "`*` may only start a prefix (`*.example.com`): {s:?}"
            ));
        }
        check_chars(s)?;
        Ok(Prefix::Name(s.to_string()))
    }

    /// As written in the file (`*.example.com`).
    pub fn as_written(&self) -> String {
        match self {
            Prefix::Name(s) => s.clone(),
            Prefix::Wildcard(s) => format!("*{s}"),
        }
    }

    /// How specific the prefix is: longer wins, as in containers/image
    /// (which measures the prefix as written, `*.` included). On a tie a
    /// name beats a wildcard (containers/image would pick whichever sorts
    /// first, which is the wildcard: `*` sorts before letters).
    pub fn rank(&self) -> (usize, bool) {
        (self.as_written().len(), matches!(self, Prefix::Name(_)))
    }

    /// The part of `image`'s name the prefix does not cover (`""` or
    /// `/rest/of/path`), or `None` when it does not match.
    pub fn unmatched(&self, image: &ImageRef) -> Option<String> {
        let domain = image.domain();
        let name_len = image.name().len();
        match self {
            Prefix::Wildcard(suffix) => {
                let host = domain.rsplit_once(':').map_or(domain, |(h, _)| h);
                let sub = host.strip_suffix(suffix.as_str())?;
                (!sub.is_empty()).then(|| rest_of_name(image, domain.len()))
            }
            Prefix::Name(prefix) => {
                let full = full_reference(image);
                let next = full.strip_prefix(prefix.as_str())?.chars().next();
                let boundary = match next {
                    None | Some('/' | '@') => true,
                    // A `:` right after the domain starts a port, not a tag.
                    Some(':') => prefix.len() > domain.len(),
                    Some(_) => false,
                };
                let start = prefix.len().min(name_len);
                boundary.then(|| rest_of_name(image, start))
            }
        }
    }
}

/// Checks a `location` (trailing slashes dropped): `host[:port][/path]`,
/// no scheme.
pub(crate) fn parse_location(s: &str) -> Result<String, String> {
    let s = no_scheme(s.trim_end_matches('/'))?;
    if s.is_empty() {
        return Err("the location is empty".into());
    }
    if s.starts_with('/') || s.contains(['@', '*']) {
        return Err(format!("a location is `host[:port][/path]`, not {s:?}"));
    }
    check_chars(s)?;
    Ok(s.to_string())
}

/// Where the image is at `location`: its host (Docker Hub's API host for
/// `docker.io`) and repository. `None` when nothing is left for a
/// repository (a location with no path taking a whole name).
pub(crate) fn relocate(location: &str, unmatched: &str) -> Option<(String, String)> {
    let joined = format!("{location}{unmatched}");
    let (host, repository) = joined.split_once('/')?;
    if host.is_empty() || repository.is_empty() {
        return None;
    }
    Some(host_and_repository(host, repository))
}

/// The API host for `host`, and the repository as Docker Hub names it:
/// single-component repositories there live under `library/`.
pub(crate) fn host_and_repository(host: &str, repository: &str) -> (String, String) {
    let api = api_host(host).to_string();
    if host == crate::reference::DOCKER_HUB_DOMAIN && !repository.contains('/') {
        return (api, format!("library/{repository}"));
    }
    (api, repository.to_string())
}

/// `domain/path:tag@digest`, with `:latest` when neither is given: what
/// containers/image matches prefixes against (its docker transport adds
/// the default tag before looking).
fn full_reference(image: &ImageRef) -> String {
    let mut s = image.name();
    match (image.tag(), image.digest()) {
        (Some(t), _) => s.push_str(&format!(":{t}")),
        (None, None) => s.push_str(":latest"),
        (None, Some(_)) => {}
    }
    if let Some(d) = image.digest() {
        s.push_str(&format!("@{d}"));
    }
    s
}

/// What follows the first `start` bytes of `domain/path`.
fn rest_of_name(image: &ImageRef, start: usize) -> String {
    image.name().get(start..).unwrap_or("").to_string()
}

fn no_scheme(s: &str) -> Result<&str, String> {
    if s.contains("://") {
        return Err(format!(
            "{s:?} has a URL scheme; registries.conf takes `host[:port][/path]` (use `insecure = true` for plain HTTP)"
        ));
    }
    Ok(s)
}

fn check_chars(s: &str) -> Result<(), String> {
    match s.chars().find(|c| c.is_whitespace() || c.is_control()) {
        Some(c) => Err(format!("{s:?} contains {c:?}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    fn unmatched(prefix: &str, reference: &str) -> Option<String> {
        Prefix::parse(prefix).unwrap().unmatched(&image(reference))
    }

    #[test]
    fn prefixes_match_at_component_boundaries() {
        let r = "example.com/foo/bar:1";
        assert_eq!(unmatched("example.com", r).as_deref(), Some("/foo/bar"));
        assert_eq!(unmatched("example.com/foo", r).as_deref(), Some("/bar"));
        assert_eq!(unmatched("example.com/foo/bar", r).as_deref(), Some(""));
        assert_eq!(unmatched("example.com/foo/bar:1", r).as_deref(), Some(""));
        assert_eq!(unmatched("example.com/fo", r), None);
        assert_eq!(unmatched("example.com/foo/bar:2", r), None);
        assert_eq!(unmatched("example.co", r), None);
        // `:latest` is implied, as containers/image does.
        assert!(unmatched("example.com/x:latest", "example.com/x").is_some());
        let d = format!("sha256:{}", "a".repeat(64));
        let pinned = format!("example.com/x@{d}");
        assert_eq!(unmatched(&pinned, &pinned).as_deref(), Some(""));
        assert_eq!(unmatched("example.com/x", &pinned).as_deref(), Some(""));
    }

    #[test]
    fn a_host_prefix_does_not_match_the_same_host_on_another_port() {
        assert_eq!(unmatched("example.com", "example.com:5000/x"), None);
        let m = unmatched("example.com:5000", "example.com:5000/x");
        assert_eq!(m.as_deref(), Some("/x"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let p = "*.example.com";
        assert_eq!(unmatched(p, "a.example.com/x").as_deref(), Some("/x"));
        assert_eq!(
            unmatched(p, "a.b.example.com:5000/x").as_deref(),
            Some("/x")
        );
        assert_eq!(unmatched(p, "example.com/x"), None);
        assert_eq!(unmatched(p, "a.example.community/x"), None);
        for bad in [
            "*.example.com/foo",
            "*.example.com:5000",
            "*example.com",
            "a.*.com",
        ] {
            assert!(Prefix::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Prefix::parse("*.example.com").unwrap().rank(), (13, false));
    }

    #[test]
    fn locations_are_host_and_path_without_scheme() {
        assert_eq!(
            parse_location("mirror.example/hub/").unwrap(),
            "mirror.example/hub"
        );
        assert!(parse_location("https://mirror.example").is_err());
        assert!(parse_location("").is_err());
        assert!(parse_location("/path").is_err());
        assert!(Prefix::parse("").is_err());
        assert!(Prefix::parse("http://example.com").is_err());
    }

    #[test]
    fn relocating_appends_the_unmatched_rest() {
        let r = relocate("mirror.example/hub", "/library/ubuntu").unwrap();
        assert_eq!(r, ("mirror.example".into(), "hub/library/ubuntu".into()));
        let r = relocate("docker.io", "/ubuntu").unwrap();
        assert_eq!(r, ("registry-1.docker.io".into(), "library/ubuntu".into()));
        assert_eq!(relocate("mirror.example", ""), None);
    }
}
