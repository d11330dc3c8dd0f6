//! The platform of the machine regpull runs on, named the way images name it.

use super::Platform;

/// This machine's platform in OCI terms (`linux/amd64`, `linux/arm/v7`, ...).
pub fn host() -> Platform {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "loongarch64" => "loong64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        other => other,
    };
    let variant = if architecture == "arm" {
        arm_variant()
    } else {
        String::new()
    };
    Platform::new(os, architecture, &variant)
}

/// 32-bit ARM hosts differ by CPU generation; the kernel tells which.
fn arm_variant() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let arch = cpuinfo
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == "CPU architecture")
        .map(|(_, v)| v.trim().to_string());
    // The kernel prints a bare generation number ("7"); other tools print "armv7".
    let generation = arch.map(|a| {
        if a.chars().all(|c| c.is_ascii_digit()) {
            Ok(a)
        } else {
            cpu_variant_from_arch(&a)
        }
    });
    match generation {
        Some(Ok(n)) if n != "unknown" => format!("v{n}"),
        // Without a readable answer assume v7, the variant images are built for.
        _ => "v7".to_string(),
    }
}

/// The ARM generation named by an architecture string (`armv7`, `AArch64`), as
/// containerd reads it; generations it does not know are `unknown`.
pub fn cpu_variant_from_arch(arch: &str) -> Result<String, String> {
    let lower = arch.to_lowercase();
    if lower == "aarch64" {
        return Ok("8".to_string());
    }
    match lower.strip_prefix("armv") {
        Some(n @ ("8" | "7" | "6" | "5" | "4" | "3")) => Ok(n.to_string()),
        Some(rest) if !rest.is_empty() => Ok("unknown".to_string()),
        _ => Err(format!("unrecognised CPU architecture {arch:?}")),
    }
}
