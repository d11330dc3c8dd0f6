//! The reference grammar of distribution/reference, as anchored regular expressions.
//!
//! These mirror `regexp.go` of distribution/reference piece by piece so that a name
//! is accepted here exactly when docker accepts it. Go's `\w` is ASCII-only, so the
//! classes are spelled out instead of using Rust's Unicode `\w`.

use std::sync::LazyLock;

use regex::Regex;

const ALPHANUMERIC: &str = "[a-z0-9]+";
/// `.`, `_`, `__` or a run of `-` between alphanumerics of a path component.
const SEPARATOR: &str = "(?:[._]|__|[-]+)";
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const IPV6: &str = r"\[(?:[a-fA-F0-9:]+)\]";
pub(crate) const TAG: &str = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";

/// The longest repository path docker accepts (the domain does not count).
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

fn path_component() -> String {
    format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*")
}

fn domain_and_port() -> String {
    format!("(?:{DOMAIN_COMPONENT}(?:\\.{DOMAIN_COMPONENT})*|{IPV6})(?::[0-9]+)?")
}

fn remote_name() -> String {
    let pc = path_component();
    format!("{pc}(?:/{pc})*")
}

fn anchored(pattern: &str) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("grammar regex compiles")
}

static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!("(?:{}/)?{}", domain_and_port(), remote_name());
    anchored(&format!("({name})(?::({TAG}))?(?:@({DIGEST}))?"))
});

static NAME: LazyLock<Regex> =
    LazyLock::new(|| anchored(&format!("(?:({})/)?({})", domain_and_port(), remote_name())));

pub(crate) static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| anchored(&path_component()));
pub(crate) static DOMAIN_AND_PORT: LazyLock<Regex> = LazyLock::new(|| anchored(&domain_and_port()));
pub(crate) static TAG_ONLY: LazyLock<Regex> = LazyLock::new(|| anchored(TAG));
pub(crate) static DIGEST_ONLY: LazyLock<Regex> = LazyLock::new(|| anchored(DIGEST));
static IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| anchored("[a-f0-9]{64}"));

/// The pieces of a reference that matched the grammar, before any validation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Matched<'a> {
    pub domain: &'a str,
    pub path: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Matches the whole reference grammar; `None` when `input` is not a reference.
pub(crate) fn match_reference(input: &str) -> Option<Matched<'_>> {
    let caps = REFERENCE.captures(input)?;
    let name = caps.get(1)?.as_str();
    let (domain, path) = match NAME.captures(name) {
        Some(n) => (n.get(1).map_or("", |m| m.as_str()), n.get(2)?.as_str()),
        None => ("", name),
    };
    Some(Matched {
        domain,
        path,
        tag: caps.get(2).map(|m| m.as_str()),
        digest: caps.get(3).map(|m| m.as_str()),
    })
}

/// True when the whole input is 64 lowercase hex characters: an image ID, not a name.
pub(crate) fn is_identifier(input: &str) -> bool {
    IDENTIFIER.is_match(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_domain_only_where_the_grammar_allows_one() {
        let m = match_reference("localhost:5000/a/b:tag").unwrap();
        assert_eq!(
            (m.domain, m.path, m.tag),
            ("localhost:5000", "a/b", Some("tag"))
        );
        // `_` is not allowed in a host name, so the first component stays in the path.
        let m = match_reference("my_registry.com/app").unwrap();
        assert_eq!((m.domain, m.path), ("", "my_registry.com/app"));
    }

    #[test]
    fn word_class_is_ascii_only() {
        assert!(match_reference("a:t\u{e9}g").is_none());
    }
}
