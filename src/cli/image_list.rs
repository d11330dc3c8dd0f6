//! Prefetch lists (`regpull pull -f images.txt`): one reference per line.
//!
//! ```text
//! # comments and blank lines are ignored
//! nvcr.io/nvidia/pytorch:24.01-py3
//! alpine:3.20 --platform linux/arm64     # a line's own platform
//! quay.io/org/tool:2 --all-platforms
//! ```
//!
//! A line that cannot be read fails that entry only; the rest are pulled.

use std::collections::HashMap;

use regpull::platform::Platform;
use regpull::reference::ImageRef;

/// One line that names an image.
#[derive(Debug)]
pub struct Entry {
    /// Where it came from, for messages: `images.txt:3`.
    pub origin: String,
    pub text: String,
    pub parsed: Result<Wanted, String>,
    /// The same request as an earlier entry; pulled once.
    pub duplicate: bool,
}

#[derive(Debug, Clone)]
pub struct Wanted {
    pub reference: ImageRef,
    pub platform: Option<Platform>,
    pub all_platforms: bool,
}

/// Reads the lines of a list named `source` (a path, or `-` for stdin).
pub fn parse(source: &str, text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    // Editors on Windows start UTF-8 files with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = match raw.find(" #").or_else(|| raw.find("\t#")) {
            Some(at) => &raw[..at],
            None => raw,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        entries.push(Entry {
            origin: format!("{source}:{}", i + 1),
            text: line.to_string(),
            parsed: parse_line(line),
            duplicate: false,
        });
    }
    entries
}

fn parse_line(line: &str) -> Result<Wanted, String> {
    let mut words = line.split_whitespace();
    let name = words.next().expect("the line is not empty");
    let reference = ImageRef::parse(name).map_err(|e| e.to_string())?;
    let mut wanted = Wanted {
        reference,
        platform: None,
        all_platforms: false,
    };
    while let Some(word) = words.next() {
        let value = match word.split_once('=') {
            Some(("--platform", v)) => Some(v),
            _ if word == "--platform" => Some(
                words
                    .next()
                    .ok_or("--platform needs a value, e.g. --platform linux/arm64")?,
            ),
            _ => None,
        };
        match (word, value) {
            (_, Some(v)) => {
                wanted.platform = Some(Platform::parse(v).map_err(|e| e.to_string())?);
            }
            ("--all-platforms", None) => wanted.all_platforms = true,
            (other, None) => {
                return Err(format!(
                    "unexpected {other:?}: a line is REF [--platform OS/ARCH[/VARIANT]] [--all-platforms]"
                ));
            }
        }
    }
    Ok(wanted)
}

/// Entries that name the same image twice are merged when they agree; a
/// second, different request for one name (another platform) fails, since a
/// layout keeps one image per name.
pub fn check_conflicts(entries: &mut [Entry]) {
    let mut first: HashMap<String, (String, String)> = HashMap::new();
    for e in entries.iter_mut() {
        let Ok(w) = &e.parsed else { continue };
        let name = w.reference.normalized();
        let how = match (&w.platform, w.all_platforms) {
            (_, true) => "--all-platforms".to_string(),
            (Some(p), false) => format!("--platform {p}"),
            (None, false) => "the default platform".to_string(),
        };
        match first.get(&name) {
            None => {
                first.insert(name, (e.origin.clone(), how));
            }
            Some((origin, earlier)) if *earlier != how => {
                e.parsed = Err(format!(
                    "{name} is already requested by {origin} for {earlier}; a layout keeps one image per name: \
                     list it once with --all-platforms to keep several platforms"
                ));
            }
            Some(_) => e.duplicate = true,
        }
    }
}

/// The text of list file `path`, or of stdin for `-` (unless stdin already
/// carries the password).
pub fn read(path: &std::path::Path, password_stdin: bool) -> std::io::Result<String> {
    if path.as_os_str() != "-" {
        return std::fs::read_to_string(path);
    }
    if password_stdin {
        return Err(std::io::Error::other(
            "standard input already carries the password (--password-stdin)",
        ));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_references_options_and_comments() {
        let text = "# nightly prefetch\n\nalpine:3.20\n  nvcr.io/nvidia/pytorch:24.01-py3 --platform linux/arm64 # GPU nodes\nquay.io/org/tool:2 --all-platforms\nx --platform=linux/arm/v7\n";
        let e = parse("list.txt", text);
        assert_eq!(e.len(), 4);
        assert_eq!(e[0].origin, "list.txt:3");
        let w = e[1].parsed.as_ref().unwrap();
        assert_eq!(w.reference.to_string(), "nvcr.io/nvidia/pytorch:24.01-py3");
        assert_eq!(w.platform.as_ref().unwrap().to_string(), "linux/arm64");
        assert!(e[2].parsed.as_ref().unwrap().all_platforms);
        assert_eq!(
            e[3].parsed
                .as_ref()
                .unwrap()
                .platform
                .as_ref()
                .unwrap()
                .to_string(),
            "linux/arm/v7"
        );
    }

    #[test]
    fn windows_files_read_the_same() {
        let e = parse(
            "l",
            "\u{feff}# made in Notepad\r\nalpine:3.20\r\n\tubuntu --platform linux/arm64\r\n",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].origin, "l:2");
        assert!(e.iter().all(|e| e.parsed.is_ok()), "{e:?}");
    }

    #[test]
    fn the_same_name_twice_is_merged_or_refused() {
        let mut e = parse(
            "l",
            "alpine:3.20\ndocker.io/library/alpine:3.20\nalpine:3.20 --platform linux/arm64\n",
        );
        check_conflicts(&mut e);
        assert!(e[0].parsed.is_ok() && !e[0].duplicate);
        assert!(e[1].parsed.is_ok() && e[1].duplicate);
        let err = e[2].parsed.as_ref().unwrap_err();
        assert!(err.contains("already requested by l:1"), "{err}");
    }

    #[test]
    fn a_bad_line_is_an_error_of_that_line_only() {
        let e = parse(
            "l",
            "Bad//Name\nalpine --platform\nalpine --pull always\nalpine\n",
        );
        assert_eq!(e.len(), 4);
        assert!(
            e[0].parsed
                .as_ref()
                .unwrap_err()
                .contains("invalid reference")
        );
        assert!(
            e[1].parsed
                .as_ref()
                .unwrap_err()
                .contains("--platform needs a value")
        );
        assert!(
            e[2].parsed
                .as_ref()
                .unwrap_err()
                .contains("unexpected \"--pull\"")
        );
        assert!(e[3].parsed.is_ok());
    }
}
