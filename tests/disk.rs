//! A pull that cannot fit stops before downloading, with a clear error (exit 8),
//! on a real small filesystem (a 1 MiB tmpfs).

mod support;

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
    let mut x: u32 = 99;
    let noise: Vec<u8> = (0..1_500_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
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
