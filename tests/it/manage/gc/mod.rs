//! `regpull gc`: unreferenced blobs and stale partial downloads go; everything an
//! image in index.json needs, and recent partials, stay.

mod commands_agree;
mod hand_made;
mod racing_pull;
mod skopeo;
mod unreferenced;
mod unwalkable;

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;

use regpull::{Digest, Layout};
use serde_json::{Value, json};
use support::json_doc::validate;
use support::{image, text};

/// `regpull ARGS --layout ROOT`.
fn on_layout(args: &[&str], root: &Path) -> Output {
    support::regpull_command(args)
        .arg("--layout")
        .arg(root)
        .output()
        .unwrap()
}

/// Every file under `blobs/`, as `alg:hex`.
fn stored(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for alg in fs::read_dir(root.join("blobs")).unwrap() {
        let alg = alg.unwrap();
        for blob in fs::read_dir(alg.path()).unwrap() {
            let name = blob.unwrap().file_name();
            out.insert(format!(
                "{}:{}",
                alg.file_name().to_string_lossy(),
                name.to_string_lossy()
            ));
        }
    }
    out
}

/// What the shared walk reaches from every image, as `alg:hex`.
fn reached(root: &Path) -> BTreeSet<String> {
    let layout = Layout::open(root).unwrap();
    layout
        .walk()
        .unwrap()
        .iter()
        .flat_map(|(_, w)| w.blobs.iter().map(|b| b.digest.to_string()))
        .collect()
}

fn list_events(root: &Path) -> Vec<Value> {
    let o = on_layout(&["list", "--json"], root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    validate(&text(&o.stdout))
}

/// The layout at `root` needs every blob it holds. Three blobs no image
/// references are added; gc must delete exactly those, and leave a layout
/// that verifies and that `list` describes as before.
fn gc_deletes_only_what_nothing_reaches(root: &Path) {
    let layout = Layout::open(root).unwrap();
    let before = stored(root);
    assert_eq!(
        reached(root),
        before,
        "the walk reaches every blob the layout was built with"
    );
    let listed = list_events(root);
    for e in &listed {
        assert_eq!(e["missing_blobs"], 0, "{e}");
        assert_eq!(e["unreadable_documents"], 0, "{e}");
    }
    let v = on_layout(&["verify"], root);
    assert!(
        v.status.success(),
        "verify before gc: {}{}",
        text(&v.stdout),
        text(&v.stderr)
    );

    let manifest_like = serde_json::to_vec(&json!({
        "schemaVersion": 2, "config": {"digest": Digest::sha256_of(b"x").to_string(), "size": 1},
    }))
    .unwrap();
    let strays: Vec<Digest> = [
        b"stray bytes".to_vec(),
        image::noise(5, 5000),
        manifest_like,
    ]
    .iter()
    .map(|b| layout.write_blob(b).unwrap())
    .collect();

    let o = on_layout(&["gc", "--json"], root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 3, "{report}");
    assert_eq!(report["kept_blobs"], before.len(), "{report}");
    assert_eq!(report["unknown_documents"], json!([]), "{report}");
    assert_eq!(stored(root), before, "every blob the walk reaches stays");
    for s in &strays {
        assert!(!layout.blob_path(s).exists(), "{s} is unreachable");
    }
    let v = on_layout(&["verify"], root);
    assert!(v.status.success(), "verify after gc: {}", text(&v.stdout));
    assert_eq!(list_events(root), listed, "list counts the same blobs");
}

/// Stores `doc` as a blob and returns a descriptor for it with `media_type`
/// (`None`: no mediaType at all).
fn put(layout: &Layout, doc: &Value, media_type: Option<&str>) -> Value {
    let bytes = serde_json::to_vec_pretty(doc).unwrap();
    let digest = layout.write_blob(&bytes).unwrap();
    let mut desc = json!({"digest": digest.to_string(), "size": bytes.len()});
    if let Some(m) = media_type {
        desc["mediaType"] = json!(m);
    }
    desc
}

/// A TestImage's blobs written, and its manifest's descriptor, typed
/// `media_type`.
fn put_image(layout: &Layout, img: &image::TestImage, media_type: Option<&str>) -> Value {
    image::store_blobs(layout, img);
    let mut desc =
        json!({"digest": img.manifest.digest.to_string(), "size": img.manifest.bytes.len()});
    if let Some(m) = media_type {
        desc["mediaType"] = json!(m);
    }
    desc
}

/// A manifest whose descriptors carry no mediaType at all.
fn bare_manifest(layout: &Layout, seed: &[u8]) -> Value {
    let config = layout.write_blob(seed).unwrap();
    let layer = layout.write_blob(&[seed, b" layer"].concat()).unwrap();
    let doc = json!({
        "schemaVersion": 2,
        "config": {"digest": config.to_string(), "size": seed.len()},
        "layers": [{"digest": layer.to_string(), "size": seed.len() + 6}],
    });
    put(layout, &doc, None)
}

fn record(layout: &Layout, name: &str, mut desc: Value) {
    // index.json's own entries must have a mediaType to be read as OCI;
    // an empty one is what a producer that knows none writes.
    if desc.get("mediaType").is_none() {
        desc["mediaType"] = json!("");
    }
    layout
        .add_image(name, &serde_json::from_value(desc).unwrap())
        .unwrap();
}
