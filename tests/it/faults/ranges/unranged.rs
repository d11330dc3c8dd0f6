//! A server that ignores `Range` answers the first range asked for, the
//! probe, with 200 and the whole blob: that answer is the download, one
//! stream, and no byte is asked for twice. The same from an object store
//! behind a redirect and from the registry itself. That answer keeps the
//! connection it came on: with one connection allowed, no other blob's
//! request is answered while it streams.

use std::sync::atomic::Ordering;

use super::{SIZE, World, assert_pulled, assert_success, big_layers, most_open_at_once};
use crate::support::fake_registry::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_store_that_ignores_range_serves_the_blob_as_one_stream() {
    let w = World::redirected(601).await;
    w.store.faults.lock().unwrap().ignore_range = true;
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = w.layer_answers();
    assert_eq!(answers.len(), 1, "one answer, the probe's: {answers:?}");
    let only = &answers[0];
    assert!(
        !only.partial && (only.start, only.end, only.sent) == (0, SIZE - 1, SIZE),
        "a 200 with the whole blob, sent whole: {answers:?}"
    );
    assert_eq!(
        w.store.bytes_served(),
        SIZE + w.img.config.bytes.len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_ignores_range_serves_the_blob_as_one_stream() {
    let faults = Faults {
        ignore_range: true,
        ..Faults::default()
    };
    let w = World::start(602, None, faults).await;
    w.reg.shared.faults.lock().unwrap().redirect_blobs_to = None;
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let layer = w.layer().digest.to_string();
    let counts = w.reg.blob_request_counts();
    assert_eq!(counts.get(&layer), Some(&1), "{counts:?}");
    let served = w.reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    assert_eq!(served, SIZE + w.img.config.bytes.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_answered_whole_keeps_its_connection_until_it_is_read() {
    // Two big layers, one connection: the first layer's probe is answered
    // whole. Were its connection given up between that answer and reading
    // it, the second layer's probe would take it and both answers would be
    // open at once, one of them waiting, unread, on the store.
    let img = big_layers(603, 2);
    let w = World::serving(img, Some(64_000_000), Faults::default()).await;
    w.store.faults.lock().unwrap().ignore_range = true;
    let most = most_open_at_once(&w, &["--connections", "1"]).await;
    assert_pulled(&w.out, &w.img).await;
    let answers = w.layer_answers();
    assert_eq!(answers.len(), 2, "one whole answer per layer: {answers:?}");
    assert_eq!(most, 1, "answers open at once: {answers:?}");
}
