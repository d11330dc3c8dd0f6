//! A pull-through cache SIGKILLed in the middle of a pull: regpull skips it
//! for the upstream and finishes, keeping the bytes it already had: the
//! upstream is asked, with Range, for the rest of the blob only.
//!
//! A relay in front of the cache lets 24 MiB of its answers through and then
//! holds the rest back, so the pull is caught midway whatever the machine's
//! speed; the cache dies (and the relay with it) only once the partial file
//! holds 16 MiB.

use std::process::Stdio;
use std::time::Duration;

use super::{MIB, assert_pulled, image_of, mirror, pull_args};
use crate::support::distribution_proxy::{Logged, PASSWORD, ProxySetup, USER, logged};
use crate::support::json_doc::{of_type, validate};
use crate::support::relay::Relay;
use crate::support::{regpull_command, text, wait_until};

/// The big layer: well over the parallel-ranges threshold.
const SIZE: u64 = 64 * MIB as u64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_killed_mid_pull_is_skipped_and_the_upstream_sends_only_the_rest() {
    let mut setup = ProxySetup::start().await;
    let img = image_of(21, 1, SIZE as usize);
    let layer = img.layers[0].clone();
    setup.push("team/big", "1", &img).await;
    let upstream = setup.upstream.registry.host.clone();
    let relay = Relay::start(&setup.cache.host).await;
    relay.hold_after(24 * MIB as u64);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let m = mirror(&upstream, &relay.host);
    let extra = [
        m[0].as_str(),
        &m[1],
        "--retries",
        "1",
        "--username",
        USER,
        "--password",
        PASSWORD,
    ];
    let events_file = dir.path().join("events.jsonl");
    let args = pull_args(&format!("{upstream}/team/big:1"), &out, &extra);
    let mut child = regpull_command(&args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&events_file).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let partial = out
        .join(".regpull/partial")
        .join(format!("sha256-{}", layer.digest.hex()));
    let len = || std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    wait_until(
        "the relay to hold the cache's answer back with 16 MiB of the layer on disk",
        Duration::from_secs(120),
        || {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the pull ended ({status}) before the cache could be killed");
            }
            relay.holding() && len() >= 16 * MIB as u64
        },
    );
    // What the partial file holds before the kill; it may only grow after.
    let kept = len();
    setup.cache.kill();
    relay.close();
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = text(&o.stderr);
    assert!(
        o.status.success(),
        "the pull failed ({}):\n{stderr}",
        o.status
    );
    assert_pulled(&out, &img).await;

    let events = validate(&std::fs::read_to_string(&events_file).unwrap());
    let resolved = of_type(&events, "resolved");
    assert_eq!(resolved[0]["source"], relay.host.as_str(), "{resolved:?}");
    let what = format!("blob {}", layer.digest);
    let skips = of_type(&events, "source_skip");
    assert!(
        skips.len() == 1 && skips[0]["source"] == relay.host.as_str() && skips[0]["what"] == what,
        "one source_skip, of the cache for the layer: {skips:?}\n{stderr}"
    );
    let digest = layer.digest.to_string();
    let layer_sources: Vec<&str> = of_type(&events, "blob_source")
        .iter()
        .filter(|e| e["digest"] == digest.as_str())
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(layer_sources, [relay.host.as_str(), upstream.as_str()]);
    let starts: Vec<u64> = of_type(&events, "blob_start")
        .iter()
        .filter(|e| e["digest"] == digest.as_str())
        .map(|e| e["resumed_from"].as_u64().unwrap())
        .collect();
    assert!(
        starts.len() == 2 && starts[1] >= kept,
        "the upstream took over from the {kept} bytes kept: blob_start resumed_from {starts:?}"
    );

    // What regpull asked of the upstream for the layer: ranges of the rest,
    // at least what it lacked (Distribution logs an answer once it has
    // ended, which may be after the client has it all).
    let asked = || -> Vec<_> {
        logged(&setup.upstream.registry.log())
            .into_iter()
            .filter(|r| r.by_regpull() && r.method == "GET" && r.uri.contains(&digest))
            .collect()
    };
    let sent = |asked: &[Logged]| -> u64 { asked.iter().map(|r| r.written).sum() };
    wait_until(
        "the upstream's log to count what regpull lacked",
        Duration::from_secs(60),
        || sent(&asked()) >= SIZE - starts[1],
    );
    let asked = asked();
    let served = sent(&asked);
    assert!(
        !asked.is_empty() && asked.iter().all(|r| r.status == 206),
        "the upstream was asked for ranges: {asked:#?}"
    );
    assert!(
        served <= SIZE - kept + MIB as u64,
        "the upstream sent {served} bytes of the layer; {kept} of {SIZE} were on disk: {asked:#?}"
    );
}
