//! Canonical names for operating systems and architectures, as containerd spells them.

/// Lowercases and folds aliases (`macOS` -> `darwin`).
pub(crate) fn normalize_os(os: &str) -> String {
    let os = os.to_lowercase();
    match os.as_str() {
        "macos" => "darwin".to_string(),
        _ => os,
    }
}

/// Folds architecture aliases and the variants that mean "the baseline".
///
/// `arm64` with `v8` is plain `arm64` (v8 is the only baseline), while bare `arm`
/// becomes `arm/v7`, the variant almost every 32-bit ARM image is built for.
pub(crate) fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let arch = arch.to_lowercase();
    let variant = variant.to_lowercase();
    let (a, v): (&str, &str) = match arch.as_str() {
        "i386" => ("386", ""),
        "x86_64" | "x86-64" | "amd64" => ("amd64", if variant == "v1" { "" } else { &variant }),
        "aarch64" | "arm64" => (
            "arm64",
            match variant.as_str() {
                "8" | "v8" | "v8.0" => "",
                "9" | "9.0" | "v9.0" => "v9",
                other => other,
            },
        ),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => (
            "arm",
            match variant.as_str() {
                "" | "7" => "v7",
                "5" => "v5",
                "6" => "v6",
                "8" => "v8",
                other => other,
            },
        ),
        other => (other, &variant),
    };
    (a.to_string(), v.to_string())
}

/// Operating systems a one-word specifier may name (Go's GOOS list).
pub(crate) fn is_known_os(os: &str) -> bool {
    matches!(
        os,
        "aix"
            | "android"
            | "darwin"
            | "dragonfly"
            | "freebsd"
            | "hurd"
            | "illumos"
            | "ios"
            | "js"
            | "linux"
            | "nacl"
            | "netbsd"
            | "openbsd"
            | "plan9"
            | "solaris"
            | "wasip1"
            | "windows"
            | "zos"
    )
}

/// Architectures a one-word specifier may name (Go's GOARCH list).
pub(crate) fn is_known_arch(arch: &str) -> bool {
    matches!(
        arch,
        "386"
            | "amd64"
            | "amd64p32"
            | "arm"
            | "armbe"
            | "arm64"
            | "arm64be"
            | "ppc64"
            | "ppc64le"
            | "loong64"
            | "mips"
            | "mipsle"
            | "mips64"
            | "mips64le"
            | "mips64p32"
            | "mips64p32le"
            | "ppc"
            | "riscv"
            | "riscv64"
            | "s390"
            | "s390x"
            | "sparc"
            | "sparc64"
            | "wasm"
    )
}
