//! Hostile layers: nothing is ever written outside OUTPUT. Each attack ends
//! in a contained result (the path resolved inside the root, as a chroot
//! would) or a clear error naming the layer and the entry, in bounded time
//! and memory.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde_json::json;

use super::{Fixture, ok};
use crate::support::layers::{self, Compression, dir, file, hardlink, symlink, tar};
use crate::support::text;

const NAME: &str = "docker.io/library/hostile:1";

/// What lies outside OUTPUT that a hostile layer would like to change.
struct Host {
    passwd: Vec<u8>,
    passwd_links: u64,
}

impl Host {
    fn now() -> Host {
        let m = std::fs::metadata("/etc/passwd").unwrap();
        Host {
            passwd: std::fs::read("/etc/passwd").unwrap(),
            passwd_links: m.nlink(),
        }
    }

    fn unchanged(&self) {
        let now = Host::now();
        assert!(
            self.passwd == now.passwd,
            "/etc/passwd of this machine changed"
        );
        assert_eq!(
            self.passwd_links, now.passwd_links,
            "/etc/passwd was hardlinked"
        );
        for p in ["/pwned", "/etc/pwned", "/tmp/pwned", "/etc/passwd-pwned"] {
            assert!(!Path::new(p).exists(), "{p} was written outside OUTPUT");
        }
    }
}

/// Exports an image made of `layers` into `work/out`; returns the fixture,
/// the output path and the export's output.
fn export(layers: &[Vec<u8>]) -> (Fixture, std::path::PathBuf, std::process::Output) {
    let (fx, out, result, _) = export_measured(layers);
    (fx, out, result)
}

/// `export`, with the peak memory of the regpull process in KiB.
fn export_measured(layers: &[Vec<u8>]) -> (Fixture, std::path::PathBuf, std::process::Output, u64) {
    let layers: Vec<(Vec<u8>, Compression)> = layers
        .iter()
        .map(|t| (t.clone(), Compression::Gzip))
        .collect();
    let fx = Fixture::new_in(
        super::fast_tmp(),
        &[(NAME, &layers::image(&layers, json!({})))],
    );
    std::fs::create_dir(fx.path("work")).unwrap();
    std::fs::write(fx.path("work/sentinel"), "outside").unwrap();
    let out = fx.path("work/out");
    let cmd = fx.export_command(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]);
    let (result, rss) = crate::support::run_measured(&cmd);
    (fx, out, result, rss)
}

/// Nothing beside OUTPUT changed, and the machine's files did not either.
fn contained(fx: &Fixture, host: &Host) {
    host.unchanged();
    assert_eq!(super::names(&fx.path("work")), ["out", "sentinel"]);
    assert_eq!(
        std::fs::read_to_string(fx.path("work/sentinel")).unwrap(),
        "outside"
    );
    assert_eq!(super::names(fx.dir.path()), ["oci", "work"]);
}

#[test]
fn dot_dot_and_absolute_names_stay_inside() {
    let host = Host::now();
    let (fx, out, result) = export(&[tar(&[
        file("../../pwned", "a"),
        file("a/../../../etc/pwned", "b"),
        file("/etc/passwd-pwned", "c"),
        file("/tmp/pwned", "d"),
    ])]);
    ok(&result);
    contained(&fx, &host);
    for (p, c) in [
        ("pwned", "a"),
        ("etc/pwned", "b"),
        ("etc/passwd-pwned", "c"),
        ("tmp/pwned", "d"),
    ] {
        assert_eq!(std::fs::read_to_string(out.join(p)).unwrap(), c, "{p}");
    }
}

#[test]
fn files_written_through_symlinks_land_inside() {
    let host = Host::now();
    let (fx, out, result) = export(&[
        tar(&[
            symlink("root-link", "/"),
            file("root-link/pwned", "same layer, through /"),
            symlink("up", "../../../../../.."),
            file("up/tmp/pwned", "same layer, through ../.."),
            dir("etc"),
            file("etc/passwd", "image passwd\n"),
            symlink("etc-link", "/etc"),
        ]),
        tar(&[
            file("etc-link/passwd", "next layer, through /etc\n"),
            file("etc-link/pwned", "next layer"),
            symlink("deep", "up/up/up"),
            file("deep/etc/passwd-pwned", "a chain of links"),
        ]),
    ]);
    ok(&result);
    contained(&fx, &host);
    assert_eq!(
        std::fs::read_to_string(out.join("pwned")).unwrap(),
        "same layer, through /"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("tmp/pwned")).unwrap(),
        "same layer, through ../.."
    );
    assert_eq!(
        std::fs::read_to_string(out.join("etc/passwd")).unwrap(),
        "next layer, through /etc\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("etc/passwd-pwned")).unwrap(),
        "a chain of links"
    );
    assert!(
        std::fs::symlink_metadata(out.join("etc-link"))
            .unwrap()
            .is_symlink()
    );
}

#[test]
fn a_hardlink_to_the_hosts_etc_passwd_is_refused_or_kept_inside() {
    let host = Host::now();
    // The image has no /etc/passwd: the link names nothing inside the root.
    let (fx, _, result) = export(&[tar(&[hardlink("stolen", "/etc/passwd")])]);
    assert_eq!(result.status.code(), Some(7), "{}", text(&result.stderr));
    let err = text(&result.stderr);
    assert!(
        err.contains("layer 1 of 1")
            && err.contains("entry \"stolen\"")
            && err.contains("\"/etc/passwd\""),
        "{err}"
    );
    contained_without_output(&fx, &host);
    // The image has one: the link is to the image's.
    let (fx, out, result) = export(&[tar(&[
        dir("etc"),
        file("etc/passwd", "image\n"),
        hardlink("stolen", "/etc/passwd"),
        hardlink("up", "../../../etc/passwd"),
    ])]);
    ok(&result);
    contained(&fx, &host);
    let ino = |p: &str| std::fs::metadata(out.join(p)).unwrap().ino();
    assert_eq!(ino("stolen"), ino("etc/passwd"));
    assert_eq!(ino("up"), ino("etc/passwd"));
}

/// A failed export leaves no OUTPUT and no staging directory.
fn contained_without_output(fx: &Fixture, host: &Host) {
    host.unchanged();
    assert_eq!(
        super::names(&fx.path("work")),
        ["sentinel"],
        "nothing half-written is left"
    );
}

#[test]
fn a_declared_size_of_one_terabyte_is_an_error_naming_the_entry() {
    let host = Host::now();
    let (fx, _, result) = export(&[tar(
        &[file("huge", vec![b'x'; 1000]).declared_size(1 << 40)],
    )]);
    assert_eq!(result.status.code(), Some(7), "{}", text(&result.stderr));
    let err = text(&result.stderr);
    assert!(
        err.contains("entry \"huge\"") || err.contains("cannot be read as a tar stream"),
        "{err}"
    );
    assert!(err.contains("layer 1 of 1"), "{err}");
    contained_without_output(&fx, &host);
}

#[test]
fn a_tar_bomb_of_a_million_empty_files_is_contained_in_bounded_memory() {
    let host = Host::now();
    let mut entries = Vec::with_capacity(1_001_000);
    for d in 0..1000 {
        entries.push(dir(format!("d{d}")));
        for f in 0..1000 {
            entries.push(file(format!("d{d}/f{f}"), b""));
        }
    }
    let (fx, out, result, rss_kib) = export_measured(&[tar(&entries)]);
    ok(&result);
    contained(&fx, &host);
    assert_eq!(std::fs::read_dir(out.join("d999")).unwrap().count(), 1000);
    let said = text(&result.stderr);
    assert!(said.contains("1000000 files"), "{said}");
    // What grows with the entry count is 8 bytes an entry (the layer's own
    // names, for its whiteouts) and a little per directory.
    assert!(
        rss_kib < 128 * 1024,
        "peak RSS {rss_kib} KiB for a million empty files"
    );
}
