//! `verify --repair` pulling damaged images again from Distribution, each as
//! its entry records it was pulled.

use crate::support;

use std::fs;
use std::process::Command;

use regpull::Layout;
use regpull::pull::SOURCE_ANNOTATION;
use support::distribution::{Auth, Distribution};
use support::image;
use support::json_doc::{of_type, validate};
use support::push::{PushAuth, Pusher};
use support::{require_tool, run_ok, text};

use super::{app_image, run, seed_runtime};

#[test]
fn verify_repair_deletes_damaged_blobs_and_pulls_the_images_again() {
    let reg = Distribution::start(Auth::Open, false);
    let app = app_image();
    let idx = image::multi_platform(false);
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    seed_runtime().block_on(async {
        pusher.image("team/app", "1", &app).await;
        pusher.index("team/multi", "v1", &idx).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let app_name = format!("{}/team/app:1", reg.host);
    let multi_name = format!("{}/team/multi:v1", reg.host);
    let out = root.to_str().unwrap();
    run_ok(&mut support::regpull_command(&[
        "pull", &app_name, "-o", out,
    ]));
    run_ok(&mut support::regpull_command(&[
        "pull",
        &multi_name,
        "--all-platforms",
        "-o",
        out,
    ]));
    let layout = Layout::open(&root).unwrap();
    let big = layout.blob_path(&app.layers[1].digest);
    let mut bytes = fs::read(&big).unwrap();
    bytes[1000] ^= 1;
    fs::write(&big, bytes).unwrap();
    let arm64_config = &idx.images[1].1.config;
    fs::remove_file(layout.blob_path(&arm64_config.digest)).unwrap();

    let o = run(&["verify", "--layout", out]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));

    let o = run(&["verify", "--repair", "--json", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let problems = of_type(&events, "problem");
    assert_eq!(problems.len(), 2, "{events:?}");
    assert!(problems.iter().all(|p| p["repaired"] == true), "{events:?}");
    let summary = of_type(&events, "verify_summary")[0];
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["problems"], 0);
    let mut repaired = vec![app_name.clone(), multi_name.clone()];
    repaired.sort();
    assert_eq!(summary["repaired"], serde_json::json!(repaired));
    layout
        .verify_blob(&app.layers[1].digest, app.layers[1].bytes.len() as u64)
        .unwrap();

    let o = run(&["verify", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    require_tool("skopeo", "skopeo");
    run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci:{out}:{app_name}")),
    );
    let list = run(&["list", "--json", "--layout", out]);
    let images = validate(&text(&list.stdout));
    let multi = images
        .iter()
        .find(|e| e["name"] == multi_name.as_str())
        .unwrap();
    assert_eq!(
        multi["digest"],
        idx.index.digest.to_string(),
        "still the whole index"
    );
}

/// A repair pulls each image as `dev.regpull.source` says it was pulled:
/// here every platform of an OCI index with --preserve-digests, which the
/// entry's media type alone cannot tell. An entry without the annotation is
/// pulled as its descriptor suggests, and says so.
#[test]
fn verify_repair_pulls_each_image_as_it_was_recorded() {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(false);
    let app = app_image();
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    seed_runtime().block_on(async {
        pusher.index("team/multi", "v1", &idx).await;
        pusher.image("team/app", "1", &app).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let out = root.to_str().unwrap();
    let multi = format!("{}/team/multi:v1", reg.host);
    let single = format!("{}/team/app:1", reg.host);
    run_ok(&mut support::regpull_command(&[
        "pull",
        "-q",
        "--all-platforms",
        "--preserve-digests",
        "-o",
        out,
        &multi,
    ]));
    run_ok(&mut support::regpull_command(&[
        "pull",
        "-q",
        "--platform",
        "linux/amd64",
        "-o",
        out,
        &single,
    ]));
    let layout = Layout::open(&root).unwrap();
    let source_of = |name: &str| {
        let entry = layout.find_image(name).unwrap().unwrap();
        entry
            .annotations()
            .clone()
            .unwrap_or_default()
            .get(SOURCE_ANNOTATION)
            .cloned()
    };
    let recorded = source_of(&multi).unwrap();
    assert!(
        recorded.contains("all-platforms+preserve-digests"),
        "{recorded}"
    );

    // The single image's entry as another tool would have written it.
    let index_path = root.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == single.as_str() {
            entry["annotations"]
                .as_object_mut()
                .unwrap()
                .remove(SOURCE_ANNOTATION);
        }
    }
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    fs::remove_file(layout.blob_path(&idx.images[2].1.layers[0].digest)).unwrap();
    fs::remove_file(layout.blob_path(&app.layers[0].digest)).unwrap();
    let o = run(&["verify", "--repair", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "pulling {multi} again (all platforms, digests preserved)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "note: {single}: its entry has no {SOURCE_ANNOTATION} annotation"
        )),
        "{stderr}"
    );
    assert_eq!(
        source_of(&multi).unwrap(),
        recorded,
        "stored the same way again"
    );
    assert!(
        source_of(&single)
            .unwrap()
            .contains("\"selection\":\"linux/amd64\"")
    );
    assert_eq!(
        layout
            .find_image(&multi)
            .unwrap()
            .unwrap()
            .digest()
            .to_string(),
        idx.index.digest.to_string()
    );
}
