//! Killed pulls and overlapping pulls: the layout stays valid after SIGKILL, the
//! next run resumes the cut blob instead of starting over, and several processes
//! pulling into one layout fetch each blob once.

use crate::support;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use regpull::Layout;
use support::fake_registry::{FakeRegistry, Faults};
use support::{image, regpull_command, require_tool, run_ok, text, wait_until};

fn two_layer_image() -> image::TestImage {
    let (a, b) = (image::noise(7, 600_000), image::noise(9, 900_000));
    image::image("linux", "amd64", &[&[("a.bin", &a)], &[("b.bin", &b)]])
}

/// Bytes of `img`'s config and layers in the layout: partial files plus finished blobs.
fn on_disk(out: &std::path::Path, img: &image::TestImage) -> u64 {
    img.blobs()
        .iter()
        .filter(|b| b.digest != img.manifest.digest)
        .map(|b| {
            let done = out.join("blobs/sha256").join(b.digest.hex());
            let partial = out
                .join(".regpull/partial")
                .join(format!("sha256-{}", b.digest.hex()));
            [done, partial]
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum::<u64>()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pull_leaves_a_valid_layout_and_the_next_run_resumes() {
    require_tool("umoci", "umoci");
    require_tool("skopeo", "skopeo");
    let reg = FakeRegistry::start(Faults::default()).await;
    let keep = image::image("linux", "amd64", &[&[("kept", b"an image pulled before")]]);
    let img = two_layer_image();
    reg.add_image("kept", "1", &keep);
    reg.add_image("big", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let outs = out.display().to_string();
    let o = regpull_command(&[
        "pull".into(),
        format!("{}/kept:1", reg.host),
        "-o".into(),
        outs.clone(),
        "-q".into(),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let kept_name = format!("{}/kept:1", reg.host);

    let start = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    let total: u64 = img
        .blobs()
        .iter()
        .filter(|b| b.digest != img.manifest.digest)
        .map(|b| b.bytes.len() as u64)
        .sum();
    let mut kills = 0;
    // Kill at several points of the transfer: each time the server has sent a
    // little more, and each time the layout must still be whole.
    for cut in [50_000usize, 400_000, 700_000, 100_000] {
        reg.shared.faults.lock().unwrap().drop_blobs_after = Some(cut);
        let before = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
        let mut child = regpull_command(&[
            "pull".into(),
            format!("{}/big:1", reg.host),
            "-o".into(),
            outs.clone(),
            "-q".into(),
            "--jobs".into(),
            "1".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let served = &reg.shared.blob_bytes_served;
        wait_until(
            "the server to send the cut",
            Duration::from_secs(60),
            || served.load(Ordering::SeqCst) >= before + cut as u64,
        );
        // Kill only once the client has written everything it was sent: Range is
        // honoured, so every byte served is on disk exactly once by then.
        wait_until(
            "the client to write what it got",
            Duration::from_secs(60),
            || on_disk(&out, &img) >= served.load(Ordering::SeqCst) - start,
        );
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;

        let layout = Layout::open(&out).unwrap();
        let index = layout.read_index().unwrap();
        for d in index.manifests() {
            let digest = regpull::Digest::parse(d.digest().as_ref()).unwrap();
            layout.verify_blob(&digest, d.size()).unwrap();
        }
        assert!(
            layout
                .find_image(&format!("{}/big:1", reg.host))
                .unwrap()
                .is_none(),
            "an unfinished image is not recorded"
        );
        run_ok(
            Command::new("skopeo")
                .arg("inspect")
                .arg(format!("oci:{outs}:{kept_name}")),
        );
        run_ok(
            Command::new("umoci")
                .args(["stat", "--image"])
                .arg(format!("{outs}:{kept_name}")),
        );
        reg.shared.faults.lock().unwrap().drop_blobs_after = None;
        // The server forgets which blobs it already cut, so the next cut applies again.
        reg.reset_attempts();
    }

    let before = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    let o = regpull_command(&[
        "pull".into(),
        format!("{}/big:1", reg.host),
        "-o".into(),
        outs.clone(),
        "-q".into(),
    ])
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let resumed = reg.shared.blob_bytes_served.load(Ordering::SeqCst) - before;
    // The kills left the second layer cut after 800 kB: only its remaining ~100 kB
    // (and nothing of the first layer) may be fetched again.
    assert!(
        resumed < 300_000,
        "the resumed run fetched {resumed} bytes, a fresh pull needs {total}"
    );
    let layout = Layout::open(&out).unwrap();
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    run_ok(
        Command::new("umoci")
            .args(["stat", "--image"])
            .arg(format!("{outs}:{}/big:1", reg.host)),
    );
    println!(
        "kill test: {kills} kills, layout valid after each; resumed run fetched {resumed} of {total} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_pulling_one_image_fetch_each_blob_once() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let img = two_layer_image();
    reg.add_image("big", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let outs = dir.path().join("oci").display().to_string();
    let children: Vec<_> = (0..4)
        .map(|_| {
            regpull_command(&[
                "pull".into(),
                format!("{}/big:1", reg.host),
                "-o".into(),
                outs.clone(),
                "-q".into(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let outputs = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for o in &outputs {
        assert!(o.status.success(), "{}", text(&o.stderr));
    }
    let counts = reg.blob_request_counts();
    for blob in img
        .blobs()
        .iter()
        .filter(|b| b.digest != img.manifest.digest)
    {
        assert_eq!(
            counts.get(&blob.digest.to_string()),
            Some(&1),
            "{} served more than once: {counts:?}",
            blob.digest
        );
    }
    let layout = Layout::open(dir.path().join("oci")).unwrap();
    assert_eq!(layout.read_index().unwrap().manifests().len(), 1);
}
