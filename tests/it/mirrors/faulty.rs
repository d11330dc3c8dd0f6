//! A mirror that cannot serve (the fake registry, with faults switched on):
//! down, answering 500 after retries, without the image, with wrong bytes,
//! dying in the middle of a blob, or with the manifest but none of the
//! blobs. Each time the pull succeeds from the upstream, a `source_skip`
//! names the mirror, what it could not serve and why, and nothing wrong is
//! kept.

use serde_json::Value;

use super::{MIB, Pull, assert_pulled, contents, image_of, mirror, pull};
use crate::support::fake_registry::{FakeRegistry, Faults};
use crate::support::image::{TestImage, noise};
use crate::support::json_doc::of_type;

const REPO: &str = "team/app";
const TAG: &str = "1";

/// An upstream with the image, and a mirror of it with `faults`.
struct World {
    upstream: FakeRegistry,
    mirror: FakeRegistry,
    img: TestImage,
    dir: tempfile::TempDir,
}

impl World {
    /// `with_image`: does the mirror hold the image?
    async fn start(seed: u64, with_image: bool, faults: Faults) -> World {
        let img = image_of(seed, 1, MIB);
        let upstream = FakeRegistry::start(Faults::default()).await;
        upstream.add_image(REPO, TAG, &img);
        let mirror = FakeRegistry::start(faults).await;
        if with_image {
            mirror.add_image(REPO, TAG, &img);
        }
        World {
            upstream,
            mirror,
            img,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The pull through `mirror_host`, with `extra` arguments; it must succeed
    /// with the image whole.
    async fn pull_via(&self, mirror_host: &str, extra: &[&str]) -> Pull {
        let m = mirror(&self.upstream.host, mirror_host);
        let mut args = vec![m[0].as_str(), &m[1]];
        args.extend_from_slice(extra);
        let out = self.dir.path().join("oci");
        let reference = format!("{}/{REPO}:{TAG}", self.upstream.host);
        let p = pull(&reference, &out, &args).await;
        p.assert_success();
        assert_pulled(&out, &self.img).await;
        p
    }

    async fn pull(&self, extra: &[&str]) -> Pull {
        self.pull_via(&self.mirror.host.clone(), extra).await
    }

    /// The config's and the layer's digests.
    fn blobs(&self) -> Vec<String> {
        std::iter::once(&self.img.config)
            .chain(&self.img.layers)
            .map(|b| b.digest.to_string())
            .collect()
    }
}

/// The skip's `status`, and that it has a reason.
fn status_of(skip: &Value) -> Option<u64> {
    assert!(
        !skip["reason"].as_str().unwrap().is_empty(),
        "a reason is given: {skip}"
    );
    skip["status"].as_u64()
}

/// The mirror was skipped for the manifest: everything came from the upstream.
fn skipped_for_the_manifest(w: &World, p: &Pull, mirror_host: &str) -> Option<u64> {
    let skip = p.skip_of(mirror_host, "manifest of ");
    assert_eq!(p.resolved_sources(), std::slice::from_ref(&w.upstream.host));
    // Blobs are asked of the mirror first all the same (it may hold them by
    // digest); in the end they come from the upstream.
    p.assert_blobs_from(&w.upstream.host);
    status_of(skip)
}

/// The manifest came from the mirror and each of `blobs` was skipped there
/// for the upstream; returns the skips' statuses.
fn skipped_for_blobs(w: &World, p: &Pull, blobs: &[String]) -> Vec<Option<u64>> {
    assert_eq!(p.resolved_sources(), std::slice::from_ref(&w.mirror.host));
    let sources = p.blob_sources();
    blobs
        .iter()
        .map(|digest| {
            let from: Vec<&str> = sources
                .iter()
                .filter(|(d, _)| d == digest)
                .map(|(_, s)| s.as_str())
                .collect();
            assert_eq!(from, [w.mirror.host.as_str(), w.upstream.host.as_str()]);
            let skips: Vec<&Value> = p
                .skips()
                .into_iter()
                .filter(|e| e["what"] == format!("blob {digest}").as_str())
                .collect();
            assert!(
                skips.len() == 1 && skips[0]["source"] == w.mirror.host.as_str(),
                "one skip of the mirror for {digest}: {:?}",
                p.skips()
            );
            status_of(skips[0])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_that_is_down_is_skipped_when_connecting() {
    let w = World::start(31, true, Faults::default()).await;
    // A port nothing listens on.
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let p = w.pull_via(&down, &["--retries", "0"]).await;
    let skip = p.skip_of(&down, "connecting");
    assert_eq!(status_of(skip), None, "no answer, no status: {skip}");
    assert_eq!(p.resolved_sources(), std::slice::from_ref(&w.upstream.host));
    p.assert_blobs_from(&w.upstream.host);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_answering_500_to_everything_is_skipped() {
    let faults = Faults {
        manifest_error: Some((500, "UNKNOWN")),
        blob_statuses: vec![(500, None); 16],
        ..Faults::default()
    };
    let w = World::start(32, true, faults).await;
    // The fault sends Retry-After: 30; no retry keeps the test short.
    let p = w.pull(&["--retries", "0"]).await;
    assert_eq!(skipped_for_the_manifest(&w, &p, &w.mirror.host), Some(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_answering_500_for_blobs_after_retries_is_skipped_for_each() {
    let faults = Faults {
        blob_statuses: vec![(500, None); 16],
        ..Faults::default()
    };
    let w = World::start(33, true, faults).await;
    let p = w.pull(&["--retries", "1"]).await;
    let statuses = skipped_for_blobs(&w, &p, &w.blobs());
    assert_eq!(statuses, [Some(500), Some(500)]);
    let retries = of_type(&p.events, "retry");
    assert_eq!(
        retries.len(),
        2,
        "one retry per blob at the mirror: {retries:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_without_the_image_is_skipped_with_404() {
    let w = World::start(34, false, Faults::default()).await;
    let p = w.pull(&["--retries", "0"]).await;
    assert_eq!(skipped_for_the_manifest(&w, &p, &w.mirror.host), Some(404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_with_the_manifest_but_no_blobs_leaves_the_blobs_to_the_upstream() {
    let w = World::start(35, false, Faults::default()).await;
    w.mirror.serve_manifest_as(REPO, TAG, &w.img.manifest);
    let p = w.pull(&["--retries", "0"]).await;
    let statuses = skipped_for_blobs(&w, &p, &w.blobs());
    assert_eq!(statuses, [Some(404), Some(404)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_sending_wrong_bytes_is_skipped_and_none_of_them_is_kept() {
    let w = World::start(36, true, Faults::default()).await;
    // As long as the layer, so only its digest tells.
    let wrong = noise(999, w.img.layers[0].bytes.len());
    w.mirror.shared.faults.lock().unwrap().blob_bytes_override = Some(wrong);
    let p = w.pull(&["--retries", "0"]).await;
    skipped_for_blobs(&w, &p, &w.blobs());
    // assert_pulled checked every blob and that no partial file is left; and
    // the layout holds the image's blobs, nothing else.
    let (_, blobs) = contents(&p.out);
    let expected = w.img.blobs().iter().map(|b| b.digest.to_string()).collect();
    assert_eq!(blobs, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_dying_mid_blob_is_skipped_and_the_upstream_sends_the_rest() {
    let cut = 300_000;
    let faults = Faults {
        drop_blobs_after: Some(cut),
        drop_every_attempt: true,
        ..Faults::default()
    };
    let w = World::start(37, true, faults).await;
    // The mirror goes quiet after `cut` bytes of the layer: the idle timeout ends it.
    let p = w.pull(&["--retries", "0", "--timeout", "1"]).await;
    let layer = w.img.layers[0].digest.to_string();
    skipped_for_blobs(&w, &p, std::slice::from_ref(&layer));
    let starts: Vec<u64> = of_type(&p.events, "blob_start")
        .iter()
        .filter(|e| e["digest"] == layer.as_str())
        .map(|e| e["resumed_from"].as_u64().unwrap())
        .collect();
    assert!(
        starts.len() == 2 && starts[1] > 0 && starts[1] <= cut as u64,
        "the upstream took over from the bytes kept: resumed_from {starts:?}"
    );
    let served = w
        .upstream
        .shared
        .blob_bytes_served
        .load(std::sync::atomic::Ordering::SeqCst);
    let size = w.img.layers[0].bytes.len() as u64;
    assert_eq!(
        served,
        size - starts[1],
        "the upstream sent only the rest of the layer (and not the config)"
    );
}
