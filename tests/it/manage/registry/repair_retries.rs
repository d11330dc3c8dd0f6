//! `verify --repair` honouring `--retries` and `--timeout`, against the fake
//! registry.

use crate::support;

use std::fs;
use std::process::Output;

use regpull::Layout;
use support::fake_registry::{FakeRegistry, Faults};
use support::json_doc::{of_type, validate};
use support::text;

use super::app_image;

/// `regpull ARGS` from inside a tokio test, where the in-process registry runs.
async fn run_async(args: Vec<String>) -> (Output, std::time::Duration) {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let out = support::regpull_command(&args).output().unwrap();
        (out, started.elapsed())
    })
    .await
    .unwrap()
}

/// The next blob request the fake registry answers is 503 (its scripted
/// statuses are indexed by how many blob requests it has answered).
fn fail_next_blob_request(reg: &FakeRegistry) {
    let served = reg
        .requests()
        .iter()
        .filter(|r| r.contains("/blobs/"))
        .count();
    reg.shared.faults.lock().unwrap().blob_statuses = vec![(503, None); served + 1];
}

/// A repair's pull takes verify's --retries and --timeout as `pull` takes its
/// own: one 503 is survived with one retry and fails the repair with none, and
/// a stalled blob is given up on after --timeout and resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_repair_honours_retries_and_timeout() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let app = app_image();
    reg.add_image("team/app", "1", &app);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let out = root.to_str().unwrap().to_string();
    let name = format!("{}/team/app:1", reg.host);
    let (o, _) = run_async(vec![
        "pull".into(),
        "-q".into(),
        "-o".into(),
        out.clone(),
        name.clone(),
    ])
    .await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let layout = Layout::open(&root).unwrap();
    let big = &app.layers[1];
    let repair = |extra: &[&str]| {
        let mut args: Vec<String> = ["verify", "--repair", "--json", "--layout", &out]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        run_async(args)
    };

    fs::remove_file(layout.blob_path(&big.digest)).unwrap();
    fail_next_blob_request(&reg);
    let (o, _) = repair(&["--retries", "0"]).await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(
        of_type(&events, "verify_summary")[0]["repaired"],
        serde_json::json!([])
    );
    assert!(text(&o.stderr).contains("503"), "{}", text(&o.stderr));
    assert!(!layout.blob_path(&big.digest).exists());

    fail_next_blob_request(&reg);
    let big_gets = || {
        let path = format!("GET /v2/team/app/blobs/{}", big.digest);
        reg.requests().iter().filter(|r| **r == path).count()
    };
    let before = big_gets();
    let (o, _) = repair(&["--retries", "1"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(
        of_type(&events, "verify_summary")[0]["repaired"],
        serde_json::json!([name])
    );
    assert_eq!(big_gets() - before, 2, "the 503, then the blob");
    layout
        .verify_blob(&big.digest, big.bytes.len() as u64)
        .unwrap();

    // The first attempt at the blob stalls after 1000 bytes; without
    // --timeout 1, the 30 s default would wait it out.
    fs::remove_file(layout.blob_path(&big.digest)).unwrap();
    reg.reset_attempts();
    reg.shared.faults.lock().unwrap().drop_blobs_after = Some(1000);
    let (o, took) = repair(&["--retries", "1", "--timeout", "1"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    layout
        .verify_blob(&big.digest, big.bytes.len() as u64)
        .unwrap();
}
