//! The fake registry's blob answers honour every single range form, its
//! faults apply to ranged answers too, and each redirect to the object store
//! is signed anew, so the store can expire one URL and not the next.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::json;

use super::{assert_ranges, range_cases};
use crate::support::fake_registry::{FakeRegistry, Faults};
use crate::support::image::{Blob, OCI_LAYER_GZIP, assemble, noise};
use crate::support::object_store::ObjectStore;

/// A registry holding `blob` (in an image), and the blob's URL there.
async fn registry_with(blob: Vec<u8>, faults: Faults) -> (FakeRegistry, String) {
    let layer = Blob::new(OCI_LAYER_GZIP, blob);
    let digest = layer.digest.clone();
    let img = assemble(
        "linux",
        "amd64",
        vec![layer],
        std::slice::from_ref(&digest),
        json!({}),
    );
    let reg = FakeRegistry::start(faults).await;
    reg.add_image("kit/blob", "latest", &img);
    let url = format!("http://{}/v2/kit/blob/blobs/{digest}", reg.host);
    (reg, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_registry_answers_every_single_range_form() {
    let blob = noise(20, 1000);
    let (reg, url) = registry_with(blob.clone(), Faults::default()).await;
    let mut cases = range_cases(&blob);
    cases.push((Some("bytes=1000-1999"), 416, Some("bytes */1000"), b""));
    assert_ranges(&url, &cases).await;
    let client = reqwest::Client::new();
    reg.shared.faults.lock().unwrap().ignore_range = true;
    for range in ["bytes=100-199", "bytes=-10", "bytes=1000-"] {
        let answer = client.get(&url).header("range", range).send().await;
        let answer = answer.unwrap();
        assert_eq!(answer.status().as_u16(), 200, "ignore_range, {range}");
        assert!(answer.headers().get("content-range").is_none());
        assert!(
            answer.bytes().await.unwrap() == blob,
            "ignore_range, {range}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_blobs_after_counts_the_bytes_of_a_ranged_answer() {
    let blob = noise(21, 100_000);
    let faults = Faults {
        drop_blobs_after: Some(1000),
        ..Faults::default()
    };
    let (_reg, url) = registry_with(blob.clone(), faults).await;
    let mut answer = reqwest::Client::new()
        .get(&url)
        .header("range", "bytes=50000-59999")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 206);
    let mut got = Vec::new();
    // The bytes come, then silence: the connection stays open.
    let quiet = Duration::from_millis(500);
    while let Ok(chunk) = tokio::time::timeout(quiet, answer.chunk()).await {
        match chunk.unwrap() {
            Some(chunk) => got.extend_from_slice(&chunk),
            None => panic!("the body ended after {} bytes", got.len()),
        }
    }
    assert!(got == blob[50_000..51_000], "{} bytes came", got.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_redirect_is_signed_anew_and_the_store_expires_each_alone() {
    let blob = noise(22, 10_000);
    let (reg, url) = registry_with(blob.clone(), Faults::default()).await;
    let store = ObjectStore::start(reg.blobs()).await;
    reg.shared.faults.lock().unwrap().redirect_blobs_to = Some(store.base.clone());
    store.faults.lock().unwrap().expire_after = Some(1);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut locations = Vec::new();
    for n in 1..=2 {
        let answer = client.get(&url).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 307);
        let location = answer.headers()["location"].to_str().unwrap().to_string();
        let signature = format!("X-Amz-Signature=secret-signature-value-{n}");
        assert!(location.ends_with(&signature), "{location}");
        locations.push(location);
    }
    assert_eq!(reg.shared.redirects_issued.load(Ordering::SeqCst), 2);
    let status = |location: &String| {
        let request = client.get(location).header("range", "bytes=0-99").send();
        async move { request.await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&locations[0]).await, 206);
    assert_eq!(status(&locations[0]).await, 403, "the first URL, used up");
    assert_eq!(status(&locations[1]).await, 206, "the second URL, fresh");
    assert_eq!(store.expired(), 1);
}
