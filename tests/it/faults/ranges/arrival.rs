//! The order ranges arrive in, and how many are open at once: a first range
//! that finishes after the others still yields a blob that verifies, every
//! byte fetched once; `--connections 1` keeps one range open at a time, where
//! the default keeps several.

use super::{MIB, SIZE, World, assert_pulled, assert_success, most_open_at_once};
use crate::support::fake_registry::Faults;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_arriving_out_of_order_make_a_blob_that_verifies() {
    // Capped, so a second range pays off and the blob grows to several in
    // flight; the range at 8 MiB (the first after the probe) is held back
    // until another one has finished.
    let w = World::start(101, Some(32_000_000), Faults::default()).await;
    w.store.faults.lock().unwrap().hold_at = Some(8 * MIB);
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = w.layer_answers();
    let first = answers.first().expect("the layer was served");
    assert_eq!(
        (first.start, first.end, first.partial),
        (0, 8 * MIB - 1, true),
        "the probe asks for the first 8 MiB: {answers:?}"
    );
    let partial = answers.iter().filter(|a| a.partial).count();
    assert!(
        partial > 1,
        "the blob came as several ranges (206s): {answers:?}"
    );
    assert!(
        answers.iter().all(|a| a.partial),
        "nothing but ranges: {answers:?}"
    );
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert!(
        (SIZE..=SIZE + SIZE / 100).contains(&served),
        "{served} bytes served for a {SIZE}-byte blob: {answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_connection_keeps_one_range_open_at_a_time() {
    // Capped, so that each range takes a while (some half a second) and an
    // overlap, when there is one, lasts long enough to be seen.
    let cap = Some(16_000_000);
    let w = World::start(102, cap, Faults::default()).await;
    let most = most_open_at_once(&w, &["--connections", "1"]).await;
    assert_pulled(&w.out, &w.img).await;
    let answers = w.layer_answers();
    assert_eq!(
        most, 1,
        "--connections 1: answers open at once: {answers:?}"
    );
    assert!(
        answers.iter().filter(|a| a.partial).count() > 1,
        "still ranges, one after another: {answers:?}"
    );
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert_eq!(served, SIZE, "{answers:?}");

    // The same pull with the default bound does overlap its ranges: the
    // sampling above sees overlaps when there are any.
    let w = World::start(103, cap, Faults::default()).await;
    let most = most_open_at_once(&w, &[]).await;
    assert_pulled(&w.out, &w.img).await;
    assert!(
        most >= 2,
        "by default ranges overlap; at most {most} open: {:?}",
        w.layer_answers()
    );
}
