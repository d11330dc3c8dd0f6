//! Benchmark server for a blob behind a redirect (issue 11, scenario c): the
//! in-process fake registry holds a BENCH_MIB (default 1024) MiB single-layer
//! image whose blobs redirect (307) to the kit's object store, which sends at
//! most BENCH_CAP_MB (default 40) MB (10^6 bytes) a second on each connection,
//! as CDNs do. Run by `scripts/bench.sh`; by hand:
//!
//! ```sh
//! cargo run --release --example bench_store
//! ```
//!
//! The first line on stdout is `IMAGE BYTES`: what to pull, and the size of its
//! blobs. Then, for each line read on stdin and once more when stdin closes
//! (when it exits), one line on what the store sent since the last one:
//! `served BYTES RATIO ANSWERS CONNECTIONS`, for the client that just ran.

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::io::{BufRead, Write};

use serde_json::json;
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{Blob, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, TestImage};
use support::object_store::ObjectStore;

fn setting(name: &str, default: u64) -> u64 {
    let Ok(value) = std::env::var(name) else {
        return default;
    };
    value.parse().unwrap_or_else(|_| {
        eprintln!("bench_store: {name}={value:?} is not a whole number");
        std::process::exit(2)
    })
}

/// One line on stdout, flushed; when no one reads it any more (the script
/// that started us was stopped), there is nothing left to do.
fn say(line: std::fmt::Arguments) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
        std::process::exit(0);
    }
}

#[tokio::main]
async fn main() {
    let mib = setting("BENCH_MIB", 1024);
    let cap = setting("BENCH_CAP_MB", 40) * 1_000_000;
    // The bytes are served as they are; regpull verifies digests, not gzip.
    let layer = Blob::new(
        OCI_LAYER_GZIP,
        support::image::noise(11, (mib << 20) as usize),
    );
    let config = Blob::new(
        OCI_CONFIG,
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_vec(),
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config.descriptor(),
        "layers": [layer.descriptor()],
    });
    let size = (layer.bytes.len() + config.bytes.len()) as u64;
    let img = TestImage {
        manifest: Blob::new(OCI_MANIFEST, serde_json::to_vec(&manifest).unwrap()),
        config,
        layers: vec![layer],
    };
    let reg = FakeRegistry::start(Faults::default()).await;
    reg.add_image("bench/redirect", "1", &img);
    drop(img);
    let store = ObjectStore::start_capped(reg.blobs(), cap).await;
    reg.shared.faults.lock().unwrap().redirect_blobs_to = Some(store.base.clone());
    say(format_args!("{}/bench/redirect:1 {size}", reg.host));

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for _ in std::io::stdin().lock().lines().map_while(Result::ok) {
            let _ = tx.send(());
        }
        // Dropping the sender tells the server that stdin closed.
    });
    loop {
        let more = rx.recv().await.is_some();
        let answers = store.take_answers();
        let bytes: u64 = answers.iter().map(|a| a.sent).sum();
        let connections: HashSet<u64> = answers.iter().map(|a| a.connection).collect();
        say(format_args!(
            "served {bytes} {:.4} {} {}",
            bytes as f64 / size as f64,
            answers.len(),
            connections.len()
        ));
        if !more {
            break;
        }
    }
}
