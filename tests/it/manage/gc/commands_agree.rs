//! list, verify, rm and gc counting the same blobs per image.

use crate::support;

use regpull::Layout;
use serde_json::json;
use support::json_doc::validate;
use support::{image, text};

use super::{list_events, on_layout, record, stored};

/// list, verify, rm and gc see one set of blobs per image: what rm says it
/// orphaned is what gc deletes, and list's count is what gc keeps.
#[test]
fn list_verify_rm_and_gc_agree_on_what_each_image_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let app = image::image("linux", "amd64", &[shared, &[("app", b"the app")]]);
    let tool = image::image("linux", "arm64", &[shared, &[("tool", b"the tool")]]);
    image::store(&layout, "example.com/app:1", &app);
    image::store(&layout, "example.com/tool:1", &tool);
    let multi = image::multi_platform(false);
    for (_, img) in &multi.images {
        image::store_blobs(&layout, img);
    }
    let index = layout.write_blob(&multi.index.bytes).unwrap();
    record(
        &layout,
        "example.com/multi:1",
        json!({"mediaType": image::OCI_INDEX, "digest": index.to_string(), "size": multi.index.bytes.len()}),
    );
    let listed = list_events(&root);
    let count = |name: &str| {
        listed.iter().find(|e| e["name"] == name).unwrap()["blobs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("example.com/app:1"), 4);
    assert_eq!(
        count("example.com/multi:1"),
        1 + 4 * 3,
        "the attestation too"
    );
    assert_eq!(
        stored(&root).len() as u64,
        count("example.com/app:1") + count("example.com/tool:1") - 1 + count("example.com/multi:1")
    );

    let o = on_layout(
        &["rm", "--json", "example.com/app:1", "example.com/multi:1"],
        &root,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let removed = validate(&text(&o.stdout));
    assert_eq!(removed[0]["orphaned_blobs"], 3, "not the layer tool shares");
    assert_eq!(removed[1]["orphaned_blobs"], 13);
    let orphaned_bytes = removed[0]["orphaned_bytes"].as_u64().unwrap()
        + removed[1]["orphaned_bytes"].as_u64().unwrap();
    assert!(
        text(&o.stderr).contains("note: 16 blobs"),
        "{}",
        text(&o.stderr)
    );

    let o = on_layout(&["gc", "--json"], &root);
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 16, "{report}");
    assert_eq!(report["blob_bytes"], orphaned_bytes, "{report}");
    assert_eq!(report["kept_blobs"], 4, "what list counts for tool");
    let v = on_layout(&["verify", "--json"], &root);
    assert!(v.status.success());
    let summary = &validate(&text(&v.stdout))[0];
    assert_eq!(summary["blobs_checked"], 4, "{summary}");
    assert_eq!(list_events(&root)[0]["blobs"], 4);
}
