//! A pull killed (SIGKILL) with ranges in flight leaves its partial file and
//! a record of the spans it holds, holes and all: the next run fetches only
//! what the record lacks, and `regpull gc` removes a stale partial together
//! with its record.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use super::{MIB, SIZE, World, assert_pulled, assert_success, layer_answers, recorded_spans};
use super::{partial_leftovers, total};
use crate::support::fake_registry::Faults;
use crate::support::object_store::ObjectStore;
use crate::support::{regpull_command, text, wait_until};

/// Each connection of the store sends at most this a second: two ranges
/// take some two seconds to land 8 MiB between them, and the whole blob
/// several, so the pull is caught midway.
const CAP: u64 = 4_000_000;

/// Runs the pull and SIGKILLs it once its range record claims more than
/// 8 MiB in at least two separate spans (ranges in flight side by side);
/// returns the spans the record claims after the kill.
fn kill_with_ranges_in_flight(w: &World) -> Vec<(u64, u64)> {
    let mut child = regpull_command(&w.pull_args(&["-q"]))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let record = w.record();
    wait_until(
        "the range record to claim over 8 MiB in separate spans",
        Duration::from_secs(120),
        || {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the pull ended ({status}) before it could be killed midway");
            }
            let spans = recorded_spans(&record);
            spans.len() >= 2 && total(&spans) > 8 * MIB
        },
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = recorded_spans(&record);
    assert!(
        total(&kept) < SIZE,
        "killed midway, the record claims the whole blob: {kept:?}"
    );
    let blob = w.out.join("blobs/sha256").join(w.layer().digest.hex());
    assert!(!blob.exists(), "the killed pull committed the blob");
    assert!(w.partial().exists(), "the partial file was kept");
    kept
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_killed_with_ranges_in_flight_resumes_only_the_missing_spans() {
    let w = World::start(501, Some(CAP), Faults::default()).await;
    let kept = kill_with_ranges_in_flight(&w);
    let recorded = total(&kept);

    // The rerun fetches from a second, uncapped store with the same
    // objects: its count is the rerun's alone.
    let fresh = ObjectStore::start(w.reg.blobs()).await;
    w.reg.shared.faults.lock().unwrap().redirect_blobs_to = Some(fresh.base.clone());
    let o = w.pull(&[]).await;
    assert_success(&o);
    assert_pulled(&w.out, &w.img).await;

    let answers = layer_answers(&fresh, &w.img);
    for a in &answers {
        assert!(
            kept.iter().all(|&(s, e)| a.end < s || a.start >= e),
            "a kept span was fetched again: {a:?}; kept {kept:?}"
        );
    }
    let served: u64 = answers.iter().map(|a| a.sent).sum();
    assert!(
        served <= SIZE - recorded + MIB,
        "the rerun fetched {served} bytes; {recorded} of {SIZE} were kept ({kept:?}): {answers:?}"
    );
    assert!(
        answers.iter().all(|a| a.partial),
        "the rerun fetched ranges: {answers:?}"
    );
}

fn age(path: &std::path::Path, by: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_removes_a_stale_partial_with_its_range_record() {
    let w = World::start(901, Some(CAP), Faults::default()).await;
    kill_with_ranges_in_flight(&w);
    let (partial, record) = (w.partial(), w.record());
    assert!(record.exists(), "the killed pull left its range record");
    // Older than PARTIAL_MAX_AGE (a day), both.
    let old = Duration::from_secs(3 * 24 * 3600);
    age(&partial, old);
    age(&record, old);
    // A recent partial with its record, kept for resuming; an old record
    // whose partial is gone, removed for its age.
    let dir = w.out.join(".regpull/partial");
    std::fs::write(dir.join("sha256-recent"), vec![0u8; 1000]).unwrap();
    std::fs::write(dir.join("sha256-recent.ranges"), "0 1000\n").unwrap();
    std::fs::write(dir.join("sha256-orphan.ranges"), "0 10\n").unwrap();
    age(&dir.join("sha256-orphan.ranges"), old);

    let out = w.out.clone();
    let o = tokio::task::spawn_blocking(move || {
        regpull_command(&["gc", "--layout"])
            .arg(&out)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "{stdout}{}", text(&o.stderr));
    assert!(stdout.contains("1 stale partial downloads"), "{stdout}");
    assert!(!partial.exists(), "the stale partial is gone");
    assert!(
        !record.exists(),
        "the stale partial's range record went with it"
    );
    assert!(dir.join("sha256-recent").exists());
    assert!(
        dir.join("sha256-recent.ranges").exists(),
        "a recent partial keeps its record"
    );
    assert!(
        !dir.join("sha256-orphan.ranges").exists(),
        "an old record without its partial is removed"
    );
    let left = partial_leftovers(&w.out);
    assert_eq!(
        left.len(),
        2,
        "only the recent partial and its record are left: {left:?}"
    );
}
