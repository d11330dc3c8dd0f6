//! Images pushed whole and read back: skopeo sees the same bytes (so the same
//! digests) the layout holds, and regpull pulls them back unchanged. OCI and
//! Docker media types, single- and multi-platform, Basic over TLS and Bearer.

use super::{Dest, Source, layout_digest, new_layout, sha256, support};

use serde_json::Value;
use support::image;

fn sample() -> image::TestImage {
    image::image(
        "linux",
        "amd64",
        &[
            &[("etc/hello", b"hello from layer one\n")],
            &[("usr/share/big", &image::noise(3, 300_000))],
        ],
    )
}

#[test]
fn an_oci_image_goes_to_a_basic_auth_registry_over_tls_and_comes_back_the_same() {
    let img = sample();
    let source = Source::start();
    source.image("team/app", "1.0", &img);
    let (_dir, layout) = new_layout();
    let name = source.pull("team/app:1.0", &layout, &[]);
    let digest = layout_digest(&layout, &name);
    assert_eq!(digest, img.manifest.digest.to_string());

    let dest = Dest::htpasswd();
    let target = format!("{}/copies/app:1.0", dest.host);
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&["push", "-l", l, &name, &target]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.no_secret();
    assert_eq!(r.stdout.trim(), format!("{target} {digest}"));
    assert!(r.stderr.contains("uploaded 3 blobs"), "{}", r.stderr);

    let raw = dest.skopeo_inspect("copies/app:1.0", true);
    assert_eq!(sha256(raw.as_bytes()), digest, "the same manifest bytes");
    let inspected: Value =
        serde_json::from_str(&dest.skopeo_inspect("copies/app:1.0", false)).unwrap();
    assert_eq!(inspected["Architecture"], "amd64");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
    assert_eq!(dest.pull_back("copies/app:1.0"), digest);
}

#[test]
fn a_multi_platform_index_goes_to_a_token_registry_with_every_manifest() {
    let idx = image::multi_platform(false);
    let source = Source::start();
    source.index("multi/app", "v1", &idx);
    let (_dir, layout) = new_layout();
    let name = source.pull("multi/app:v1", &layout, &["--all-platforms"]);
    let digest = layout_digest(&layout, &name);
    assert_eq!(digest, idx.index.digest.to_string());

    let dest = Dest::token();
    let target = format!("{}/mirror/multi:v1", dest.host);
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&["push", "-l", l, &name, &target, "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.no_secret();
    // Every child (three platforms and an attestation) before the index.
    let manifests = r.digests("push_manifest");
    let children: Vec<String> = idx
        .images
        .iter()
        .map(|(_, i)| i.manifest.digest.to_string())
        .collect();
    assert_eq!(manifests.len(), children.len() + 1, "{manifests:?}");
    assert_eq!(manifests.last().unwrap(), &digest, "the index goes last");
    for child in &children {
        assert!(manifests.contains(child), "{child} was pushed");
        let raw = dest.skopeo_inspect(&format!("mirror/multi@{child}"), true);
        assert_eq!(&sha256(raw.as_bytes()), child);
    }
    let done = r.of_type("push_image_done");
    assert_eq!(done[0]["digest"], digest.as_str());
    assert_eq!(done[0]["manifests"], children.len() + 1);

    let raw = dest.skopeo_inspect("mirror/multi:v1", true);
    assert_eq!(sha256(raw.as_bytes()), digest);
    assert_eq!(dest.pull_back("mirror/multi:v1"), digest);
}

#[test]
fn docker_typed_manifests_keep_their_media_types_and_digests() {
    let idx = image::multi_platform(true);
    let source = Source::start();
    source.index("legacy/app", "2", &idx);
    let (_dir, layout) = new_layout();
    let name = source.pull(
        "legacy/app:2",
        &layout,
        &["--all-platforms", "--preserve-digests"],
    );
    let digest = layout_digest(&layout, &name);
    assert_eq!(digest, idx.index.digest.to_string());

    let dest = Dest::htpasswd();
    let target = format!("{}/legacy/app:2", dest.host);
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&["push", "-l", l, &name, &target, "--json"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let types: Vec<&str> = r
        .of_type("push_manifest")
        .iter()
        .map(|e| e["media_type"].as_str().unwrap())
        .collect();
    assert_eq!(types.last(), Some(&image::DOCKER_LIST));
    assert!(
        types[..types.len() - 1]
            .iter()
            .all(|t| *t == image::DOCKER_MANIFEST),
        "{types:?}"
    );

    let raw = dest.skopeo_inspect("legacy/app:2", true);
    assert_eq!(sha256(raw.as_bytes()), digest);
    let doc: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(doc["mediaType"], image::DOCKER_LIST);
    let (_, amd64) = &idx.images[0];
    let child = dest.skopeo_inspect(&format!("legacy/app@{}", amd64.manifest.digest), true);
    assert_eq!(
        serde_json::from_str::<Value>(&child).unwrap()["mediaType"],
        image::DOCKER_MANIFEST
    );
    assert_eq!(dest.pull_back("legacy/app:2"), digest);
}

/// DEST without a tag takes SRC's; a single Docker manifest (not an index)
/// keeps its type too.
#[test]
fn a_destination_without_a_tag_takes_the_source_tag() {
    let img = image::docker_image("linux", "arm64", &[&[("f", b"docker typed")]]);
    let source = Source::start();
    source.image("one/app", "7", &img);
    let (_dir, layout) = new_layout();
    let name = source.pull("one/app:7", &layout, &["--preserve-digests"]);
    let dest = Dest::open();
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&["push", "-l", l, &name, &format!("{}/two/app", dest.host)]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let raw = dest.skopeo_inspect("two/app:7", true);
    assert_eq!(sha256(raw.as_bytes()), img.manifest.digest.to_string());
}
