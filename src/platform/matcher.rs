//! Which platforms a wanted platform accepts, and in what order of preference.
//!
//! [`MatchComparer::only`] is containerd's `platforms.Only`, the default of docker
//! and containerd pulls: the exact platform first, then what the CPU also runs
//! (amd64/vN accepts lower N and 386; arm/vN accepts down to v5; arm64/v8 accepts
//! arm/v8..v5; arm64/v9.x accepts v9.0..x and v8.0..x+5, at most v8.9). Where containerd and
//! containers/image disagree (an arm/v7 host and an index holding both a
//! variant-less `arm` entry and `arm/v6`), we follow containerd: a variant-less
//! `arm` entry *is* v7 after normalization, so it is the exact match, and picking
//! v6 would run slower code on a v7 CPU for no reason.

use std::cmp::Ordering;

use super::Platform;

/// The first Windows build (Server 2022) whose containers run on later hosts too.
const WINDOWS_LTSC2022: u16 = 20348;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct WindowsVersion {
    major: u8,
    minor: u8,
    build: u16,
}

impl WindowsVersion {
    fn parse(v: &str) -> Option<Self> {
        let mut it = v.split('.');
        let version = WindowsVersion {
            major: it.next()?.parse().ok()?,
            minor: it.next()?.parse().ok()?,
            build: it.next()?.parse().ok()?,
        };
        Some(version)
    }

    /// Can a container built for `ctr` run on this host? (process isolation rules)
    fn runs(&self, ctr: &WindowsVersion) -> bool {
        if self.major != ctr.major || self.minor != ctr.minor {
            return false;
        }
        if self.build < WINDOWS_LTSC2022 {
            return self.build == ctr.build;
        }
        ctr.build >= WINDOWS_LTSC2022 && ctr.build <= self.build
    }
}

/// Accepts platforms equal to one platform after normalization.
#[derive(Debug, Clone)]
struct Matcher {
    platform: Platform,
    /// Only the OS (with its version and features) must agree.
    os_only: bool,
    windows: Option<WindowsVersion>,
}

impl Matcher {
    fn new(platform: &Platform, os_only: bool) -> Self {
        let windows = if platform.os == "windows" {
            WindowsVersion::parse(&platform.os_version)
        } else {
            None
        };
        Matcher {
            platform: platform.normalize(),
            os_only,
            windows,
        }
    }

    fn matches(&self, candidate: &Platform) -> bool {
        let c = candidate.normalize();
        let m = &self.platform;
        let same_cpu = self.os_only || (m.architecture == c.architecture && m.variant == c.variant);
        m.os == c.os
            && same_cpu
            && self.os_version_ok(candidate)
            && is_subset(&c.os_features, &m.os_features)
    }

    fn os_version_ok(&self, candidate: &Platform) -> bool {
        match (&self.windows, candidate.os_version.as_str()) {
            (None, _) | (_, "") => true,
            (Some(host), v) => WindowsVersion::parse(v).is_some_and(|ctr| host.runs(&ctr)),
        }
    }
}

/// Both lists sorted and deduplicated (as `normalize` leaves them).
fn is_subset(wanted: &[String], offered: &[String]) -> bool {
    wanted.iter().all(|f| offered.binary_search(f).is_ok())
}

/// An ordered list of acceptable platforms: matches any, prefers earlier ones.
#[derive(Debug, Clone)]
pub struct MatchComparer {
    matchers: Vec<Matcher>,
}

impl MatchComparer {
    /// The platform and everything its CPU can also run, best first.
    pub fn only(platform: &Platform) -> Self {
        let vector = compatible(&platform.normalize());
        MatchComparer {
            matchers: vector.iter().map(|p| Matcher::new(p, false)).collect(),
        }
    }

    /// Exactly this platform (after normalization), nothing lower.
    pub fn only_strict(platform: &Platform) -> Self {
        MatchComparer {
            matchers: vec![Matcher::new(platform, false)],
        }
    }

    /// Any architecture of this OS, the exact platform first.
    pub fn only_os(platform: &Platform) -> Self {
        MatchComparer {
            matchers: vec![Matcher::new(platform, false), Matcher::new(platform, true)],
        }
    }

    pub fn matches(&self, candidate: &Platform) -> bool {
        self.matchers.iter().any(|m| m.matches(candidate))
    }

    /// True when `a` is preferred to `b`: matched by an earlier entry, or by the
    /// same entry with more OS features; failing both, compared without features.
    pub fn less(&self, a: &Platform, b: &Platform) -> bool {
        for m in &self.matchers {
            let (am, bm) = (m.matches(a), m.matches(b));
            if am && !bm {
                return true;
            }
            if am || bm {
                return am && bm && a.os_features.len() > b.os_features.len();
            }
        }
        if a.os_features.is_empty() && b.os_features.is_empty() {
            return false;
        }
        let strip = |p: &Platform| Platform {
            os_features: Vec::new(),
            ..p.clone()
        };
        self.less(&strip(a), &strip(b))
    }

    /// `less` as a total order for stable sorting.
    pub fn compare(&self, a: &Platform, b: &Platform) -> Ordering {
        if self.less(a, b) {
            Ordering::Less
        } else if self.less(b, a) {
            Ordering::Greater
        } else {
            Ordering::Equal
        }
    }
}

/// The index positions an index's entries should be tried in for `wanted`:
/// matching entries best first, then entries that declare no platform (a lone
/// manifest in an index often has none). Entries that match nothing are left out.
pub fn rank(entries: &[Option<Platform>], comparer: &MatchComparer) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].as_ref().is_none_or(|p| comparer.matches(p)))
        .collect();
    kept.sort_by(|&i, &j| match (&entries[i], &entries[j]) {
        (Some(a), Some(b)) => comparer.compare(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
    kept
}

fn with_variant(p: &Platform, architecture: &str, variant: String) -> Platform {
    Platform {
        architecture: architecture.to_string(),
        variant,
        ..p.clone()
    }
}

fn variant_number(variant: &str) -> Option<u32> {
    variant.strip_prefix('v').unwrap_or(variant).parse().ok()
}

/// containerd's `platformVector`: `p` followed by what the same CPU also runs.
fn compatible(p: &Platform) -> Vec<Platform> {
    let mut out = vec![p.clone()];
    match p.architecture.as_str() {
        "amd64" => {
            if let Some(n) = variant_number(&p.variant).filter(|n| *n > 1) {
                out.extend(
                    (1..n)
                        .rev()
                        .map(|k| with_variant(p, "amd64", format!("v{k}"))),
                );
            }
            out.push(with_variant(p, "386", String::new()));
        }
        "arm" => {
            if let Some(n) = variant_number(&p.variant).filter(|n| *n > 5) {
                out.extend(
                    (5..n)
                        .rev()
                        .map(|k| with_variant(p, "arm", format!("v{k}"))),
                );
            }
        }
        "arm64" => out.extend(arm64_compatible(p)),
        _ => {}
    }
    out
}

fn arm64_compatible(p: &Platform) -> Vec<Platform> {
    let mut out = Vec::new();
    let variant = if p.variant.is_empty() {
        "v8"
    } else {
        p.variant.as_str()
    };
    let (major_s, minor_s) = match variant.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (variant, None),
    };
    let arm64 = |major: u32, minor: u32| {
        let v = if minor == 0 {
            format!("v{major}")
        } else {
            format!("v{major}.{minor}")
        };
        with_variant(p, "arm64", v)
    };
    if let Some(mut major) = variant_number(major_s).filter(|m| *m >= 8) {
        // Only a `vN.M` variant of exactly four characters carries a minor version.
        let mut minor = match minor_s {
            Some(m) if variant.len() == 4 => m.parse().unwrap_or(0),
            _ => 0,
        };
        if major == 9 {
            out.extend((0..minor).rev().map(|k| arm64(9, k)));
            // v9.0 forked from v8.5, so v9.x runs everything v8.(x+5) runs; the v8
            // line itself ends at v8.9.
            minor = (minor + 5).min(9);
            major = 8;
            out.push(with_variant(p, "arm64", format!("v8.{minor}")));
        }
        out.extend((0..minor).rev().map(|k| arm64(major, k)));
    }
    let arm_variant = if variant.starts_with("v8.") || variant.starts_with("v9.") {
        "v8"
    } else {
        variant
    };
    out.extend(compatible(&with_variant(p, "arm", arm_variant.to_string())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        Platform::parse_with_host(s, &Platform::new("linux", "amd64", "")).unwrap()
    }

    #[test]
    fn arm64_host_accepts_32_bit_arm_but_prefers_its_own() {
        let want = MatchComparer::only(&p("linux/arm64"));
        let entries = vec![
            Some(p("linux/arm/v7")),
            Some(p("linux/arm64/v8")),
            Some(p("unknown/unknown")),
        ];
        assert_eq!(rank(&entries, &want), vec![1, 0]);
    }

    #[test]
    fn entries_without_platform_come_last() {
        let want = MatchComparer::only(&p("linux/amd64"));
        let entries = vec![None, Some(p("linux/386")), Some(p("linux/amd64"))];
        assert_eq!(rank(&entries, &want), vec![2, 1, 0]);
    }
}
