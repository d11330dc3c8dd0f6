//! The test kit's own simulators do what the tests and benchmarks that use
//! them rely on: here, the object store's per-connection cap, its `Range`
//! answers and its count of the bytes it sent; the object store's faults and
//! the fake registry's ranges and redirects, the pull-through cache and the
//! relay in the modules below.

mod proxy;
mod registry;
mod store_faults;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::support;

use support::image::noise;
use support::object_store::{ObjectStore, Served, burst};

const NAME: &str = "sha256:0bject";

fn one_object(bytes: Vec<u8>) -> HashMap<String, Vec<u8>> {
    HashMap::from([(NAME.to_string(), bytes)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_object_store_caps_what_each_connection_sends() {
    let (size, cap) = (1u64 << 20, 4u64 << 20);
    let object = noise(1, size as usize);
    let store = ObjectStore::start_capped(one_object(object.clone()), cap).await;
    let started = Instant::now();
    let got = reqwest::get(format!("{}/bucket/{NAME}", store.base))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(got == object, "the object came back changed");
    // A bucket never lets more than `burst + cap * t` bytes out in t seconds,
    // however slow or busy the machine: only a broken cap gets here sooner.
    let floor = Duration::from_secs_f64((size - burst(cap)) as f64 / cap as f64);
    assert!(
        took >= floor,
        "{size} bytes at {cap} bytes/s took {took:?}, under {floor:?}"
    );
    assert_eq!(store.bytes_served(), size);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_object_store_answers_ranges_with_206_and_counts_what_it_sent() {
    let object = noise(2, 1000);
    let store = ObjectStore::start(one_object(object.clone())).await;
    let url = format!("{}/bucket/{NAME}", store.base);
    assert_ranges(&url, &range_cases(&object)).await;
    let answered: Vec<(u64, u64, bool, u64)> = store
        .answers()
        .iter()
        .map(|a: &Served| (a.start, a.end, a.partial, a.sent))
        .collect();
    assert_eq!(
        answered,
        [
            (100, 199, true, 100),
            (900, 999, true, 100),
            (990, 999, true, 10),
            (990, 999, true, 10),
            (0, 999, false, 1000),
        ],
        "every answer but the 416, with the bytes it sent"
    );
    assert_eq!(store.bytes_served(), 1220);
}

/// A range request and what it must get: (Range, status, Content-Range, the
/// bytes expected).
type RangeCase<'a> = (Option<&'a str>, u16, Option<&'a str>, &'a [u8]);

/// Every single range form, against a 1000-byte `object`.
fn range_cases(object: &[u8]) -> Vec<RangeCase<'_>> {
    vec![
        (
            Some("bytes=100-199"),
            206,
            Some("bytes 100-199/1000"),
            &object[100..200],
        ),
        (
            Some("bytes=900-"),
            206,
            Some("bytes 900-999/1000"),
            &object[900..],
        ),
        (
            Some("bytes=-10"),
            206,
            Some("bytes 990-999/1000"),
            &object[990..],
        ),
        (
            Some("bytes=990-5000"),
            206,
            Some("bytes 990-999/1000"),
            &object[990..],
        ),
        (Some("bytes=1000-"), 416, Some("bytes */1000"), b""),
        (None, 200, None, object),
    ]
}

/// GETs `url` with each case's Range and checks the answer.
async fn assert_ranges(url: &str, cases: &[RangeCase<'_>]) {
    let client = reqwest::Client::new();
    for &(range, status, content_range, expected) in cases {
        let mut request = client.get(url);
        if let Some(r) = range {
            request = request.header("range", r);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{range:?}");
        let header = answer.headers().get("content-range");
        let header = header.map(|v| v.to_str().unwrap().to_string());
        assert_eq!(header.as_deref(), content_range, "{range:?}");
        let body = answer.bytes().await.unwrap();
        if status != 416 {
            assert!(body == expected, "{range:?}: wrong bytes");
        }
    }
}
