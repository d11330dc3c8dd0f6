//! What regpull's layout store writes is read by the tools people use next:
//! umoci (unpack to a bundle) and skopeo (inspect and copy out).

use crate::support;

use std::fs;
use std::process::Command;

use regpull::Layout;
use support::{image, require_tool, run_ok};

const ALPINE: &str = "docker.io/library/alpine:3.20";
const UBUNTU: &str = "docker.io/library/ubuntu:3.20";

fn two_image_layout() -> (tempfile::TempDir, image::TestImage, image::TestImage) {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path().join("oci")).unwrap();
    let alpine = image::image(
        "linux",
        "amd64",
        &[
            &[("etc/os-release", b"ID=alpine\n")],
            &[("usr/bin/tool", b"#!/bin/sh\necho alpine\n")],
        ],
    );
    let ubuntu = image::image("linux", "amd64", &[&[("etc/os-release", b"ID=ubuntu\n")]]);
    image::store(&layout, ALPINE, &alpine);
    image::store(&layout, UBUNTU, &ubuntu);
    (dir, alpine, ubuntu)
}

#[test]
fn umoci_stats_and_unpacks_each_image_by_name() {
    require_tool("umoci", "umoci");
    let (dir, _, _) = two_image_layout();
    let oci = dir.path().join("oci");
    for (name, expected_id) in [(ALPINE, "ID=alpine\n"), (UBUNTU, "ID=ubuntu\n")] {
        let image_arg = format!("{}:{name}", oci.display());
        let stat = run_ok(Command::new("umoci").args(["stat", "--image", &image_arg]));
        assert!(
            stat.contains("regpull test kit"),
            "umoci stat shows history: {stat}"
        );
        let bundle = dir
            .path()
            .join(format!("bundle-{}", name.replace(['/', ':'], "_")));
        run_ok(
            Command::new("umoci")
                .args(["unpack", "--rootless", "--image", &image_arg])
                .arg(&bundle),
        );
        let os_release = fs::read_to_string(bundle.join("rootfs/etc/os-release")).unwrap();
        assert_eq!(os_release, expected_id);
    }
    let tool = fs::read_to_string(
        dir.path()
            .join(format!("bundle-{}", ALPINE.replace(['/', ':'], "_")))
            .join("rootfs/usr/bin/tool"),
    )
    .unwrap();
    assert!(tool.contains("echo alpine"));
}

#[test]
fn skopeo_inspects_and_copies_each_image_by_name() {
    require_tool("skopeo", "skopeo");
    let (dir, alpine, ubuntu) = two_image_layout();
    let oci = dir.path().join("oci");
    for (name, img) in [(ALPINE, &alpine), (UBUNTU, &ubuntu)] {
        let out = run_ok(
            Command::new("skopeo").args(["inspect", &format!("oci:{}:{name}", oci.display())]),
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["Digest"], img.manifest.digest.to_string());
        let layers: Vec<String> = img.layers.iter().map(|l| l.digest.to_string()).collect();
        assert_eq!(v["Layers"], serde_json::json!(layers));
        assert_eq!(v["Architecture"], "amd64");
    }
    // Copying reads every blob back, so a missing or wrong blob would fail here.
    let copy = dir.path().join("copy");
    run_ok(Command::new("skopeo").args([
        "copy",
        &format!("oci:{}:{ALPINE}", oci.display()),
        &format!("dir:{}", copy.display()),
    ]));
    for layer in &alpine.layers {
        assert_eq!(
            fs::read(copy.join(layer.digest.hex())).unwrap(),
            layer.bytes
        );
    }
}
