//! gc on a layout regpull wrote: unreferenced blobs and stale partial
//! downloads go, shared layers and recent partials stay.

use crate::support;

use std::fs;
use std::time::{Duration, SystemTime};

use regpull::Layout;
use support::{image, require_tool, run_ok, text};

#[test]
fn gc_frees_what_no_image_needs_and_keeps_the_rest_readable() {
    require_tool("umoci", "umoci");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let keep = image::image("linux", "amd64", &[shared, &[("app", b"kept app")]]);
    let drop_ = image::image("linux", "amd64", &[shared, &[("app", b"dropped app")]]);
    image::store(&layout, "example.com/keep:1", &keep);
    image::store(&layout, "example.com/drop:1", &drop_);
    assert!(layout.remove_image("example.com/drop:1").unwrap());

    let partial = root.join(".regpull/partial");
    fs::write(partial.join("sha256-old"), vec![0u8; 1000]).unwrap();
    let old = fs::File::options()
        .write(true)
        .open(partial.join("sha256-old"))
        .unwrap();
    old.set_modified(SystemTime::now() - Duration::from_secs(3 * 24 * 3600))
        .unwrap();
    fs::write(partial.join("sha256-recent"), vec![0u8; 500]).unwrap();

    let o = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // The dropped image's manifest, config and own layer; not the shared layer.
    assert!(
        stdout.starts_with("removed 3 unreferenced blobs"),
        "{stdout}"
    );
    assert!(stdout.contains("1 stale partial downloads"), "{stdout}");

    for blob in keep.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    assert!(!layout.blob_path(&drop_.manifest.digest).exists());
    assert!(!layout.blob_path(&drop_.layers[1].digest).exists());
    assert!(
        layout.blob_path(&drop_.layers[0].digest).exists(),
        "the shared layer stays"
    );
    assert!(!partial.join("sha256-old").exists());
    assert!(
        partial.join("sha256-recent").exists(),
        "a recent partial is kept for resuming"
    );
    run_ok(
        std::process::Command::new("umoci")
            .args(["stat", "--image"])
            .arg(format!("{}:example.com/keep:1", root.display())),
    );

    let again = layout.gc(&|| panic!("no pull is running")).unwrap();
    assert_eq!(
        (again.blobs_removed, again.partials_removed),
        (0, 0),
        "gc is idempotent"
    );
}
