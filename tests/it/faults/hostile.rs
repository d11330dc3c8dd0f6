//! A registry that lies, stalls or sends garbage gets a clean error and a
//! non-zero exit, never a panic and never a partly written layout.

use crate::support;

use std::fs;
use std::path::Path;

use support::fake_registry::{FakeRegistry, Faults};
use support::image;
use support::{pull_from, text};

fn sample() -> image::TestImage {
    image::image(
        "linux",
        "amd64",
        &[&[("a", b"first layer")], &[("b", &[7u8; 100_000])]],
    )
}

/// Nothing but the empty layout: no blob, no index entry, no stray temp file.
fn assert_layout_untouched(out: &Path) {
    let blobs: Vec<_> = fs::read_dir(out.join("blobs/sha256")).unwrap().collect();
    assert!(blobs.is_empty(), "blobs were written: {blobs:?}");
    let tmp: Vec<_> = fs::read_dir(out.join(".regpull/tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("index.json")).unwrap()).unwrap();
    assert!(index["manifests"].as_array().unwrap().is_empty());
}

async fn failing_pull(faults: Faults, extra: &[&str], code: i32, needle: &str) -> FakeRegistry {
    let reg = FakeRegistry::start(faults).await;
    reg.add_image("app", "1", &sample());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let o = pull_from(&reg.host, "app:1", &out, extra).await;
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "{stderr}");
    assert!(stderr.starts_with("error: pulling "), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_layout_untouched(&out);
    reg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_that_does_not_match_its_digest_is_refused() {
    let faults = Faults {
        blob_bytes_override: Some(b"not what the manifest promised".to_vec()),
        ..Default::default()
    };
    failing_pull(faults, &[], 7, "mismatch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_docker_content_digest_is_refused() {
    let faults = Faults {
        wrong_content_digest: true,
        ..Default::default()
    };
    failing_pull(faults, &[], 7, "Docker-Content-Digest").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_manifest_is_cut_off() {
    let faults = Faults {
        manifest_padding: 5 << 20,
        ..Default::default()
    };
    failing_pull(faults, &[], 7, "larger than the 4194304 bytes").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_challenges_are_an_auth_error_naming_the_header() {
    for header in ["Bearer realm=\"unterminated", "%%% garbage", "Negotiate"] {
        let faults = Faults {
            challenge: Some(header.to_string()),
            ..Default::default()
        };
        failing_pull(faults, &[], 3, "WWW-Authenticate").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realm_on_the_metadata_address_is_never_contacted() {
    let faults = Faults {
        challenge: Some(
            r#"Bearer realm="http://169.254.169.254/latest/meta-data/",service="x""#.into(),
        ),
        ..Default::default()
    };
    failing_pull(faults, &[], 3, "link-local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_blob_is_abandoned_after_the_read_timeout() {
    let faults = Faults {
        stall_blobs: true,
        ..Default::default()
    };
    failing_pull(
        faults,
        &["--timeout", "1", "--retries", "0"],
        6,
        "downloading blob",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_that_is_not_the_digest_asked_for_is_refused() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let (asked, sent) = (
        sample(),
        image::image("linux", "amd64", &[&[("evil", b"x")]]),
    );
    reg.add_image("app", "1", &asked);
    reg.serve_manifest_as("app", &asked.manifest.digest.to_string(), &sent.manifest);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let o = pull_from(
        &reg.host,
        &format!("app@{}", asked.manifest.digest),
        &out,
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(&format!(
        "not the {} that was asked for",
        asked.manifest.digest
    )));
    assert_layout_untouched(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_pull_is_refreshed() {
    let reg = FakeRegistry::start(Faults {
        token_uses: Some(2),
        ..Default::default()
    })
    .await;
    let img = sample();
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let o = pull_from(&reg.host, "app:1", &out, &["--jobs", "1"]).await;
    assert!(
        o.status.success(),
        "{}\n{:?}",
        text(&o.stderr),
        reg.requests()
    );
    let issued = reg
        .shared
        .tokens_issued
        .load(std::sync::atomic::Ordering::SeqCst);
    // A manifest and three blobs at two requests per token: the pull needed fresh ones.
    assert!(issued >= 2, "tokens issued: {issued}");
    for blob in img.blobs() {
        assert!(out.join("blobs/sha256").join(blob.digest.hex()).exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_longer_than_its_descriptor_is_cut_off() {
    let faults = Faults {
        blob_extra_bytes: 1 << 20,
        ..Default::default()
    };
    failing_pull(faults, &[], 7, "size mismatch").await;
}
