//! `--format rootfs` against the reference implementation: the tree regpull
//! makes of the every-case image equals the one `umoci unpack` makes, and the
//! cases are spelled out one by one as well.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use super::{Fixture, images, ok};
use crate::support::tree::{self, Node};
use crate::support::{require_tool, run_ok};

const NAME: &str = "docker.io/library/every:1";
const UMOCI_NAME: &str = "docker.io/library/every:umoci";
const XATTRS: &[&str] = &["user.comment", "security.capability"];

/// What `export` adds to every root filesystem (Enroot's and Apptainer's
/// runtime files and the mount points Apptainer expects), left out of the
/// comparison with umoci.
pub fn is_runtime_path(p: &str) -> bool {
    const FILES: &[&str] = &[
        "etc/rc",
        "etc/rc.local",
        "etc/environment",
        "etc/fstab",
        "etc/hosts",
        "etc/resolv.conf",
        "singularity",
        "environment",
        ".run",
        ".exec",
        ".shell",
        ".test",
        "proc",
        "sys",
        "root",
        "var",
        "var/tmp",
    ];
    FILES.contains(&p) || p == ".singularity.d" || p.starts_with(".singularity.d/")
}

fn without_runtime(mut l: BTreeMap<String, Node>) -> BTreeMap<String, Node> {
    l.retain(|p, _| !is_runtime_path(p));
    l
}

pub fn umoci_tree(fx: &Fixture, rootless: bool) -> BTreeMap<String, Node> {
    require_tool("umoci", "umoci");
    let bundle = fx.path(if rootless { "umoci-rootless" } else { "umoci" });
    let image = format!("{}:{UMOCI_NAME}", fx.layout.display());
    let mut cmd = Command::new("umoci");
    cmd.args(["unpack", "--image", &image]);
    if rootless {
        cmd.arg("--rootless");
    }
    run_ok(cmd.arg(&bundle));
    tree::listing(&bundle.join("rootfs"), XATTRS)
}

fn every_case_fixture() -> Fixture {
    Fixture::new(&[
        (NAME, &images::every_case(false)),
        (UMOCI_NAME, &images::every_case(true)),
    ])
}

#[test]
fn rootfs_equals_umoci_unpack_of_the_same_layers() {
    let fx = every_case_fixture();
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let mut ours = tree::listing(&out, XATTRS);
    // Only in regpull's copy of the image (umoci 0.4.7 reads no GNU sparse entries).
    assert_eq!(ours.remove("sparse").map(|n| n.kind), Some("file"));
    let theirs = umoci_tree(&fx, false);
    for p in theirs.keys() {
        assert!(
            !is_runtime_path(p),
            "umoci made {p}: the comparison would hide it"
        );
    }
    let differences = tree::diff(&without_runtime(ours), &theirs);
    assert!(
        differences.is_empty(),
        "regpull vs umoci:\n{}",
        differences.join("\n")
    );
}

#[test]
fn every_case_is_applied_as_the_spec_says() {
    let fx = every_case_fixture();
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let l = tree::listing(&out, XATTRS);
    let kind = |p: &str| l.get(p).map(|n| n.kind).unwrap_or("absent");
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    // Whiteouts: a named entry, a whole opaque directory, never the markers.
    assert_eq!(kind("keep/a"), "absent");
    assert_eq!(kind("keep/b"), "file");
    assert_eq!(kind("usr/bin/sg"), "absent");
    let opq: Vec<&str> = l
        .keys()
        .filter(|p| p.starts_with("opq/"))
        .map(String::as_str)
        .collect();
    assert_eq!(opq, ["opq/new", "opq/sub2", "opq/sub2/f"]);
    assert!(
        l.keys().all(|p| !p.contains(".wh.")),
        "a whiteout marker was written"
    );
    // A whiteout spares what its own layer made; one for nothing is harmless.
    assert_eq!(read("mine"), "this layer's");
    // Type replacements, both ways.
    assert_eq!((kind("f2d"), kind("f2d/inner")), ("dir", "file"));
    assert_eq!((kind("d2f"), kind("d2f/x")), ("file", "absent"));
    assert_eq!((kind("s2d"), kind("s2d/inner")), ("dir", "file"));
    assert_eq!(kind("d2s"), "symlink");
    assert_eq!(l["d2s"].detail, "keep");
    // Hardlinks: into a lower layer, and one broken by a replacement.
    let ino = |p: &str| std::fs::metadata(out.join(p)).unwrap().ino();
    assert_eq!(ino("hl-lower"), ino("lower-target"));
    assert_eq!(read("hl-b"), "same-layer link\n");
    assert_eq!(read("hl-a"), "replaced, hl-b keeps the old contents\n");
    // Names.
    assert_eq!(
        read(&format!("long/{}/file", "a".repeat(120))),
        "gnu long name"
    );
    assert_eq!(
        read(&format!("pax/{}/file", "b".repeat(150))),
        "pax long name"
    );
    assert_eq!(kind("weird/\\xff\\xfe-latin1"), "file");
    // Metadata (the test runs as root: owners, devices and capabilities kept).
    assert_eq!(l["usr/bin/tool"].mode, 0o4755);
    assert_eq!(l["tmp"].mode, 0o1777);
    assert_eq!(l["ro"].mode, 0o555);
    assert_eq!(l["secret"].mode, 0);
    assert_eq!(
        (l["home/app/data"].uid, l["home/app/data"].gid),
        (1000, 1000)
    );
    assert_eq!(l["bigid"].uid, 3_000_000);
    assert_eq!(
        (l["dev/null"].kind, l["dev/null"].detail.as_str()),
        ("char", "1:3")
    );
    assert_eq!(
        (l["dev/sda"].kind, l["dev/sda"].detail.as_str()),
        ("block", "8:0")
    );
    assert_eq!(l["run/fifo"].kind, "fifo");
    assert_eq!(
        l["xattr-user"].xattrs,
        [("user.comment".to_string(), b"hello".to_vec())]
    );
    assert_eq!(
        l["xattr-cap"].xattrs,
        [(
            "security.capability".to_string(),
            images::CAP_NET_BIND.to_vec()
        )]
    );
    assert_eq!(
        std::fs::metadata(out.join("etc/os-release"))
            .unwrap()
            .mtime(),
        1_700_000_000
    );
    assert_eq!(
        std::fs::metadata(out.join("ro")).unwrap().mtime(),
        1_700_000_000,
        "directory times are set last"
    );
    // The sparse file reads back whole, and stays sparse on disk.
    let sparse = std::fs::read(out.join("sparse")).unwrap();
    assert_eq!(sparse.len(), 2 << 20);
    assert!(
        sparse[..4096].iter().all(|&b| b == b'a')
            && sparse[1 << 20..(1 << 20) + 4096].iter().all(|&b| b == b'b')
    );
    assert!(sparse[4096..1 << 20].iter().all(|&b| b == 0));
    let allocated = std::fs::metadata(out.join("sparse")).unwrap().blocks() * 512;
    assert!(
        allocated < 1 << 20,
        "{allocated} bytes allocated for 8 KiB of data"
    );
}

/// The test kit's simple layers (as some other writers' do) leave the owner
/// fields of their headers empty: Go's archive/tar and GNU tar read them as
/// 0, and so does regpull.
#[test]
fn empty_owner_fields_are_root() {
    let img = crate::support::image::image("linux", "amd64", &[&[("etc/motd", b"hi\n")]]);
    let fx = Fixture::new(&[(NAME, &img)]);
    let out = fx.path("rootfs");
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]));
    let m = std::fs::metadata(out.join("etc/motd")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (0, 0, 0o644));
    assert_eq!(std::fs::read(out.join("etc/motd")).unwrap(), b"hi\n");
}
