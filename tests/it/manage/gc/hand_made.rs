//! gc on layouts no regpull pull writes: descriptors without media types,
//! nested indexes, artifacts and vendor types.

use crate::support;

use std::fs;

use regpull::Layout;
use serde_json::json;
use support::{image, text};

use super::{
    bare_manifest, gc_deletes_only_what_nothing_reaches, list_events, put, put_image, record,
};

/// The spec lets producers leave `mediaType` out of descriptors (and out of
/// documents). A layout whose index.json entry points at an index without
/// one, whose entries point at manifests without one, keeps every blob those
/// reach through gc, exactly as `verify` and `list` count them.
#[test]
fn gc_keeps_what_descriptors_without_media_types_reach() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let img = image::image("linux", "amd64", &[&[("etc/a", b"a")], &[("etc/b", b"b")]]);
    image::store_blobs(&layout, &img);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"digest": img.manifest.digest.to_string(), "size": img.manifest.bytes.len(),
                        "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    let index_digest = layout.write_blob(&index).unwrap();
    let top: oci_spec::image::Descriptor = serde_json::from_value(serde_json::json!({
        "mediaType": "", "digest": index_digest.to_string(), "size": index.len(),
    }))
    .unwrap();
    layout.add_image("example.com/bare:1", &top).unwrap();
    let o = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("removed 0 unreferenced blobs"),
        "{}",
        text(&o.stdout)
    );
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    let v = support::regpull_command(&["verify", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(v.status.success(), "verify after gc: {}", text(&v.stderr));
}

/// Layouts no regpull pull writes, each kind of descriptor the spec allows
/// or vendors use: the walk decides what is a document by where it stands
/// and what it holds, so gc keeps all of it.
#[test]
fn gc_keeps_everything_hand_made_layouts_reach_whatever_their_media_types() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();

    // An index without mediaType whose entries have none, pointing at
    // manifests whose config and layers have none.
    let index = json!({"schemaVersion": 2, "manifests": [
        bare_manifest(&layout, b"bare one"),
        bare_manifest(&layout, b"bare two"),
    ]});
    record(&layout, "example.com/bare:1", put(&layout, &index, None));

    // An index in an index in an index, typed as a Docker list at the top.
    let leaf = put_image(
        &layout,
        &image::image("linux", "arm64", &[&[("nested", b"deep")]]),
        Some(image::OCI_MANIFEST),
    );
    let inner = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [leaf]}),
        Some(image::OCI_INDEX),
    );
    let middle = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [inner]}),
        None,
    );
    let outer = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [middle]}),
        Some(image::DOCKER_LIST),
    );
    record(&layout, "example.com/nested:1", outer);

    // A signature-like artifact: artifactType, the empty config, a layer of
    // a vendor type, and a subject that no index.json entry names.
    let signed = put_image(
        &layout,
        &image::image("linux", "amd64", &[&[("signed", b"signed")]]),
        Some(image::OCI_MANIFEST),
    );
    let empty = layout.write_blob(b"{}").unwrap();
    let sig = layout.write_blob(b"-----BEGIN SIGNATURE-----").unwrap();
    let artifact = json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_MANIFEST,
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sig.to_string(), "size": 25}],
        "subject": signed,
    });
    record(
        &layout,
        "example.com/app:sig",
        put(&layout, &artifact, Some(image::OCI_MANIFEST)),
    );

    // The draft artifact manifest: `blobs` instead of config and layers.
    let sbom = layout
        .write_blob(b"{\"spdxVersion\":\"SPDX-2.3\"}")
        .unwrap();
    let draft = json!({
        "mediaType": "application/vnd.oci.artifact.manifest.v1+json",
        "artifactType": "application/spdx+json",
        "blobs": [{"mediaType": "application/spdx+json", "digest": sbom.to_string(), "size": 26}],
    });
    record(
        &layout,
        "example.com/app:sbom",
        put(
            &layout,
            &draft,
            Some("application/vnd.oci.artifact.manifest.v1+json"),
        ),
    );

    // A vendor's own media types, on the entry and on what it names.
    let vendor = image::image("linux", "amd64", &[&[("vendor", b"acme")]]);
    image::store_blobs(&layout, &vendor);
    let vendor_manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.acme.manifest+json",
        "config": {"mediaType": "application/vnd.acme.config", "digest": vendor.config.digest.to_string(), "size": vendor.config.bytes.len()},
        "layers": [{"mediaType": "application/vnd.acme.layer", "digest": vendor.layers[0].digest.to_string(), "size": vendor.layers[0].bytes.len()}],
    });
    let vendor_desc = put(
        &layout,
        &vendor_manifest,
        Some("application/vnd.acme.manifest+json"),
    );
    let vendor_index = json!({"schemaVersion": 2, "manifests": [vendor_desc]});
    record(
        &layout,
        "example.com/vendor:1",
        put(
            &layout,
            &vendor_index,
            Some("application/vnd.acme.index+json"),
        ),
    );
    // TestImage's own manifest is not referenced by the vendor manifest.
    fs::remove_file(layout.blob_path(&vendor.manifest.digest)).unwrap();

    let events = list_events(&root);
    let blobs_of = |name: &str| {
        events.iter().find(|e| e["name"] == name).unwrap()["blobs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        blobs_of("example.com/bare:1"),
        7,
        "index, 2 manifests, their configs and layers"
    );
    assert_eq!(
        blobs_of("example.com/nested:1"),
        6,
        "3 indexes, manifest, config, layer"
    );
    assert_eq!(
        blobs_of("example.com/app:sig"),
        6,
        "artifact, empty config, sig, subject's 3"
    );
    assert_eq!(blobs_of("example.com/app:sbom"), 2);
    assert_eq!(blobs_of("example.com/vendor:1"), 4);
    gc_deletes_only_what_nothing_reaches(&root);
}
