//! The object store's faults behave as `StoreFaults` documents them, seen
//! with plain requests: what a client meets, whatever the client.

use std::time::{Duration, Instant};

use super::{NAME, one_object};
use crate::support::image::noise;
use crate::support::object_store::{HOLD_LIMIT, ObjectStore};

const SIZE: usize = 300 << 10;

async fn store(seed: u64) -> (ObjectStore, Vec<u8>) {
    let object = noise(seed, SIZE);
    (ObjectStore::start(one_object(object.clone())).await, object)
}

/// The status and body of a GET of `url` with `range`, if any.
async fn get(url: &str, range: Option<&str>) -> (u16, Vec<u8>) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(r) = range {
        request = request.header("range", r);
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_signature_expires_after_so_many_answers_with_s3s_403() {
    let (store, object) = store(10).await;
    store.faults.lock().unwrap().expire_after = Some(2);
    let signed = |sig: &str| {
        format!(
            "{}/bucket/{NAME}?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Expires=900&X-Amz-Signature={sig}",
            store.base
        )
    };
    assert_eq!(get(&signed("one"), Some("bytes=0-9")).await.0, 206);
    assert_eq!(get(&signed("one"), None).await, (200, object.clone()));
    let answer = reqwest::get(signed("one")).await.unwrap();
    assert_eq!(answer.status().as_u16(), 403);
    let content_type = answer.headers()["content-type"].to_str().unwrap();
    assert_eq!(content_type, "application/xml");
    let request_id = answer.headers()["x-amz-request-id"].to_str().unwrap();
    let request_id = request_id.to_string();
    let body = answer.text().await.unwrap();
    let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
                    <Message>Request has expired</Message><X-Amz-Expires>900</X-Amz-Expires><Expires>";
    assert!(body.starts_with(expected), "{body}");
    assert!(body.contains("<ServerTime>"), "{body}");
    assert!(
        body.contains(&format!("<RequestId>{request_id}</RequestId>")),
        "{body}"
    );
    assert_eq!(store.expired(), 1);
    // A fresh signature is good again; a URL without one never expires.
    assert_eq!(get(&signed("two"), None).await, (200, object.clone()));
    let unsigned = format!("{}/bucket/{NAME}", store.base);
    for _ in 0..3 {
        assert_eq!(get(&unsigned, None).await.0, 200);
    }
    assert_eq!(store.expired(), 1);
    assert_eq!(store.answers().len(), 6, "the 403 is no object answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_byte_changes_the_answers_that_cover_it() {
    let (store, object) = store(11).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    let at = 200_000;
    store.faults.lock().unwrap().corrupt_byte_at = Some(at as u64);
    let mut bad = object.clone();
    bad[at] ^= 0xff;
    let (status, below) = get(&url, Some("bytes=0-99999")).await;
    assert!(
        status == 206 && below == object[..100_000],
        "a range short of it"
    );
    let (_, over) = get(&url, Some("bytes=150000-249999")).await;
    assert!(over == bad[150_000..250_000], "a range over it");
    let (_, tail) = get(&url, Some("bytes=-100000")).await;
    assert!(tail == bad[SIZE - 100_000..], "the tail, over it");
    assert!(get(&url, None).await.1 == bad, "the whole object, over it");
    store.faults.lock().unwrap().corrupt_only_partial = true;
    assert!(get(&url, None).await.1 == object, "200: right");
    let (status, over) = get(&url, Some("bytes=150000-249999")).await;
    assert!(
        status == 206 && over == bad[150_000..250_000],
        "206: still wrong"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_once_breaks_the_first_answer_from_its_start_midway() {
    let (store, object) = store(12).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    store.faults.lock().unwrap().cut_once = Some((100_000, 1000));
    let client = reqwest::Client::new();
    // Another start is not cut.
    let (status, first) = get(&url, Some("bytes=0-99999")).await;
    assert!(status == 206 && first == object[..100_000]);
    let (got, broke) = get_until_broken(&client, &url, "bytes=100000-199999").await;
    assert!(broke, "the body ended cleanly after {} bytes", got.len());
    assert!(got == object[100_000..101_000], "{} bytes came", got.len());
    assert_eq!(store.answers()[1].sent, 1000);
    assert_eq!(store.faults.lock().unwrap().cut_once, None, "it fired once");
    let (status, again) = get(&url, Some("bytes=100000-199999")).await;
    assert!(
        status == 206 && again == object[100_000..200_000],
        "later: whole"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_once_sends_its_bytes_before_the_break_on_a_capped_connection() {
    // At 1 MiB/s the 150 000 bytes take some 80 ms to go: the break waits.
    let object = noise(16, SIZE);
    let store = ObjectStore::start_capped(one_object(object.clone()), 1 << 20).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    store.faults.lock().unwrap().cut_once = Some((0, 150_000));
    let client = reqwest::Client::new();
    let (got, broke) = get_until_broken(&client, &url, "bytes=0-249999").await;
    assert!(broke, "the body ended cleanly after {} bytes", got.len());
    assert!(got == object[..150_000], "{} bytes came", got.len());
}

/// The body bytes of a GET with `range` (a 206) until its end, and whether
/// it broke rather than ended.
async fn get_until_broken(client: &reqwest::Client, url: &str, range: &str) -> (Vec<u8>, bool) {
    let mut answer = client.get(url).header("range", range).send().await;
    let answer = answer.as_mut().unwrap();
    assert_eq!(answer.status().as_u16(), 206);
    let mut got = Vec::new();
    loop {
        match answer.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_range_lets_another_finish_before_it() {
    // Capped, so that sending takes time enough to be seen from the client:
    // the first range, released, needs some 180 ms for what the bucket does
    // not hold; the second range some 10 ms.
    let object = noise(13, SIZE);
    let store = ObjectStore::start_capped(one_object(object.clone()), 1 << 20).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    store.faults.lock().unwrap().hold_at = Some(0);
    let started = Instant::now();
    let client = reqwest::Client::new();
    // A long first range and a short second one.
    let first = client.get(&url).header("range", "bytes=0-249999");
    let first = first.send().await.unwrap();
    assert_eq!(first.status().as_u16(), 206, "its headers come at once");
    let first = tokio::spawn(async move {
        let body = first.bytes().await.unwrap();
        (body, Instant::now())
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.answers()[0].sent, 0, "the first body is held");
    let (status, second) = get(&url, Some("bytes=250000-259999")).await;
    let second_done = Instant::now();
    assert!(status == 206 && second == object[250_000..260_000]);
    let (body, first_done) = first.await.unwrap();
    assert!(
        body == object[..250_000],
        "the first range came back changed"
    );
    assert!(first_done > second_done, "the first range finished first");
    assert!(
        started.elapsed() < HOLD_LIMIT,
        "released by the other answer, not by the time limit"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_range_gives_up_waiting_after_its_limit() {
    let (store, object) = store(14).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    store.faults.lock().unwrap().hold_at = Some(0);
    let started = Instant::now();
    let (status, body) = get(&url, Some("bytes=0-999")).await;
    let took = started.elapsed();
    assert!(status == 206 && body == object[..1000]);
    assert!(
        took >= HOLD_LIMIT && took < HOLD_LIMIT * 2,
        "alone, the first range came after {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_range_answers_200_with_the_whole_object() {
    let (store, object) = store(15).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    store.faults.lock().unwrap().ignore_range = true;
    for range in ["bytes=10-19", "bytes=-5", &format!("bytes={SIZE}-")] {
        let answer = reqwest::Client::new()
            .get(&url)
            .header("range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 200, "{range}");
        assert!(answer.headers().get("content-range").is_none(), "{range}");
        assert!(answer.bytes().await.unwrap() == object, "{range}");
    }
}
