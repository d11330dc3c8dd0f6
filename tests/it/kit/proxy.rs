//! The kit's pull-through cache: real Distribution in proxy mode serves what
//! its token-auth upstream holds, and the upstream's log counts each request
//! and the blob bytes it served.

use crate::support;

use support::distribution_proxy::{ProxySetup, logged};
use support::image::{Blob, OCI_LAYER_GZIP, noise};
use support::wait_until;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cache_serves_the_upstreams_blobs_and_the_upstreams_log_counts_them() {
    let setup = ProxySetup::start().await;
    let layer = Blob::new(OCI_LAYER_GZIP, noise(7, 300_000));
    let img = support::image::assemble(
        "linux",
        "amd64",
        vec![layer.clone()],
        std::slice::from_ref(&layer.digest),
        serde_json::json!({}),
    );
    setup.push("kit/proxy", "1", &img).await;
    let before = setup.upstream_served();

    let url = format!(
        "http://{}/v2/kit/proxy/blobs/{}",
        setup.cache.host, layer.digest
    );
    let got = reqwest::get(&url).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), layer.bytes.as_slice());
    wait_until(
        "the cache to store the blob",
        std::time::Duration::from_secs(30),
        || setup.cache_holds_blob(&layer),
    );
    // Distribution 2.8 fetches a cold blob twice: once for the client, once
    // to store it; the log tells the cache's requests from regpull's.
    let size = layer.bytes.len() as u64;
    // An answer is logged once it has ended, maybe after the client has it all.
    wait_until(
        "the upstream's log to count the blob",
        std::time::Duration::from_secs(30),
        || setup.upstream_served().since(&before).blob_bytes >= size,
    );
    let cold = setup.upstream_served().since(&before);
    assert!(
        (1..=2).contains(&cold.blob_gets) && cold.blob_bytes == size * cold.blob_gets as u64,
        "{cold:?}"
    );
    let log = setup.upstream.registry.log();
    let cache_asked = logged(&log)
        .into_iter()
        .filter(|r| r.is_blob() && r.method == "GET")
        .all(|r| !r.by_regpull() && r.status == 200);
    assert!(cache_asked, "{log}");

    // Warm: from the cache's storage, with Range; the upstream serves nothing more.
    let warm_before = setup.upstream_served();
    let got = reqwest::Client::new()
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 206);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &layer.bytes[10..20]);
    let warm = setup.upstream_served().since(&warm_before);
    assert_eq!(warm.blob_bytes, 0, "{warm:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_holds_answers_back_past_its_budget_and_closing_cuts_them() {
    use support::fake_registry::{FakeRegistry, Faults};
    use support::relay::Relay;

    let reg = FakeRegistry::start(Faults::default()).await;
    let img = support::image::assemble(
        "linux",
        "amd64",
        vec![Blob::new(OCI_LAYER_GZIP, noise(8, 1 << 20))],
        &[],
        serde_json::json!({}),
    );
    reg.add_image("kit/relay", "1", &img);
    let relay = Relay::start(&reg.host).await;
    relay.hold_after(100_000);
    let url = format!(
        "http://{}/v2/kit/relay/blobs/{}",
        relay.host, img.layers[0].digest
    );
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    wait_until(
        "the relay to spend its budget",
        std::time::Duration::from_secs(30),
        || relay.holding(),
    );
    assert_eq!(relay.sent(), 100_000, "not a byte past the budget");
    relay.close();
    let body = resp.bytes().await;
    assert!(body.is_err(), "the answer was cut short");
    assert!(
        reqwest::get(&url).await.is_err(),
        "a closed relay refuses connections"
    );
}
