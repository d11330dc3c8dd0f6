//! A pull-through cache (the real Distribution in proxy mode) in front of a
//! token-auth upstream: the first pull through it is served by it, never
//! touches the upstream itself and stores what a direct pull stores; once
//! it is warm, eight pulls at once into eight layouts (eight nodes) cost the
//! upstream no blob byte more, only the cache's revalidation of the tag; and
//! eight pulls at once into one shared layout fetch each blob once.

use std::process::Stdio;
use std::time::Duration;

use super::{assert_pulled, contents, image_of, mirror, pull, pull_args};
use crate::support::distribution_proxy::{PASSWORD, ProxySetup, Served, USER, logged};
use crate::support::image::TestImage;
use crate::support::{regpull_command, text, wait_until};

const NODES: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_pull_through_a_cache_is_served_by_it_and_matches_a_direct_pull() {
    let setup = ProxySetup::start().await;
    let img = image_of(11, 3, super::MIB);
    setup.push("team/app", "1", &img).await;
    let upstream = setup.upstream.registry.host.clone();
    let reference = format!("{upstream}/team/app:1");
    let dir = tempfile::tempdir().unwrap();
    let before = setup.upstream_served();

    let via = dir.path().join("via-cache");
    let m = mirror(&upstream, &setup.cache.host);
    let p = pull(&reference, &via, &[&m[0], &m[1]]).await;
    p.assert_success().assert_all_from(&setup.cache.host);
    let blobs: Vec<String> = p.blob_sources().into_iter().map(|(d, _)| d).collect();
    assert_eq!(blobs.len(), 4, "config and three layers: {blobs:?}");
    assert_pulled(&via, &img).await;

    // The cache fetched every blob from the upstream (Distribution logs an
    // answer once it has ended, which may be after the client has it all)...
    let size = blob_bytes(&img);
    wait_until(
        "the upstream's log to count every blob sent to the cache",
        Duration::from_secs(60),
        || setup.upstream_served().since(&before).blob_bytes >= size,
    );
    // ...and regpull never asked the upstream anything.
    let log = setup.upstream.registry.log();
    let asked: Vec<_> = logged(&log)
        .into_iter()
        .filter(|r| r.by_regpull())
        .collect();
    assert!(asked.is_empty(), "regpull asked the upstream: {asked:?}");

    // A direct pull, with the upstream's credentials, stores the same.
    let direct = dir.path().join("direct");
    let d = pull(
        &reference,
        &direct,
        &["--username", USER, "--password", PASSWORD],
    )
    .await;
    d.assert_success().assert_all_from(&upstream);
    assert_eq!(contents(&via), contents(&direct));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_nodes_pulling_at_once_from_a_warm_cache_cost_the_upstream_no_blob_bytes() {
    let setup = ProxySetup::start().await;
    let img = image_of(12, 2, 2 * super::MIB);
    setup.push("team/app", "2", &img).await;
    let upstream = setup.upstream.registry.host.clone();
    let reference = format!("{upstream}/team/app:2");
    let m = mirror(&upstream, &setup.cache.host);
    let dir = tempfile::tempdir().unwrap();

    // One pull warms the cache; the cache's own copy of a cold blob may
    // land after the pull has its bytes.
    let warm = dir.path().join("warm");
    pull(&reference, &warm, &[&m[0], &m[1]])
        .await
        .assert_success();
    wait_until(
        "the cache to store every blob",
        Duration::from_secs(60),
        || setup.cache_holds(&img),
    );
    let before = setup.upstream_served();

    let nodes: Vec<_> = (0..NODES)
        .map(|n| {
            let out = dir.path().join(format!("node{n}"));
            let args = pull_args(&reference, &out, &[&m[0], &m[1], "-q"]);
            let child = regpull_command(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    let mut outs = Vec::new();
    for (out, child) in nodes {
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(
            o.status.success(),
            "a node's pull failed ({}): {}",
            o.status,
            text(&o.stderr)
        );
        outs.push(out);
    }
    for out in &outs {
        assert_pulled(out, &img).await;
    }

    let after = setup.upstream_served();
    let extra = after.since(&before);
    let log = setup.upstream.registry.log();
    let since: Vec<_> = logged(&log).split_off(before.requests);
    assert_eq!(
        extra.blob_bytes, 0,
        "the upstream served blob bytes to a warm cache: {extra:?}: {since:#?}"
    );
    // Distribution's proxy asks the upstream which manifest the tag names on
    // every request by tag (a HEAD; 2.8.2 sends one per node): that is all.
    assert!(
        since
            .iter()
            .all(|r| r.method == "HEAD" && r.uri.ends_with("/manifests/2") && !r.by_regpull()),
        "only the cache's checks of the tag reached the upstream: {since:#?}"
    );
    assert!(
        extra.manifest_requests <= NODES,
        "at most one manifest request per node: {since:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_pulls_into_one_shared_layout_fetch_each_blob_from_the_cache_once() {
    let setup = ProxySetup::start().await;
    let img = image_of(13, 3, 2 * super::MIB);
    setup.push("team/app", "3", &img).await;
    let upstream = setup.upstream.registry.host.clone();
    let reference = format!("{upstream}/team/app:3");
    let m = mirror(&upstream, &setup.cache.host);
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");

    // Eight processes into one layout (a prefetch run on every node of a
    // shared filesystem): the per-blob lock lets one fetch each blob while
    // the others wait, then find it whole.
    let children: Vec<_> = (0..NODES)
        .map(|_| {
            regpull_command(&pull_args(&reference, &shared, &[&m[0], &m[1]]))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut fetched = Vec::new();
    for child in children {
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
            .await
            .unwrap();
        assert!(o.status.success(), "a pull failed: {}", text(&o.stderr));
        let events = crate::support::json_doc::validate(&text(&o.stdout));
        let done = crate::support::json_doc::of_type(&events, "blob_done");
        fetched.extend(
            done.iter()
                .map(|e| e["digest"].as_str().unwrap().to_string()),
        );
    }
    assert_pulled(&shared, &img).await;
    fetched.sort();
    let mut expected: Vec<String> = std::iter::once(&img.config)
        .chain(&img.layers)
        .map(|b| b.digest.to_string())
        .collect();
    expected.sort();
    assert_eq!(fetched, expected, "each blob fetched by one process only");
    let size = blob_bytes(&img);
    let from_cache = || Served::of(&logged(&setup.cache.log()));
    wait_until(
        "the cache's log to count the blobs it sent",
        Duration::from_secs(60),
        || from_cache().blob_bytes >= size,
    );
    let from_cache = from_cache();
    assert_eq!(
        from_cache.blob_bytes, size,
        "the cache sent each blob once: {from_cache:?}"
    );
}

/// The bytes of an image's config and layers.
fn blob_bytes(img: &TestImage) -> u64 {
    std::iter::once(&img.config)
        .chain(&img.layers)
        .map(|b| b.bytes.len() as u64)
        .sum()
}
