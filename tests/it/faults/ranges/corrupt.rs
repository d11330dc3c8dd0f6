//! A range answered with wrong bytes: the digest of the whole catches it,
//! the ranges are thrown away and the blob fetched once more as one stream
//! from byte 0. When that stream is right the pull succeeds; when it is wrong
//! too the pull fails naming the blob, and nothing of it is kept.

use super::{MIB, SIZE, World, assert_pulled, assert_success, partial_leftovers};
use crate::support::object_store::Served;
use crate::support::text;

/// A byte inside the third range (16 MiB to 24 MiB).
const BAD: u64 = 20 * MIB + 12_345;

/// The answers after the ranges: every 206 comes first, then exactly one
/// 200 with the whole blob, asked without `Range`. Returns the ranges.
fn ranges_then_one_stream(answers: &[Served]) -> &[Served] {
    let (last, ranges) = answers.split_last().expect("the layer was served");
    assert!(
        !last.partial && (last.start, last.end) == (0, SIZE - 1),
        "the last answer is the whole blob as one stream: {answers:?}"
    );
    assert!(
        ranges.iter().all(|a| a.partial),
        "one stream, once, after the ranges: {answers:?}"
    );
    assert!(
        ranges.iter().any(|a| (a.start..=a.end).contains(&BAD)),
        "a range covered the bad byte: {answers:?}"
    );
    ranges
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_range_is_refetched_as_one_stream_which_is_right() {
    let w = World::redirected(301).await;
    {
        let mut faults = w.store.faults.lock().unwrap();
        faults.corrupt_byte_at = Some(BAD);
        faults.corrupt_only_partial = true;
    }
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = w.layer_answers();
    let ranges = ranges_then_one_stream(&answers);
    assert!(ranges.len() > 1, "ranges came first: {answers:?}");
    let stream = answers.last().unwrap();
    assert_eq!(stream.sent, SIZE, "the stream was whole: {answers:?}");
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert!(
        served <= 2 * SIZE + SIZE / 100,
        "the ranges once and the stream once: {served} bytes: {answers:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_wrong_as_ranges_and_as_one_stream_fails_and_is_not_kept() {
    let w = World::redirected(302).await;
    w.store.faults.lock().unwrap().corrupt_byte_at = Some(BAD);
    let o = w.pull(&[]).await;
    let stderr = text(&o.stderr);
    assert!(
        matches!(o.status.code(), Some(code) if code != 0),
        "the pull must fail with an exit code ({}):\n{stderr}",
        o.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let layer = w.layer();
    assert!(
        stderr.contains(&layer.digest.to_string()),
        "the error names the blob {}:\n{stderr}",
        layer.digest
    );

    let answers = w.layer_answers();
    ranges_then_one_stream(&answers);
    let blob = w.out.join("blobs/sha256").join(layer.digest.hex());
    assert!(!blob.exists(), "the wrong blob was kept at {blob:?}");
    let left = partial_leftovers(&w.out);
    assert!(left.is_empty(), "the wrong bytes were kept: {left:?}");
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(w.out.join("index.json")).unwrap()).unwrap();
    assert!(
        index["manifests"].as_array().unwrap().is_empty(),
        "no image was recorded: {index}"
    );
}
