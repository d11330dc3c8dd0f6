//! Tar entry names as paths inside the root filesystem. Pure.
//!
//! A layer's names are the image author's, not ours: `/etc/passwd`,
//! `./etc/passwd`, `etc//passwd` and `a/../../etc/passwd` all mean the image's
//! own `etc/passwd`. Like containerd (`filepath.Join("/", name)`) and umoci
//! (SecureJoin), `..` stops at the root instead of leaving it. Names are bytes:
//! Linux paths need not be UTF-8, and images carry such names.

/// The cleaned form of a tar entry name: components joined by `/`, no leading
/// or trailing `/`, no `.` or `..`; empty for the root itself.
pub fn clean(raw: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    for comp in raw.split(|&b| b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
            }
            _ => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(comp);
            }
        }
    }
    out
}

/// Splits a cleaned path into its parent and its last component.
pub fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

/// `parent/name`, for cleaned paths.
pub fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parent.len() + 1 + name.len());
    out.extend_from_slice(parent);
    if !parent.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out
}

/// Whether `path` is `ancestor` or lies below it (cleaned paths; the root is
/// everyone's ancestor).
pub fn is_within(path: &[u8], ancestor: &[u8]) -> bool {
    ancestor.is_empty()
        || (path.starts_with(ancestor)
            && (path.len() == ancestor.len() || path[ancestor.len()] == b'/'))
}

/// A path for people: lossy UTF-8, as the tar entry names it.
pub fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_kept_inside_the_root() {
        for (raw, want) in [
            ("etc/passwd", "etc/passwd"),
            ("/etc/passwd", "etc/passwd"),
            ("./etc/passwd", "etc/passwd"),
            ("etc//passwd/", "etc/passwd"),
            ("../../etc/passwd", "etc/passwd"),
            ("a/../../../etc/./passwd", "etc/passwd"),
            ("a/b/../c", "a/c"),
            ("./", ""),
            ("/", ""),
            ("..", ""),
            ("", ""),
        ] {
            assert_eq!(clean(raw.as_bytes()), want.as_bytes(), "{raw:?}");
        }
    }

    #[test]
    fn non_utf8_names_survive() {
        assert_eq!(clean(b"dir/\xff\xfe"), b"dir/\xff\xfe");
    }

    #[test]
    fn split_join_and_within() {
        assert_eq!(split_last(b"a/b/c"), (&b"a/b"[..], &b"c"[..]));
        assert_eq!(split_last(b"c"), (&b""[..], &b"c"[..]));
        assert_eq!(join(b"", b"c"), b"c");
        assert_eq!(join(b"a", b"c"), b"a/c");
        assert!(is_within(b"a/b", b"a"));
        assert!(is_within(b"a", b"a"));
        assert!(is_within(b"a", b""));
        assert!(!is_within(b"ab", b"a"));
        assert!(!is_within(b"a", b"a/b"));
    }
}
