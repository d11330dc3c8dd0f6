//! What a fleet pulling through a pull-through cache costs the upstream, in
//! blob bytes, with the real Distribution (Debian's `docker-registry`) as
//! both the cache (proxy mode) and the token-auth upstream, and regpull
//! pulling with `--mirror UPSTREAM=CACHE` (docs/fleet.md quotes the figures):
//!
//! - (0) no cache: the nodes at once into one shared layout, straight from
//!   the upstream;
//! - (i) the floor: one cold pull through the cache alone;
//! - (ii) one warming pull, then BENCH_NODES (default 8) pulls at once into
//!   separate layouts, as a ratio of (i); and the same nodes with no warm-up;
//! - (iii) the cache SIGKILLed halfway through a cold pull: what regpull had
//!   kept, and what the upstream sent it for the rest (a relay holds the
//!   cache's answers back at half the image, so the kill lands midway).
//!
//! The image is BENCH_MIB (default 256) MiB in BENCH_LAYERS (default 4)
//! layers. Bytes are counted from the upstream's own log. Needs
//! `docker-registry`; regpull is the binary next to this example's directory
//! (build it first), or $REGPULL:
//!
//! ```sh
//! cargo build --bin regpull --example fleet_bench && target/debug/examples/fleet_bench
//! ```

#[path = "../tests/it/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::distribution_proxy::{PASSWORD, ProxySetup, USER, logged};
use support::image::{Blob, OCI_LAYER_GZIP, TestImage, assemble, noise};
use support::relay::Relay;
use support::wait_until;

const MIB: u64 = 1 << 20;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().expect("a whole number"))
        .unwrap_or(default)
}

fn regpull() -> PathBuf {
    if let Some(p) = std::env::var_os("REGPULL") {
        return p.into();
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().join("regpull")
}

/// regpull with `args`, isolated from this machine's credentials and settings.
fn command(args: &[String]) -> Command {
    let mut cmd = Command::new(regpull());
    cmd.args(args).stdin(Stdio::null());
    for var in support::ISOLATED_ENV {
        cmd.env_remove(var);
    }
    cmd.env("HOME", "/nonexistent/regpull-bench-home");
    cmd
}

struct Bench {
    img: TestImage,
    size: u64,
    nodes: usize,
    dir: tempfile::TempDir,
}

impl Bench {
    /// A fresh upstream and cache, the image pushed to the upstream.
    async fn setup(&self) -> ProxySetup {
        let setup = ProxySetup::start().await;
        setup.push("fleet/app", "1", &self.img).await;
        setup
    }

    fn args(&self, setup_mirror: &str, upstream: &str, out: &str, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "pull".to_string(),
            format!("{upstream}/fleet/app:1"),
            "-o".into(),
            self.dir.path().join(out).display().to_string(),
            "--mirror".into(),
            format!("{upstream}={setup_mirror}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// Runs pulls at once and waits for them all; fails loudly if one fails.
    async fn pull_all(&self, runs: Vec<Vec<String>>) {
        let children: Vec<_> = runs
            .iter()
            .map(|args| {
                command(args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
                .await
                .unwrap();
            assert!(
                o.status.success(),
                "a pull failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }

    /// Upstream blob bytes once the cache has stored every blob (its own
    /// fetches of cold blobs may end after the pulls did).
    fn settled(&self, setup: &ProxySetup) -> u64 {
        wait_until(
            "the cache to store every blob",
            Duration::from_secs(600),
            || setup.cache_holds(&self.img),
        );
        setup.upstream_served().blob_bytes
    }

    fn nodes(&self, cache: &str, upstream: &str, prefix: &str) -> Vec<Vec<String>> {
        (0..self.nodes)
            .map(|n| self.args(cache, upstream, &format!("{prefix}{n}"), &["-q"]))
            .collect()
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

#[tokio::main]
async fn main() {
    let (total, layers) = (setting("BENCH_MIB", 256), setting("BENCH_LAYERS", 4));
    let per = (total * MIB / layers) as usize;
    let blobs: Vec<Blob> = (0..layers)
        .map(|i| Blob::new(OCI_LAYER_GZIP, noise(1000 + i, per)))
        .collect();
    let diff_ids: Vec<_> = blobs.iter().map(|b| b.digest.clone()).collect();
    let img = assemble("linux", "amd64", blobs, &diff_ids, json!({}));
    let size = std::iter::once(&img.config)
        .chain(&img.layers)
        .map(|b| b.bytes.len() as u64)
        .sum();
    let b = Bench {
        img,
        size,
        nodes: setting("BENCH_NODES", 8) as usize,
        dir: tempfile::tempdir().unwrap(),
    };
    let version = Command::new("docker-registry").arg("--version").output();
    let version = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    println!(
        "fleet_bench: {} image ({layers} layers), {} nodes, {}, regpull {}",
        mib(size),
        b.nodes,
        version.unwrap_or_default(),
        regpull().display()
    );

    // (0) No cache: the nodes at once into one shared layout, straight
    // from the upstream (the per-blob lock lets one fetch each blob).
    let s = b.setup().await;
    let up = s.upstream.registry.host.clone();
    let before = s.upstream_served().blob_bytes;
    let shared: Vec<Vec<String>> = (0..b.nodes)
        .map(|_| {
            let mut args = vec!["pull".to_string(), format!("{up}/fleet/app:1"), "-o".into()];
            args.push(b.dir.path().join("shared").display().to_string());
            args.extend(["-q", "--username", USER, "--password", PASSWORD].map(String::from));
            args
        })
        .collect();
    b.pull_all(shared).await;
    // An answer is logged once it has ended, maybe after the client has it all.
    wait_until("the upstream's log", Duration::from_secs(60), || {
        s.upstream_served().blob_bytes - before >= size
    });
    let direct = s.upstream_served().blob_bytes - before;
    println!(
        "(0)   {} pulls at once into one shared layout, no cache: upstream sent {} = {:.2}x the image",
        b.nodes,
        mib(direct),
        direct as f64 / size as f64
    );
    drop(s);

    // (i) One cold pull through the cache.
    let s = b.setup().await;
    let (up, cache) = (s.upstream.registry.host.clone(), s.cache.host.clone());
    let before = s.upstream_served().blob_bytes;
    b.pull_all(vec![b.args(&cache, &up, "cold", &["-q"])]).await;
    let floor = b.settled(&s) - before;
    println!(
        "(i)   one cold pull through the cache: upstream sent {} = {:.2}x the image",
        mib(floor),
        floor as f64 / size as f64
    );
    drop(s);

    // (ii) A warming pull, then the nodes at once.
    let s = b.setup().await;
    let (up, cache) = (s.upstream.registry.host.clone(), s.cache.host.clone());
    let before = s.upstream_served();
    b.pull_all(vec![b.args(&cache, &up, "warm", &["-q"])]).await;
    b.settled(&s);
    let warmed = s.upstream_served();
    b.pull_all(b.nodes(&cache, &up, "node")).await;
    let fleet = s.upstream_served().since(&before).blob_bytes;
    let nodes = s.upstream_served().since(&warmed);
    println!(
        "(ii)  warm-up pull + {} pulls at once: upstream sent {} = {:.3}x (i); the {} pulls added {} blob bytes and {} requests ({} for manifests)",
        b.nodes,
        mib(fleet),
        fleet as f64 / floor as f64,
        b.nodes,
        nodes.blob_bytes,
        nodes.requests,
        nodes.manifest_requests
    );
    drop(s);

    // (ii') The same nodes at once, no warm-up.
    let s = b.setup().await;
    let (up, cache) = (s.upstream.registry.host.clone(), s.cache.host.clone());
    let before = s.upstream_served().blob_bytes;
    b.pull_all(b.nodes(&cache, &up, "cold-node")).await;
    let cold_fleet = b.settled(&s) - before;
    println!(
        "(ii') {} pulls at once, no warm-up: upstream sent {} = {:.2}x the image = {:.2}x (i)",
        b.nodes,
        mib(cold_fleet),
        cold_fleet as f64 / size as f64,
        cold_fleet as f64 / floor as f64
    );
    drop(s);

    cache_death(&b).await;
}

/// (iii) A cold pull whose cache is SIGKILLed once half the image has gone
/// through it: the bytes regpull kept, and what the upstream sent it after.
async fn cache_death(b: &Bench) {
    let mut s = b.setup().await;
    let up = s.upstream.registry.host.clone();
    let relay = Relay::start(&s.cache.host).await;
    relay.hold_after(b.size / 2);
    let events = b.dir.path().join("death.jsonl");
    let args = b.args(
        &relay.host,
        &up,
        "death",
        &[
            "--json",
            "--retries",
            "1",
            "--username",
            USER,
            "--password",
            PASSWORD,
        ],
    );
    let mut child = command(&args)
        .stdout(std::fs::File::create(&events).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Held: everything the relay let through has landed once the files
    // under the layout stop growing; half the image is far past any buffer.
    let out = b.dir.path().join("death");
    let on_disk = || disk_bytes(&out);
    wait_until("half the image on disk", Duration::from_secs(600), || {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the pull ended ({status}) before the cache could be killed");
        }
        relay.holding() && on_disk() >= b.size / 2 - 8 * MIB
    });
    let kept = on_disk();
    s.cache.kill();
    relay.close();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&events).unwrap();
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Bytes the upstream had to send: each blob's size less what it resumed from.
    let mut needed = 0;
    let mut from_upstream = false;
    for e in &events {
        match e["type"].as_str() {
            Some("blob_source") => from_upstream = e["source"] == up.as_str(),
            Some("blob_start") if from_upstream => {
                needed += e["size"].as_u64().unwrap() - e["resumed_from"].as_u64().unwrap();
            }
            _ => {}
        }
    }
    let log = s.upstream.registry.log();
    let sent: u64 = logged(&log)
        .iter()
        .filter(|r| r.by_regpull() && r.method == "GET" && r.is_blob())
        .map(|r| r.written)
        .sum();
    let skips = events.iter().filter(|e| e["type"] == "source_skip").count();
    println!(
        "(iii) cache killed mid-pull ({} of {} on disk when seen, {} kept in all): upstream sent regpull {} for the {} still needed: {} bytes refetched ({skips} source_skip events)",
        mib(kept),
        mib(b.size),
        mib(b.size - needed),
        mib(sent),
        mib(needed),
        sent as i64 - needed as i64
    );
}

/// Bytes of blobs in a layout: complete ones and partial downloads.
fn disk_bytes(out: &Path) -> u64 {
    let dir_bytes = |d: PathBuf| -> u64 {
        std::fs::read_dir(d)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    dir_bytes(out.join("blobs/sha256")) + dir_bytes(out.join(".regpull/partial"))
}
