//! Re-pulls of images already in the layout: a HEAD request proves them up to
//! date without a manifest body (Docker Hub counts only GETs against its pull
//! limit); whatever changed (the tag, the platform asked for, a blob on disk)
//! sends the pull down the full path again.

use crate::support;

use std::path::Path;

use support::fake_registry::{FakeRegistry, Faults};
use support::image::{self, TestImage};
use support::{pull_from, text};

fn app(version: &str) -> TestImage {
    let contents = format!("app {version}\n");
    image::image("linux", "amd64", &[&[("app", contents.as_bytes())]])
}

/// The requests the registry saw since `from`, `METHOD /v2/...`.
fn since(reg: &FakeRegistry, from: usize) -> Vec<String> {
    reg.requests()[from..].to_vec()
}

fn manifest_gets(requests: &[String]) -> usize {
    requests
        .iter()
        .filter(|r| r.starts_with("GET ") && r.contains("/manifests/"))
        .count()
}

fn blob_gets(requests: &[String]) -> usize {
    requests.iter().filter(|r| r.contains("/blobs/")).count()
}

fn recorded_digest(out: &Path, name: &str) -> String {
    let layout = regpull::Layout::open(out).unwrap();
    layout
        .find_image(name)
        .unwrap()
        .unwrap()
        .digest()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_tag_costs_one_head_and_a_moved_tag_is_pulled_again() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let v1 = app("1");
    reg.add_image("team/app", "stable", &v1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let name = format!("{}/team/app:stable", reg.host);

    let o = pull_from(&reg.host, "team/app:stable", &out, &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));

    let mark = reg.requests().len();
    let o = pull_from(&reg.host, "team/app:stable", &out, &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seen = since(&reg, mark);
    assert_eq!(
        seen,
        [
            "GET /v2/".to_string(),
            "HEAD /v2/team/app/manifests/stable".to_string()
        ],
        "up to date: one ping, one HEAD"
    );
    assert_eq!(
        text(&o.stdout).trim(),
        format!("{name} {} linux/amd64", v1.manifest.digest)
    );

    // The tag moves upstream: the next run notices and pulls the new image.
    let v2 = app("2");
    reg.add_image("team/app", "stable", &v2);
    let mark = reg.requests().len();
    let o = pull_from(&reg.host, "team/app:stable", &out, &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seen = since(&reg, mark);
    assert_eq!(manifest_gets(&seen), 1, "{seen:?}");
    assert_eq!(blob_gets(&seen), 2, "the new config and layer: {seen:?}");
    assert_eq!(recorded_digest(&out, &name), v2.manifest.digest.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_platform_or_a_missing_blob_is_not_up_to_date() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let idx = image::multi_platform(false);
    for (_, img) in &idx.images {
        reg.add_image("multi", &img.manifest.digest.to_string(), img);
    }
    reg.serve_manifest_as("multi", "1", &idx.index);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let name = format!("{}/multi:1", reg.host);
    let amd64 = ["--platform", "linux/amd64"];
    let arm64 = ["--platform", "linux/arm64"];

    let o = pull_from(&reg.host, "multi:1", &out, &amd64).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mark = reg.requests().len();
    let o = pull_from(&reg.host, "multi:1", &out, &amd64).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        manifest_gets(&since(&reg, mark)),
        0,
        "same platform: HEAD only"
    );

    let mark = reg.requests().len();
    let o = pull_from(&reg.host, "multi:1", &out, &arm64).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        manifest_gets(&since(&reg, mark)),
        2,
        "index and arm64 manifest"
    );
    let arm = &idx.images[1].1;
    assert_eq!(
        recorded_digest(&out, &name),
        arm.manifest.digest.to_string()
    );

    // A layer deleted behind regpull's back is fetched again, not trusted.
    let layer = &arm.layers[0];
    std::fs::remove_file(out.join("blobs/sha256").join(layer.digest.hex())).unwrap();
    let mark = reg.requests().len();
    let o = pull_from(&reg.host, "multi:1", &out, &arm64).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let seen = since(&reg, mark);
    assert_eq!(blob_gets(&seen), 1, "only the missing layer: {seen:?}");
    assert!(out.join("blobs/sha256").join(layer.digest.hex()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_digest_already_stored_needs_no_request_at_all() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let v1 = app("pinned");
    reg.add_image("team/app", "1", &v1);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let pinned = format!("team/app@{}", v1.manifest.digest);
    let o = pull_from(&reg.host, &pinned, &out, &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mark = reg.requests().len();
    let o = pull_from(&reg.host, &pinned, &out, &["--json"]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Not even the connection check: a registry that is down cannot fail it.
    let seen = since(&reg, mark);
    assert!(seen.is_empty(), "{seen:?}");
    let events = support::json_doc::validate(&text(&o.stdout));
    let resolved = support::json_doc::of_type(&events, "resolved");
    assert_eq!(resolved[0]["digest"], v1.manifest.digest.to_string());
    assert_eq!(support::json_doc::of_type(&events, "blob_skip").len(), 2);
    let summary = events.last().unwrap();
    assert_eq!(summary["reused_blobs"], 2);
    assert_eq!(summary["fetched_blobs"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_reports_one_size_whether_pulled_or_found_up_to_date() {
    let reg = FakeRegistry::start(Faults::default()).await;
    // The same layer twice in one manifest is stored, and counted, once.
    let files: &[(&str, &[u8])] = &[("etc/twice", b"a layer listed twice\n")];
    let img = image::image("linux", "amd64", &[files, &[("app", b"own\n")], files]);
    assert_eq!(img.layers[0].digest, img.layers[2].digest);
    reg.add_image("team/app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let mut sizes = Vec::new();
    for _ in 0..2 {
        let o = pull_from(&reg.host, "team/app:1", &out, &["--json"]).await;
        assert!(o.status.success(), "{}", text(&o.stderr));
        let events = support::json_doc::validate(&text(&o.stdout));
        let done = support::json_doc::of_type(&events, "image_done");
        sizes.push(done[0]["size"].as_u64().unwrap());
    }
    let stored: u64 = img
        .blobs()
        .iter()
        .map(|b| (b.digest.to_string(), b.bytes.len() as u64))
        .collect::<std::collections::BTreeMap<_, _>>()
        .values()
        .sum();
    assert_eq!(sizes, [stored, stored]);
}
