//! Ranges that break midway are resumed, not refetched: a range cut once
//! costs only its missing part, and a link that drops every few MiB still
//! delivers the blob within the default retry budget, since attempts that
//! advanced the blob do not count against it, and no byte crosses twice.

use std::sync::atomic::Ordering;

use super::{MIB, SIZE, World, assert_pulled, assert_success};
use crate::support::fake_registry::Faults;
use crate::support::text;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_cut_midway_is_resumed_from_where_it_stopped() {
    let w = World::redirected(201).await;
    // The second range (8 MiB to 16 MiB) breaks after 3 MiB.
    let (at, kept) = (8 * MIB, 3 * MIB);
    w.store.faults.lock().unwrap().cut_once = Some((at, kept));
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = w.layer_answers();
    assert_eq!(
        w.store.faults.lock().unwrap().cut_once,
        None,
        "the cut fired: {answers:?}"
    );
    let cut = answers.iter().find(|a| a.start == at).unwrap();
    assert_eq!(cut.sent, kept, "the cut answer: {answers:?}");
    assert!(
        answers.iter().any(|a| a.partial && a.start == at + kept),
        "the rest of the cut range was asked for from where it stopped: {answers:?}"
    );
    assert!(
        !answers
            .iter()
            .any(|a| a.start < at + kept && a.start > 0 && a.start != at),
        "nothing before the cut was asked for again: {answers:?}"
    );
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert!(
        served <= SIZE + MIB,
        "{served} bytes served for a {SIZE}-byte blob cut once: {answers:?}"
    );
}

/// The `retry` events of a `--json` pull for `digest`.
fn retries_of(stdout: &str, digest: &str) -> usize {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["type"] == "retry" && e["what"] == format!("blob {digest}"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_drops_every_few_mib_delivers_within_the_default_budget() {
    // Every blob answer from the registry itself (no redirect) sends 2 MiB,
    // then goes quiet until the client's idle timeout cuts it: each 8 MiB
    // range needs three drops, some fifteen in all, two at most per attempt
    // (two ranges in flight), so more failed attempts than the 5 retries.
    let faults = Faults {
        drop_blobs_after: Some(2 << 20),
        drop_every_attempt: true,
        ..Faults::default()
    };
    let w = World::start(202, None, faults).await;
    w.reg.shared.faults.lock().unwrap().redirect_blobs_to = None;
    let o = w.pull(&["--timeout", "1", "--json"]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let stdout = text(&o.stdout);
    let layer = w.layer().digest.to_string();
    let retries = retries_of(&stdout, &layer);
    assert!(
        retries > 5,
        "more failed attempts than the default budget of 5: {retries}\n{stdout}"
    );
    let requests = w.reg.blob_request_counts()[&layer];
    assert!(requests > 6, "{requests} requests for the layer");
    let served = w.reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    let config = w.img.config.bytes.len() as u64;
    assert_eq!(
        served,
        SIZE + config,
        "every byte was served exactly once, over {requests} requests"
    );
    assert!(
        w.store.answers().is_empty(),
        "the registry served the blob itself"
    );
}
