//! Platforms (`os[(version+feature)]/arch[/variant]`): parsing, normalizing,
//! detecting the host, and ranking an index's entries for a wanted platform.
//!
//! The rules are containerd's (`containerd/platforms`), which docker and nerdctl
//! use for pulls, so `--platform` means here what it means there. The conformance
//! tests run containerd's own vectors through this module.

mod host;
mod matcher;
mod names;
mod oci;

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

pub use host::{cpu_variant_from_arch, host};
pub use matcher::{MatchComparer, rank};

/// One platform, as an index entry declares it or a user asks for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: String,
    pub os_version: String,
    pub os_features: Vec<String>,
}

/// Why a platform specifier could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error(
        "invalid platform {input:?}: wildcards are not supported; name one platform such as linux/amd64"
    )]
    Wildcard { input: String },
    #[error(
        "invalid platform {input:?}: {part:?} is not a valid {what} (letters, digits, '_', '.', '-')"
    )]
    BadComponent {
        input: String,
        part: String,
        what: &'static str,
    },
    #[error("invalid platform {input:?}: {word:?} is neither a known OS nor a known architecture")]
    Unknown { input: String, word: String },
    #[error("invalid platform {input:?}: expected at most OS/ARCH/VARIANT")]
    TooManyParts { input: String },
}

static COMPONENT: LazyLock<Regex> = LazyLock::new(|| Regex::new("^[A-Za-z0-9_.-]+$").unwrap());
static OS_AND_OPTIONS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$").unwrap()
});

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: &str) -> Self {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.to_string(),
            ..Default::default()
        }
    }

    /// Parses a specifier; a lone OS or architecture is completed from this host.
    pub fn parse(spec: &str) -> Result<Self, PlatformError> {
        Self::parse_with_host(spec, &host())
    }

    /// Parses a specifier, completing a lone OS or architecture from `host`.
    pub fn parse_with_host(spec: &str, host: &Platform) -> Result<Self, PlatformError> {
        let input = || spec.to_string();
        if spec.contains('*') {
            return Err(PlatformError::Wildcard { input: input() });
        }
        let parts: Vec<&str> = spec.splitn(4, '/').collect();
        let caps =
            OS_AND_OPTIONS
                .captures(parts[0])
                .ok_or_else(|| PlatformError::BadComponent {
                    input: input(),
                    part: parts[0].to_string(),
                    what: "OS component",
                })?;
        let mut p = Platform {
            os: names::normalize_os(&caps[1]),
            os_version: percent_decode(caps.get(2).map_or("", |m| m.as_str())),
            ..Default::default()
        };
        if let Some(features) = caps.get(3).filter(|m| !m.as_str().is_empty()) {
            p.os_features = features.as_str()[1..]
                .split('+')
                .map(percent_decode)
                .collect();
        }
        for part in &parts[1..] {
            if !COMPONENT.is_match(part) {
                return Err(PlatformError::BadComponent {
                    input: input(),
                    part: part.to_string(),
                    what: "architecture or variant",
                });
            }
        }
        match parts.len() {
            1 if names::is_known_os(&p.os) => {
                p.architecture = host.architecture.clone();
                if p.architecture == "arm" && host.variant != "v7" {
                    p.variant = host.variant.clone();
                }
            }
            1 => {
                let (arch, variant) = names::normalize_arch(parts[0], "");
                if !names::is_known_arch(&arch) {
                    return Err(PlatformError::Unknown {
                        input: input(),
                        word: parts[0].to_string(),
                    });
                }
                p = Platform {
                    os: host.os.clone(),
                    variant: if arch == "arm" && variant == "v7" {
                        String::new()
                    } else {
                        variant
                    },
                    architecture: arch,
                    ..Default::default()
                };
            }
            2 => {
                let (arch, variant) = names::normalize_arch(parts[1], "");
                p.variant = if arch == "arm" && variant == "v7" {
                    String::new()
                } else {
                    variant
                };
                p.architecture = arch;
            }
            3 => {
                let (arch, variant) = names::normalize_arch(parts[1], parts[2]);
                p.variant = if arch == "arm64" && variant.is_empty() {
                    "v8".into()
                } else {
                    variant
                };
                p.architecture = arch;
            }
            _ => return Err(PlatformError::TooManyParts { input: input() }),
        }
        Ok(p)
    }

    /// The canonical form used for matching: aliases folded, features sorted and unique.
    pub fn normalize(&self) -> Platform {
        let (architecture, variant) = names::normalize_arch(&self.architecture, &self.variant);
        let mut os_features = self.os_features.clone();
        os_features.sort();
        os_features.dedup();
        Platform {
            os: names::normalize_os(&self.os),
            architecture,
            variant,
            os_version: self.os_version.clone(),
            os_features,
        }
    }

    /// `os/arch[/variant]` with the OS version and features too: `windows(10.0.17763)/amd64`.
    pub fn format_all(&self) -> String {
        let mut options = encode_option(&self.os_version);
        let mut features = self.os_features.clone();
        features.sort();
        for f in features {
            options.push('+');
            options.push_str(&encode_option(&f));
        }
        if options.is_empty() {
            return self.to_string();
        }
        join_path(&[
            &format!("{}({options})", self.os),
            &self.architecture,
            &self.variant,
        ])
    }

    /// The entries buildkit adds for attestations and provenance, which no host runs.
    pub fn is_unknown(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }
}

impl fmt::Display for Platform {
    /// `os/arch[/variant]`, containerd's `Format`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.os.is_empty() {
            return f.write_str("unknown");
        }
        f.write_str(&join_path(&[&self.os, &self.architecture, &self.variant]))
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Platform::parse(s)
    }
}

fn join_path(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/")
}

/// OS versions and features may carry `+()/%`, escaped so the specifier stays readable.
fn encode_option(v: &str) -> String {
    v.replace('%', "%25")
        .replace('+', "%2B")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('/', "%2F")
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd64_host() -> Platform {
        Platform::new("linux", "amd64", "")
    }

    #[test]
    fn parses_the_common_forms() {
        let h = amd64_host();
        let p = Platform::parse_with_host("linux/arm64/v8", &h).unwrap();
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(p.normalize().to_string(), "linux/arm64");
        assert_eq!(
            Platform::parse_with_host("armhf", &h)
                .unwrap()
                .normalize()
                .to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse_with_host("x86_64", &h).unwrap().to_string(),
            "linux/amd64"
        );
        let w = Platform::parse_with_host("windows(10.0.17763+win32k)", &h).unwrap();
        assert_eq!(w.format_all(), "windows(10.0.17763+win32k)/amd64");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let h = amd64_host();
        let e = Platform::parse_with_host("linux//arm", &h).unwrap_err();
        assert!(
            e.to_string().contains("\"\" is not a valid architecture"),
            "{e}"
        );
        assert!(matches!(
            Platform::parse_with_host("bogus", &h),
            Err(PlatformError::Unknown { .. })
        ));
        assert!(matches!(
            Platform::parse_with_host("a/b/c/d", &h),
            Err(PlatformError::TooManyParts { .. })
        ));
    }
}
