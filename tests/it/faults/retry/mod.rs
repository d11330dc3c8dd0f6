//! Transfers that survive the real world: retries with injected (never real)
//! pauses, Range resume that downloads no byte twice, servers that ignore Range,
//! Retry-After, and budgets that end.

use crate::support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regpull::auth::Anonymous;
use regpull::pull::{self, PullOptions, Silent};
use regpull::registry::ClientOptions;
use regpull::registry::idle::IdleClock;
use regpull::registry::retry::{RetryPolicy, Sleeper};
use regpull::{ErrorClass, ImageRef, Layout, Platform};
use support::fake_registry::{FakeRegistry, Faults};
use support::image;

mod redirects;

/// Records every pause instead of taking it.
#[derive(Default)]
struct Recorder(Mutex<Vec<Duration>>);

impl Sleeper for Recorder {
    fn sleep(
        &self,
        d: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        self.0.lock().unwrap().push(d);
        Box::pin(async {})
    }
}

fn big_image() -> image::TestImage {
    // Incompressible content so the gzip layer stays about 1 MiB.
    let data = image::noise(12345, 1 << 20);
    image::image("linux", "amd64", &[&[("big.bin", &data)]])
}

struct Run {
    /// The one image's outcome.
    result: Result<pull::PulledImage, pull::PullError>,
    pauses: Vec<Duration>,
    layout: Layout,
    _dir: tempfile::TempDir,
}

async fn run(reg: &FakeRegistry, retries: u32) -> Run {
    // The fault switch stalls instead of closing, so a short idle timeout cuts it.
    let client = ClientOptions {
        read_timeout: Duration::from_secs(1),
        ..ClientOptions::default()
    };
    run_with(reg, retries, client).await
}

async fn run_with(reg: &FakeRegistry, retries: u32, client: ClientOptions) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path().join("oci")).unwrap();
    let recorder = Arc::new(Recorder::default());
    let opts = PullOptions {
        platform: Platform::new("linux", "amd64", ""),
        all_platforms: false,
        preserve_digests: false,
        jobs: 2,
        client,
        retry: RetryPolicy {
            retries,
            sleeper: recorder.clone(),
            ..RetryPolicy::default()
        },
        hosts: Default::default(),
    };
    let refs = vec![
        ImageRef::parse(&format!("{}/app:1", reg.host))
            .unwrap()
            .into(),
    ];
    let result = match pull::pull(&layout, &refs, Arc::new(Anonymous), &opts, &Silent).await {
        Ok(mut report) => report.results.remove(0),
        Err(e) => Err(e),
    };
    let pauses = recorder.0.lock().unwrap().clone();
    Run {
        result,
        pauses,
        layout,
        _dir: dir,
    }
}

fn image_bytes(img: &image::TestImage) -> u64 {
    img.blobs()
        .iter()
        .filter(|b| b.digest != img.manifest.digest)
        .map(|b| b.bytes.len() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_transfer_resumes_with_range_and_fetches_no_byte_twice() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(300_000),
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 3).await;
    let image = r.result.unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(image.digest, img.manifest.digest);
    let served = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    assert_eq!(
        served,
        image_bytes(&img),
        "every byte was served exactly once"
    );
    assert_eq!(
        r.pauses.len(),
        1,
        "one retry for the one dropped layer (the config is too small to cut)"
    );
    for blob in img.blobs() {
        r.layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_ignores_range_is_handled_by_starting_over() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(300_000),
        ignore_range: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 3).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    let served = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    assert_eq!(
        served,
        image_bytes(&img) + 300_000,
        "the cut prefix was sent again, and the blob still verifies"
    );
    for blob in img.blobs() {
        r.layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_retry_after_is_honoured_in_full() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        blob_statuses: vec![(500, None), (429, Some("120")), (503, None)],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert_eq!(r.pauses.len(), 3);
    assert!(
        r.pauses.contains(&Duration::from_secs(120)),
        "Retry-After: 120 is not cut short: {:?}",
        r.pauses
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fatal_answers_are_not_retried_and_budgets_end() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        blob_statuses: vec![(404, None), (404, None)],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    let err = r.result.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert!(r.pauses.is_empty(), "a 404 is final: {:?}", r.pauses);

    // Attempts that advance nothing use the budget, and it ends.
    let reg = FakeRegistry::start(Faults {
        blob_statuses: vec![(503, None); 10],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 3).await;
    let err = r.result.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Network, "{err:?}");
    // The config and the layer fail on their own: each spends its budget.
    assert_eq!(
        r.pauses.len(),
        6,
        "exactly the budget twice: {:?}",
        r.pauses
    );
    let tmp: Vec<_> = std::fs::read_dir(r.layout.root().join(".regpull/tmp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        tmp.is_empty(),
        "a failed blob leaves no temporary file: {tmp:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_during_a_blob_is_renewed_and_the_blob_continues_with_range() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        token_uses: Some(3),
        drop_blobs_after: Some(300_000),
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 3).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert!(
        reg.shared.tokens_issued.load(Ordering::SeqCst) >= 2,
        "a fresh token was fetched"
    );
    assert_eq!(
        reg.shared.blob_bytes_served.load(Ordering::SeqCst),
        image_bytes(&img),
        "and no byte was fetched twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_answered_with_400_as_ecr_public_does_gets_a_fresh_token() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        token_uses: Some(2),
        expired_status: Some(400),
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 0).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert!(reg.shared.tokens_issued.load(Ordering::SeqCst) >= 2);
}

/// Every request goes through the one retry runner: the registry check when
/// connecting and the token request are retried as a blob is, and a status
/// that will not mend (501) is not, with the exit class saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_check_and_token_requests_are_retried_like_any_request() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        ping_statuses: vec![500, 502],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    assert!(
        r.result.is_ok(),
        "a 500 on GET /v2/ is retried: {:?}",
        r.result.err()
    );
    assert_eq!(r.pauses.len(), 2, "{:?}", r.pauses);

    let reg = FakeRegistry::start(Faults {
        token_uses: Some(100),
        token_statuses: vec![503],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    assert!(
        r.result.is_ok(),
        "a 503 from the token server is retried: {:?}",
        r.result.err()
    );
    assert_eq!(r.pauses.len(), 1, "{:?}", r.pauses);

    let reg = FakeRegistry::start(Faults {
        ping_statuses: vec![501],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 5).await;
    let err = r.result.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Usage, "{err:?}");
    assert!(r.pauses.is_empty(), "a 501 is final: {:?}", r.pauses);
    assert_eq!(
        reg.requests().iter().filter(|r| *r == "GET /v2/").count(),
        1
    );
}

/// An attempt that advanced the blob does not use up the budget: a link that
/// drops every 200 kB still delivers a 1 MiB blob with two retries, no byte
/// twice; the backoff starts again from its minimum after each advance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_that_advance_the_blob_do_not_use_up_the_budget() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(200_000),
        drop_every_attempt: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let r = run(&reg, 2).await;
    assert!(r.result.is_ok(), "{:?}", r.result.err());
    assert!(r.pauses.len() >= 5, "a drop every 200 kB: {:?}", r.pauses);
    let first = RetryPolicy::default().base;
    assert!(
        r.pauses.iter().all(|p| *p <= first),
        "each pause is the first one again: {:?}",
        r.pauses
    );
    assert_eq!(
        reg.shared.blob_bytes_served.load(Ordering::SeqCst),
        image_bytes(&img)
    );
}

/// A server that stalls at the same byte on every attempt ends the blob after
/// two idle timeouts, not after the whole budget of them: at the defaults
/// (30 s of silence, five retries) about two minutes, not six times the
/// timeout. The silences are waited out on the registry's own clock, not for
/// real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stall_at_the_same_byte_ends_the_blob_after_two_timeouts() {
    let img = big_image();
    let reg = FakeRegistry::start(Faults {
        stall_blobs: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let clock = reg.stall_clock();
    let client = ClientOptions {
        idle_clock: IdleClock::injected(clock.clone()),
        ..ClientOptions::default()
    };
    let r = run_with(&reg, RetryPolicy::default().retries, client).await;
    let err = r.result.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Network, "{err:?}");
    let said = support::error_chain(&err);
    assert!(said.contains("sent nothing for 30 s (--timeout)"), "{said}");
    // The config and the layer both stall: two attempts and one pause each.
    assert_eq!(r.pauses.len(), 2, "{:?}", r.pauses);
    let waited = clock.waited();
    let limit = ClientOptions::default().read_timeout;
    for blob in [&img.config, &img.layers[0]] {
        let of_blob: Vec<_> = waited
            .iter()
            .filter(|(path, _)| path.ends_with(&blob.digest.to_string()))
            .collect();
        assert_eq!(of_blob.len(), 2, "two silences each: {waited:?}");
        assert!(of_blob.iter().all(|(_, d)| *d == limit), "{waited:?}");
    }
    let spent = 2 * limit + r.pauses.iter().max().copied().unwrap_or_default();
    assert!(spent <= Duration::from_secs(150), "{spent:?}");
}
