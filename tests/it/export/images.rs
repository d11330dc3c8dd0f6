//! The images the export tests use.

use serde_json::json;

use crate::support::image::TestImage;
use crate::support::layers::{self, Compression, *};

/// A capability value (`cap_net_bind_service+ep`, VFS_CAP_REVISION_2).
pub const CAP_NET_BIND: &[u8] = &[
    0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
];

/// The three layers of the "every case" image, as tar streams: whiteouts and
/// opaque directories across layers, hardlinks into lower layers, every type
/// replacing every other, PAX and GNU long names, non-UTF-8 names, xattrs,
/// owners, setuid bits, devices, a FIFO, a sparse file.
pub fn every_case_layers() -> [Vec<u8>; 3] {
    let long_gnu = format!("long/{}/file", "a".repeat(120));
    let long_pax = format!("pax/{}/file", "b".repeat(150));
    let first = tar(&[
        dir("etc"),
        file("etc/os-release", "ID=test\nVERSION=1\n"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/tool", "#!/bin/sh\necho tool\n").mode(0o4755),
        file("usr/bin/sg", "#!/bin/sh\n").mode(0o2755).owner(0, 50),
        dir("tmp").mode(0o1777),
        dir("opq"),
        file("opq/old1", "old"),
        dir("opq/sub"),
        file("opq/sub/old2", "old"),
        dir("keep"),
        file("keep/a", "a"),
        file("keep/b", "b"),
        file("f2d", "file becoming a directory"),
        dir("d2f"),
        file("d2f/x", "x"),
        symlink("s2d", "keep"),
        dir("d2s"),
        file("d2s/y", "y"),
        file("lower-target", "linked from above\n"),
        file("hl-a", "same-layer link\n"),
        hardlink("hl-b", "hl-a"),
        file(&long_gnu, "gnu long name"),
        file(&long_pax, "pax long name").pax_path(),
        dir("weird"),
        file(b"weird/\xff\xfe-latin1".as_slice(), "not utf-8"),
        file("xattr-user", "x").xattr("user.comment", b"hello"),
        file("xattr-cap", "x")
            .mode(0o755)
            .xattr("security.capability", CAP_NET_BIND),
        dir("home"),
        dir("home/app").owner(1000, 1000).mode(0o750),
        file("home/app/data", "owned").owner(1000, 1000).mode(0o640),
        file("bigid", "pax uid").owner(3_000_000, 3_000_000),
        dir("dev"),
        char_dev("dev/null", 1, 3),
        block_dev("dev/sda", 8, 0),
        dir("run"),
        fifo("run/fifo"),
        file("secret", "unreadable").mode(0o000),
        dir("ro").mode(0o555),
        file("ro/inner", "in a read-only directory"),
    ]);
    let second = tar(&[
        whiteout("keep/a"),
        dir("opq"),
        opaque("opq"),
        file("opq/new", "new"),
        dir("f2d"),
        file("f2d/inner", "now a directory"),
        file("d2f", "now a file"),
        dir("s2d"),
        file("s2d/inner", "symlink became a directory"),
        symlink("d2s", "keep"),
        hardlink("hl-lower", "lower-target"),
        file("ro/inner2", "added to a read-only directory"),
        whiteout("ghost"),
        file("mine", "this layer's"),
        whiteout("mine"),
        dir("implicit-parent/deeper"),
        file("implicit-parent/deeper/f", "parents not listed"),
    ]);
    let third = tar(&[
        file("etc/os-release", "ID=test\nVERSION=3\n"),
        whiteout("usr/bin/sg"),
        file("hl-a", "replaced, hl-b keeps the old contents\n"),
        dir("opq/sub2"),
        file("opq/sub2/f", "third layer"),
        symlink("keep/link-to-b", "b"),
    ]);
    [first, second, third]
}

/// The every-case image with gzip, zstd and plain layers, and a fourth with
/// a GNU sparse file. For `umoci`, every layer is gzip (umoci 0.4.7 reads no
/// zstd: the same tar streams, so the same diff_ids and the same tree) and
/// the fourth is left out (umoci 0.4.7 refuses GNU sparse entries).
pub fn every_case(umoci: bool) -> TestImage {
    let [a, b, c] = every_case_layers();
    let mut layers = vec![(a, Compression::Gzip)];
    if umoci {
        layers.extend([(b, Compression::Gzip), (c, Compression::Gzip)]);
    } else {
        let sparse = tar(&[sparse(
            "sparse",
            vec![(0, vec![b'a'; 4096]), (1 << 20, vec![b'b'; 4096])],
            2 << 20,
        )]);
        layers.extend([
            (b, Compression::Zstd),
            (c, Compression::None),
            (sparse, Compression::Gzip),
        ]);
    }
    layers::image(&layers, json!({"Cmd": ["/bin/sh"]}))
}

/// A runnable image: busybox-static as /bin/busybox with /bin/sh, and a
/// config whose Entrypoint, Cmd, Env and WorkingDir the runtime files carry.
pub fn busybox(run: serde_json::Value) -> TestImage {
    crate::support::require_tool("busybox", "busybox-static");
    let path =
        crate::support::run_ok(std::process::Command::new("sh").args(["-c", "command -v busybox"]));
    let bin = std::fs::read(path.trim()).unwrap();
    let base = tar(&[
        dir("bin"),
        file("bin/busybox", &bin).mode(0o755),
        symlink("bin/sh", "busybox"),
        symlink("bin/echo", "busybox"),
        symlink("bin/cat", "busybox"),
        symlink("bin/pwd", "busybox"),
        symlink("bin/env", "busybox"),
        symlink("bin/ls", "busybox"),
        dir("etc"),
        file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        dir("srv"),
        dir("srv/app"),
        file(
            "srv/app/hello.sh",
            "#!/bin/sh\necho \"hello from $PWD: $GREETING\" \"$@\"\n",
        )
        .mode(0o755),
    ]);
    layers::image(&[(base, Compression::Gzip)], run)
}
