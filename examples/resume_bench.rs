//! Benchmark for resume: pull a BENCH_MIB (default 1024) MiB image from the
//! in-process fake registry, which stops sending every 100 MiB on every
//! attempt (the client's idle timeout then cuts the connection), and report the
//! bytes served relative to the image size. Run by `scripts/bench.sh`.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde_json::json;
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{Blob, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, TestImage};

const DROP_EVERY: usize = 100 << 20;

#[tokio::main]
async fn main() {
    let mib: usize = std::env::var("BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    // 256 MiB layers: each is cut twice (at 100 and 200 MiB), resumed transfers included.
    let layers = 4;
    let per = (mib << 20) / layers;
    // The bytes are served as they are; regpull verifies digests, not gzip.
    let blobs: Vec<Blob> = (0..layers)
        .map(|i| Blob::new(OCI_LAYER_GZIP, support::image::noise(i as u64, per)))
        .collect();
    let config = Blob::new(
        OCI_CONFIG,
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec(),
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": blobs.iter().map(Blob::descriptor).collect::<Vec<_>>(),
    });
    let img = TestImage {
        manifest: Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()),
        config,
        layers: blobs,
    };
    let size: u64 = img.layers.iter().map(|b| b.bytes.len() as u64).sum::<u64>()
        + img.config.bytes.len() as u64;
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(DROP_EVERY),
        drop_every_attempt: true,
        ..Default::default()
    })
    .await;
    reg.add_image("bench/resume", "1", &img);
    let exe = std::env::current_exe().unwrap();
    let regpull = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("regpull");
    let out = tempfile::tempdir().unwrap();
    let args = [
        "pull".to_string(),
        format!("{}/bench/resume:1", reg.host),
        "-o".into(),
        out.path().join("oci").display().to_string(),
        "-q".into(),
        // Long enough that a busy disk (writeback throttling) never looks like a
        // stalled connection; the fault's silence is what gets cut.
        "--timeout".into(),
        "5".into(),
        "--retries".into(),
        "100".into(),
    ];
    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || {
        // Its stdout (the reference it pulled) is not part of the report.
        std::process::Command::new(regpull)
            .args(&args)
            .stdout(std::process::Stdio::null())
            .status()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(status.success(), "regpull failed");
    let served = reg.shared.blob_bytes_served.load(Ordering::SeqCst);
    println!(
        "resume: {mib} MiB image, connection stalled every 100 MiB: served {served} bytes for {size} ({:.4}x), {:.1}s",
        served as f64 / size as f64,
        started.elapsed().as_secs_f64()
    );
}
