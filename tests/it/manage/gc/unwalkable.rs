//! gc when a document cannot be read or an image cannot be walked whole.

use crate::support;

use std::fs;

use regpull::Layout;
use serde_json::json;
use support::json_doc::validate;
use support::{image, text};

use super::{list_events, on_layout, put, put_image, record, stored};

/// A document regpull cannot read (Docker schema 1 here) is intact, so what
/// it needs is still known from the digests its text names: gc keeps those,
/// and verify names the document.
#[test]
fn gc_keeps_what_an_unparseable_document_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let kept = image::image("linux", "amd64", &[&[("a", b"a")], &[("b", b"b")]]);
    image::store_blobs(&layout, &kept);
    fs::remove_file(layout.blob_path(&kept.manifest.digest)).unwrap();
    let schema1 = json!({
        "schemaVersion": 1, "name": "library/old", "tag": "1",
        "fsLayers": kept.layers.iter().map(|l| json!({"blobSum": l.digest.to_string()})).collect::<Vec<_>>(),
        "history": [{"v1Compatibility": format!("{{\"config-ish\":\"{}\"}}", kept.config.digest)}],
    });
    let desc = put(
        &layout,
        &schema1,
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    );
    let doc = desc["digest"].as_str().unwrap().to_string();
    record(&layout, "example.com/old:1", desc);
    let before = stored(&root);
    let stray = layout.write_blob(b"stray").unwrap();

    let o = on_layout(&["gc", "--json"], &root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(validate(&text(&o.stdout))[0]["blobs_removed"], 1);
    assert!(!layout.blob_path(&stray).exists());
    assert_eq!(stored(&root), before, "the layers and config it names stay");

    let image = &list_events(&root)[0];
    assert_eq!(image["blobs"], 4, "{image}");
    assert_eq!(image["unreadable_documents"], 1, "{image}");
    let o = on_layout(&["verify", "--json"], &root);
    assert_eq!(o.status.code(), Some(7));
    let events = validate(&text(&o.stdout));
    assert_eq!(events[0]["kind"], "unparseable", "{events:?}");
    assert_eq!(events[0]["digest"], doc.as_str());
}

/// A missing manifest hides which blobs its image needs, and so does a
/// nesting deeper than regpull follows: gc then deletes no blob at all,
/// says which documents stand in the way and exits 7, until the image is
/// repaired or removed.
#[test]
fn gc_deletes_no_blob_while_an_image_cannot_be_walked_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let whole = image::image("linux", "amd64", &[&[("whole", b"whole")]]);
    image::store(&layout, "example.com/whole:1", &whole);
    let broken = image::image("linux", "amd64", &[&[("broken", b"broken")]]);
    image::store(&layout, "example.com/broken:1", &broken);
    fs::remove_file(layout.blob_path(&broken.manifest.digest)).unwrap();
    let orphan = layout.write_blob(b"no image needs this").unwrap();

    let o = on_layout(&["gc", "--json"], &root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 0, "{report}");
    let unknown = report["unknown_documents"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{report}");
    let line = unknown[0].as_str().unwrap();
    assert!(
        line.contains(&broken.manifest.digest.to_string()) && line.contains("missing"),
        "{line}"
    );
    assert!(line.contains("example.com/broken:1"), "{line}");
    assert!(layout.blob_path(&orphan).exists());
    assert!(layout.blob_path(&broken.layers[0].digest).exists());
    let listed = list_events(&root);
    let b = listed
        .iter()
        .find(|e| e["name"] == "example.com/broken:1")
        .unwrap();
    assert_eq!(b["missing_blobs"], 1, "{b}");
    let human = on_layout(&["gc"], &root);
    assert_eq!(human.status.code(), Some(7));
    let stderr = text(&human.stderr);
    assert!(stderr.contains("kept every blob"), "{stderr}");
    assert!(
        stderr.contains("hint: `regpull verify --repair"),
        "{stderr}"
    );

    assert!(layout.remove_image("example.com/broken:1").unwrap());
    let o = on_layout(&["gc", "--json"], &root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        validate(&text(&o.stdout))[0]["blobs_removed"],
        3,
        "orphan, config, layer"
    );
    for blob in whole.blobs() {
        assert!(layout.blob_path(&blob.digest).exists());
    }

    // Ten indexes, each the only entry of the one above it.
    let mut desc = put_image(&layout, &broken, Some(image::OCI_MANIFEST));
    for _ in 0..10 {
        desc = put(
            &layout,
            &json!({"schemaVersion": 2, "manifests": [desc]}),
            Some(image::OCI_INDEX),
        );
    }
    record(&layout, "example.com/deep:1", desc);
    let stray = layout.write_blob(b"stray").unwrap();
    let o = on_layout(&["gc", "--json"], &root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert!(
        report["unknown_documents"][0]
            .as_str()
            .unwrap()
            .contains("nested"),
        "{report}"
    );
    assert!(layout.blob_path(&stray).exists());
    let o = on_layout(&["verify", "--json", "example.com/deep:1"], &root);
    assert_eq!(o.status.code(), Some(7));
    let events = validate(&text(&o.stdout));
    assert!(
        events[0]["detail"].as_str().unwrap().contains("nested"),
        "{events:?}"
    );
}
