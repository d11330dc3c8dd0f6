//! `--format squashfs`, read back by `unsquashfs` (squashfs-tools): the same
//! tree as the rootfs export, every compressor, the same bytes twice under
//! SOURCE_DATE_EPOCH, and a clear error without mksquashfs.

use std::process::Command;

use super::{Fixture, images, ok};
use crate::support::tree;
use crate::support::{require_tool, run_ok, text};

const NAME: &str = "docker.io/library/every:1";
const XATTRS: &[&str] = &["user.comment", "security.capability"];

fn unsquash(file: &std::path::Path, dest: &std::path::Path) {
    require_tool("unsquashfs", "squashfs-tools");
    run_ok(
        Command::new("unsquashfs")
            .args(["-no-progress", "-d"])
            .arg(dest)
            .arg(file),
    );
}

#[test]
fn unsquashfs_gives_back_the_rootfs_with_its_runtime_files() {
    let fx = Fixture::new(&[(NAME, &images::every_case(false))]);
    let (dir, sqsh) = (fx.path("rootfs"), fx.path("every.sqsh"));
    ok(&fx.export(NAME, &["-o", dir.to_str().unwrap(), "--format", "rootfs"]));
    // The format comes from the name.
    let said = ok(&fx.export(NAME, &["-o", sqsh.to_str().unwrap()]));
    assert!(said.contains("as squashfs"), "{said}");
    let back = fx.path("unsquashed");
    unsquash(&sqsh, &back);
    let differences = tree::diff(&tree::listing(&dir, XATTRS), &tree::listing(&back, XATTRS));
    assert!(
        differences.is_empty(),
        "rootfs vs unsquashfs:\n{}",
        differences.join("\n")
    );
    assert!(back.join(".singularity.d/runscript").is_file() && back.join("etc/rc").is_file());
    assert!(
        !fx.dir.path().join(".every.sqsh.regpull-tmp").exists(),
        "the staging directory is removed"
    );
}

#[test]
fn every_compressor_is_used_as_asked() {
    let fx = Fixture::new(&[(NAME, &images::every_case(false))]);
    for comp in ["gzip", "lzo", "xz", "zstd"] {
        let sqsh = fx.path(&format!("{comp}.sqsh"));
        ok(&fx.export(
            NAME,
            &["-o", sqsh.to_str().unwrap(), "--squashfs-comp", comp],
        ));
        let stats = run_ok(Command::new("unsquashfs").arg("-s").arg(&sqsh));
        assert!(
            stats.contains(&format!("Compression {comp}")),
            "{comp}: {stats}"
        );
    }
}

#[test]
fn source_date_epoch_makes_the_same_bytes_twice() {
    let fx = Fixture::new(&[(NAME, &images::every_case(false))]);
    let export = |name: &str| {
        let out = fx.path(name);
        let env = [("SOURCE_DATE_EPOCH", "1700000000")];
        ok(&fx.export_env(NAME, &["-o", out.to_str().unwrap()], &env));
        std::fs::read(out).unwrap()
    };
    let first = export("a.sqsh");
    // Another second: without SOURCE_DATE_EPOCH the superblock and the runtime
    // files would carry the new time.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let second = export("b.sqsh");
    assert!(
        first == second,
        "two exports under SOURCE_DATE_EPOCH differ"
    );
    let stats = run_ok(
        Command::new("unsquashfs")
            .env("TZ", "UTC")
            .arg("-s")
            .arg(fx.path("a.sqsh")),
    );
    assert!(stats.contains("Tue Nov 14 22:13:20 2023"), "{stats}");
}

#[test]
fn a_missing_mksquashfs_is_named_with_its_package_and_leaves_nothing() {
    let fx = Fixture::new(&[(NAME, &images::every_case(false))]);
    let sqsh = fx.path("none.sqsh");
    let out = fx.export_env(
        NAME,
        &["-o", sqsh.to_str().unwrap()],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("`mksquashfs` is not installed")
            && err.contains("squashfs-tools")
            && !err.contains("unpacking layer"),
        "{err}"
    );
    assert_eq!(
        super::names(fx.dir.path()),
        ["oci"],
        "nothing half-written is left"
    );
}
