//! Says which part of an invalid reference broke which rule.
//!
//! The grammar itself only answers yes or no; users need to know whether the
//! registry, a path component, the tag or the digest is at fault.

use super::grammar::{
    DIGEST_ONLY, DOMAIN_AND_PORT, NAME_TOTAL_LENGTH_MAX, PATH_COMPONENT, TAG_ONLY,
};

const PATH_RULE: &str = "lowercase letters and digits, separated by '.', '_', '__' or '-'";
const TAG_RULE: &str = "up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'";

/// Explains why `input` (read as `normalized` after docker's defaults) is invalid.
pub(super) fn why_invalid(input: &str, normalized: &str) -> String {
    if input.is_empty() {
        return "the reference is empty".to_string();
    }
    if let Some(pos) = input.find(char::is_whitespace) {
        return format!("whitespace at position {pos} (a reference has no spaces)");
    }
    if let Some((scheme, _)) = input.split_once("://") {
        return format!("{scheme:?}:// is a URL scheme; write the reference without it");
    }
    let (name_and_tag, digest) = match normalized.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (normalized, None),
    };
    if let Some(d) = digest {
        if d.is_empty() {
            return "nothing follows '@' (expected a digest such as sha256:<64 hex>)".to_string();
        }
        if !DIGEST_ONLY.is_match(d) {
            return format!("digest {d:?} is not ALGORITHM:HEX with at least 32 hex characters");
        }
    }
    let (name, tag) = split_tag(name_and_tag);
    if let Some(t) = tag {
        if t.is_empty() {
            return "nothing follows ':' (expected a tag)".to_string();
        }
        if !TAG_ONLY.is_match(t) {
            return format!("tag {t:?} is invalid: a tag is {TAG_RULE}");
        }
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 && looks_like_domain(components[0]) {
        let domain = components.remove(0);
        if let Some(reason) = why_bad_domain(domain) {
            return reason;
        }
    }
    for c in &components {
        if c.is_empty() {
            return "the repository path has an empty component (a leading, trailing or doubled '/')"
                .to_string();
        }
        if !PATH_COMPONENT.is_match(c) {
            return format!("repository path component {c:?} is invalid: it must be {PATH_RULE}");
        }
    }
    let path_len = components.join("/").len();
    if path_len > NAME_TOTAL_LENGTH_MAX {
        return format!(
            "the repository path is {path_len} characters, at most {NAME_TOTAL_LENGTH_MAX}"
        );
    }
    "it does not match [REGISTRY[:PORT]/]REPOSITORY[:TAG][@DIGEST]".to_string()
}

/// The tag is what follows the last ':' after the last '/'.
fn split_tag(name_and_tag: &str) -> (&str, Option<&str>) {
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    match name_and_tag[last_slash..].find(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    }
}

fn looks_like_domain(component: &str) -> bool {
    component == "localhost"
        || component.contains(['.', ':', '['])
        || component.to_lowercase() != component
}

fn why_bad_domain(domain: &str) -> Option<String> {
    if DOMAIN_AND_PORT.is_match(domain) {
        return None;
    }
    if domain.starts_with('[') {
        return Some(format!(
            "registry {domain:?} is not a bracketed IPv6 address (hex digits and ':' only, no zone) with an optional :PORT"
        ));
    }
    if let Some((_, port)) = domain.rsplit_once(':')
        && !port.chars().all(|c| c.is_ascii_digit())
    {
        return Some(format!(
            "registry {domain:?} has port {port:?}, which is not a number"
        ));
    }
    Some(format!(
        "registry {domain:?} is not a valid host name: labels of letters, digits and inner '-', separated by '.'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_broken_part() {
        let cases = [
            (
                "ubuntu:",
                "docker.io/library/ubuntu:",
                "nothing follows ':'",
            ),
            ("a/b:.x", "docker.io/a/b:.x", "tag \".x\""),
            ("foo.com:http/bar", "foo.com:http/bar", "port \"http\""),
            (
                "bad_host.com:80/x",
                "bad_host.com:80/x",
                "registry \"bad_host.com:80\"",
            ),
            ("a//b", "docker.io/a//b", "empty component"),
            ("-a/b", "docker.io/-a/b", "component \"-a\""),
            (
                "r.io/x@sha256:bad",
                "r.io/x@sha256:bad",
                "digest \"sha256:bad\"",
            ),
            ("https://x.io/a", "https://x.io/a", "URL scheme"),
        ];
        for (input, normalized, expected) in cases {
            let why = why_invalid(input, normalized);
            assert!(why.contains(expected), "{input}: {why}");
        }
    }
}
