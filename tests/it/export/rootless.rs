//! Exports by an unprivileged user (the tests drop to `nobody` with setpriv),
//! from a layout that user can only read: files belong to the user, device
//! nodes are left out, the rest is as `umoci unpack --rootless` makes it, and
//! the layout is not touched.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use super::{Fixture, images, ok};
use crate::support::tree::{self, Node};
use crate::support::{regpull_command, require_tool, run_ok, text, wrapped};

const NAME: &str = "docker.io/library/every:1";
const UMOCI_NAME: &str = "docker.io/library/every:umoci";
const XATTRS: &[&str] = &["user.comment", "security.capability"];
const NOBODY: u32 = 65534;

/// `setpriv` to nobody, with no supplementary groups, ready for a program.
fn as_nobody() -> Command {
    require_tool("setpriv", "util-linux");
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid",
        &NOBODY.to_string(),
        "--regid",
        &NOBODY.to_string(),
        "--clear-groups",
        "--",
    ]);
    cmd
}

/// The every-case fixture, readable (not writable) by nobody, with a
/// directory `out/` that nobody owns.
fn fixture() -> Fixture {
    let fx = Fixture::new(&[
        (NAME, &images::every_case(false)),
        (UMOCI_NAME, &images::every_case(true)),
    ]);
    std::fs::set_permissions(fx.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(fx.path("out")).unwrap();
    std::os::unix::fs::chown(fx.path("out"), Some(NOBODY), Some(NOBODY)).unwrap();
    fx
}

/// Every file of the layout with its size, mode and modification time.
fn layout_state(dir: &Path) -> Vec<(String, u64, u32, i64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            out.push((
                p.display().to_string(),
                m.len(),
                m.mode(),
                m.mtime_nsec() + m.mtime() * 1_000_000_000,
            ));
            if m.is_dir() {
                todo.push(p);
            }
        }
    }
    out.sort();
    out
}

fn export_as_nobody(fx: &Fixture, extra: &[&str]) -> Output {
    let layout = fx.layout.display().to_string();
    let mut args = vec!["export", NAME, "-l", &layout, "--pull", "missing"];
    args.extend_from_slice(extra);
    wrapped(as_nobody(), &regpull_command(&args))
        .output()
        .unwrap()
}

fn umoci_rootless(fx: &Fixture) -> BTreeMap<String, Node> {
    require_tool("umoci", "umoci");
    let bundle = fx.path("out/umoci");
    let image = format!("{}:{UMOCI_NAME}", fx.layout.display());
    run_ok(
        as_nobody()
            .arg("umoci")
            .args(["unpack", "--rootless", "--image", &image])
            .arg(&bundle),
    );
    tree::listing(&bundle.join("rootfs"), XATTRS)
}

#[test]
fn an_unprivileged_rootfs_is_umocis_rootless_tree_without_device_stand_ins() {
    let fx = fixture();
    let before = layout_state(&fx.layout);
    let out = fx.path("out/rootfs");
    let result = export_as_nobody(&fx, &["-o", out.to_str().unwrap(), "--format", "rootfs"]);
    let said = ok(&result);
    assert!(said.contains("2 device nodes left out"), "{said}");
    assert_eq!(
        layout_state(&fx.layout),
        before,
        "the layout was written to"
    );
    let mut ours = tree::listing(&out, XATTRS);
    ours.retain(|p, _| !super::unpack::is_runtime_path(p));
    assert_eq!(ours.remove("sparse").map(|n| n.kind), Some("file"));
    let mut theirs = umoci_rootless(&fx);
    // umoci puts an empty file where each device node was; regpull leaves them out.
    for dev in ["dev/null", "dev/sda"] {
        let stand_in = theirs.remove(dev).unwrap();
        assert_eq!(
            (stand_in.kind, stand_in.detail.as_str()),
            (
                "file",
                "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        );
        assert!(!ours.contains_key(dev), "{dev} was made without root");
    }
    let differences = tree::diff(&ours, &theirs);
    assert!(
        differences.is_empty(),
        "regpull vs umoci --rootless:\n{}",
        differences.join("\n")
    );
    assert!(
        ours.values().all(|n| (n.uid, n.gid) == (NOBODY, NOBODY)),
        "every file is the caller's"
    );
    assert_eq!(ours["usr/bin/tool"].mode, 0o4755);
    assert_eq!(
        ours["xattr-user"].xattrs,
        [("user.comment".to_string(), b"hello".to_vec())]
    );
    assert!(
        ours["xattr-cap"].xattrs.is_empty(),
        "no capability without root"
    );
}

#[test]
fn an_unprivileged_squashfs_is_root_owned_and_keeps_unreadable_files() {
    let fx = fixture();
    let before = layout_state(&fx.layout);
    let sqsh = fx.path("out/every.sqsh");
    ok(&export_as_nobody(&fx, &["-o", sqsh.to_str().unwrap()]));
    assert_eq!(
        layout_state(&fx.layout),
        before,
        "the layout was written to"
    );
    require_tool("unsquashfs", "squashfs-tools");
    let back = fx.path("unsquashed");
    run_ok(
        Command::new("unsquashfs")
            .args(["-no-progress", "-d"])
            .arg(&back)
            .arg(&sqsh),
    );
    let l = tree::listing(&back, XATTRS);
    assert!(
        l.values().all(|n| (n.uid, n.gid) == (0, 0)),
        "-all-root, as enroot makes images"
    );
    // Modes that hide a file from its owner survive, and so do the contents.
    assert_eq!(l["secret"].mode, 0);
    assert_eq!(
        std::fs::read_to_string(back.join("secret")).unwrap(),
        "unreadable"
    );
    assert_eq!(l["ro"].mode, 0o555);
    assert_eq!(l["ro/inner2"].kind, "file");
    assert_eq!(l["usr/bin/tool"].mode, 0o4755);
    assert!(!l.contains_key("dev/null"));
    let listed = text(&run_ok(Command::new("unsquashfs").arg("-lln").arg(&sqsh)).into_bytes());
    assert!(
        listed.contains("squashfs-root/.singularity.d/runscript"),
        "{listed}"
    );
}

/// Root inside a user namespace (a rootless container) cannot chown to the
/// image's ids or make devices: it exports as an unprivileged user does.
#[test]
fn root_in_a_user_namespace_exports_rootless() {
    require_tool("unshare", "util-linux");
    let fx = Fixture::new(&[(NAME, &images::every_case(false))]);
    let out = fx.path("rootfs");
    let mut unshare = Command::new("unshare");
    unshare.args(["--user", "--map-root-user", "--"]);
    let export = fx.export_command(NAME, &["-o", out.to_str().unwrap(), "--format", "rootfs"]);
    let said = ok(&wrapped(unshare, &export).output().unwrap());
    assert!(said.contains("2 device nodes left out"), "{said}");
    let l = tree::listing(&out, XATTRS);
    assert_eq!(
        (l["home/app/data"].uid, l["bigid"].uid),
        (0, 0),
        "ids the namespace cannot map are not tried"
    );
    assert!(!l.contains_key("dev/null"));
}
