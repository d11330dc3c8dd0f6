//! A pull that cannot fit stops before downloading, with a clear error (exit 8),
//! on a real small filesystem (a 1 MiB tmpfs).

use crate::support;

use std::process::Command;

use support::fake_registry::{FakeRegistry, Faults};
use support::{image, pull_from, text};

/// A tmpfs mounted for the test's life.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (CI runs as root): {}",
            text(&out.stderr)
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0.path()).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_that_cannot_fit_stops_before_downloading() {
    let fs = Tmpfs::mount("1m");
    let noise = image::noise(99, 1_500_000);
    let img = image::image("linux", "amd64", &[&[("big", &noise)]]);
    let reg = FakeRegistry::start(Faults::default()).await;
    reg.add_image("big", "1", &img);
    let out = fs.0.path().join("oci");
    let o = pull_from(&reg.host, "big:1", &out, &[]).await;
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains("bytes free, but the pull needs"),
        "{stderr}"
    );
    assert!(stderr.contains("regpull gc"), "{stderr}");
    assert_eq!(
        reg.blob_request_counts().values().sum::<usize>(),
        0,
        "no blob was requested"
    );
    let index = std::fs::read_to_string(out.join("index.json")).unwrap();
    assert!(!index.contains("big"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_up_mid_write_is_exit_8_and_the_partial_is_kept() {
    let fs = Tmpfs::mount("4m");
    let noise = image::noise(7, 600_000);
    let img = image::image("linux", "amd64", &[&[("layer", &noise)]]);
    let layer = img.layers[0].clone();
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(300_000),
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let out = fs.0.path().join("oci");
    let partial = out
        .join(".regpull/partial")
        .join(format!("sha256-{}", layer.digest.hex()));
    let pull = {
        let (host, out) = (reg.host.clone(), out.clone());
        tokio::spawn(async move {
            pull_from(&host, "app:1", &out, &["--timeout", "3", "--jobs", "1"]).await
        })
    };
    // Once the first 300 kB are on disk (and the server has gone quiet), fill the disk.
    support::wait_until(
        "the first 300 kB on disk",
        std::time::Duration::from_secs(60),
        || std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) >= 300_000,
    );
    let filler = fs.0.path().join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.write_all(&[0u8; 4096]);
        while f.write_all(&[0u8; 1]).is_ok() {}
    }
    let o = pull.await.unwrap();
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(8), "{stderr}");
    assert!(
        stderr.contains("the disk holding the layout is full"),
        "{stderr}"
    );
    let kept = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    assert!(
        kept >= 300_000,
        "the partial download is kept for later: {kept} bytes"
    );

    std::fs::remove_file(&filler).unwrap();
    reg.reset_attempts();
    reg.shared.faults.lock().unwrap().drop_blobs_after = None;
    let before = reg
        .shared
        .blob_bytes_served
        .load(std::sync::atomic::Ordering::SeqCst);
    let o = pull_from(&reg.host, "app:1", &out, &[]).await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let again = reg
        .shared
        .blob_bytes_served
        .load(std::sync::atomic::Ordering::SeqCst)
        - before;
    assert!(
        again < layer.bytes.len() as u64,
        "resumed after the disk was freed: {again} bytes fetched"
    );
}
