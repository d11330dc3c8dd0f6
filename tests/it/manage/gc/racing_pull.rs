//! gc started while a pull is downloading into the same layout.

use crate::support;

use std::fs;
use std::time::Duration;

use regpull::Layout;
use support::{image, text};

/// gc started while a pull is downloading must not delete what the pull has
/// fetched but not yet recorded: it waits, then finds every blob referenced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_racing_a_pull_waits_for_it_and_keeps_what_it_fetched() {
    use std::io::BufRead;
    use support::fake_registry::{FakeRegistry, Faults};

    let big = image::noise(11, 4 << 20);
    let img = image::image(
        "linux",
        "amd64",
        &[&[("small", b"small layer")], &[("big", &big)]],
    );
    // Every attempt at the big layer stops after 1000 bytes, until the test says.
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(1000),
        drop_every_attempt: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let name = format!("{}/app:1", reg.host);
    let args = [
        "pull",
        "-q",
        "--timeout",
        "1",
        "--retries",
        "100",
        "-j",
        "1",
        "-o",
    ];
    let pull = support::regpull_command(&args)
        .arg(&root)
        .arg(&name)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // The small layer is in blobs/ (not yet in index.json) and the big one is partial.
    let small = img.layers[0].digest.clone();
    let partial = root.join(format!(
        ".regpull/partial/sha256-{}",
        img.layers[1].digest.hex()
    ));
    support::wait_until("the pull to get under way", Duration::from_secs(60), || {
        Layout::open(&root).is_ok_and(|l| l.blob_path(&small).exists())
            && fs::metadata(&partial).is_ok_and(|m| m.len() > 0)
    });

    let mut gc = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let gc_stderr = gc.stderr.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(gc_stderr)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(
        first_line.starts_with("waiting for the other regpull processes using"),
        "gc saw the pull: {first_line:?}"
    );
    // Only now may the pull finish.
    reg.shared.faults.lock().unwrap().drop_blobs_after = None;

    let (pull, gc) = tokio::task::spawn_blocking(move || {
        (
            pull.wait_with_output().unwrap(),
            gc.wait_with_output().unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(pull.status.success(), "{}", text(&pull.stderr));
    assert!(gc.status.success(), "{}", text(&gc.stderr));
    let report = text(&gc.stdout);
    assert!(
        report.starts_with("removed 0 unreferenced blobs"),
        "{report}"
    );
    assert!(
        report.contains("kept 4 blobs"),
        "manifest, config, two layers: {report}"
    );
    let layout = Layout::open(&root).unwrap();
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    assert!(layout.find_image(&name).unwrap().is_some());
}
