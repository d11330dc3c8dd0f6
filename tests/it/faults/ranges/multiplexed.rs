//! Ranges from a store that offers HTTP/2. The CDNs in front of object
//! stores (CloudFront, GCS, Cloudflare, Fastly) do, and over h2 every
//! request to a host shares one TCP connection: a cap per connection, or
//! one connection's window on a long path, would then hold all the ranges
//! of a blob to the pace of one. Ranges go over HTTP/1.1, each on a
//! connection of its own, as `--connections` says.

use super::{SIZE, World, assert_pulled, most_open_at_once};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_from_a_store_that_offers_http2_go_on_connections_of_their_own() {
    let w = World::over_https(701, 16_000_000).await;
    let ca = w.ca().display().to_string();

    // The store speaks h2 to a client that asks for it.
    let trusted = reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(trusted)
        .build()
        .unwrap();
    let probe = client
        .get(format!("{}/bucket/nothing", w.store.base))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.version(), reqwest::Version::HTTP_2);
    drop(client);

    let most = most_open_at_once(&w, &["--ca-cert", &ca]).await;
    assert_pulled(&w.out, &w.img).await;
    let answers = w.layer_answers();
    let mut connections: Vec<u64> = answers.iter().map(|a| a.connection).collect();
    connections.sort_unstable();
    connections.dedup();
    assert!(
        most >= 2 && connections.len() >= 2,
        "ranges open at once: {most}, on connections {connections:?}: {answers:?}"
    );
    let protocols = w.store.protocols.lock().unwrap().clone();
    assert!(
        protocols[1..].iter().all(|p| p == "http/1.1"),
        "the pull's connections: {protocols:?}"
    );
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert_eq!(served, SIZE, "every byte once: {answers:?}");
}
