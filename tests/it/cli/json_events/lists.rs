//! Lists of images under `--json`: a prefetch list with bad entries, a blob
//! two registries share when the first cannot serve it, and a long list whose
//! manifests are fetched a few at a time.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{FakeRegistry, Faults, image, of_type, pull_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefetch_list_pulls_every_good_entry_and_names_the_bad_ones() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let shared: &[(&str, &[u8])] = &[("etc/base", b"a base layer all three share\n")];
    let mut names = Vec::new();
    for n in 0..3 {
        let own = format!("app {n}\n");
        let img = image::image("linux", "amd64", &[shared, &[("app", own.as_bytes())]]);
        reg.add_image(&format!("team/app{n}"), "1", &img);
        names.push(format!("{}/team/app{n}:1", reg.host));
    }
    let idx = image::multi_platform(false);
    for (_, img) in &idx.images {
        reg.add_image("multi", &img.manifest.digest.to_string(), img);
    }
    reg.serve_manifest_as("multi", "1", &idx.index);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("images.txt");
    let host = &reg.host;
    std::fs::write(
        &list,
        format!(
            "# nightly prefetch\n\n{}\n{host}/team/missing:1   # gone from the registry\n\
             {}\nBad//Name\n{} --platform linux/arm64/v8\n{}\n{host}/multi:1 --platform linux/arm/v7\n",
            names[0], names[1], names[2], names[0]
        ),
    )
    .unwrap();
    let out = dir.path().join("oci");
    let run = pull_json(&out, &[], &["-f", list.to_str().unwrap()]).await;
    // The unreadable line is a usage error, which a retry cannot mend.
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let summary = run.events.last().unwrap();
    assert_eq!(summary["pulled"], 4, "{summary}");
    assert_eq!(summary["images"], 6);
    let failed: Vec<&str> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.contains(&"Bad//Name"));
    assert!(failed.contains(&format!("{host}/team/missing:1").as_str()));
    let bad_line = of_type(&run.events, "image_failed")
        .into_iter()
        .find(|e| e["reference"] == "Bad//Name")
        .unwrap()
        .clone();
    assert!(
        bad_line["error"].as_str().unwrap().contains("images.txt:6"),
        "{bad_line}"
    );
    assert!(run.stderr.contains("images.txt:6"), "{}", run.stderr);
    // The base layer the three images share is fetched once, as is every blob.
    let counts = reg.blob_request_counts();
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert_eq!(of_type(&run.events, "blob_start").len(), counts.len());
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let recorded: BTreeSet<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
                .into()
        })
        .collect();
    let mut expected: BTreeSet<String> = names.iter().cloned().collect();
    expected.insert(format!("{host}/multi:1"));
    assert_eq!(recorded, expected);
    let multi = of_type(&run.events, "image_done")
        .into_iter()
        .find(|e| e["name"] == format!("{host}/multi:1"))
        .unwrap()
        .clone();
    assert_eq!(
        multi["platforms"],
        serde_json::json!(["linux/arm/v7"]),
        "the line's own platform"
    );
}

/// Two registries serve images sharing a layer; the first cannot serve any
/// blob. The shared layer then comes from the second, whose image is pulled,
/// and only the first registry's image fails, blamed on that registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_blob_comes_from_the_next_registry_when_the_first_fails() {
    let broken = FakeRegistry::start(Faults {
        blob_statuses: vec![(404, None); 10],
        ..Default::default()
    })
    .await;
    let healthy = FakeRegistry::start(Faults::default()).await;
    let base: &[(&str, &[u8])] = &[("etc/base", b"a base layer both images share\n")];
    let a = image::image("linux", "amd64", &[base, &[("app", b"image a\n")]]);
    let b = image::image("linux", "amd64", &[base, &[("app", b"image b\n")]]);
    assert_eq!(a.layers[0].digest, b.layers[0].digest);
    broken.add_image("team/a", "1", &a);
    healthy.add_image("team/b", "1", &b);
    let dir = tempfile::tempdir().unwrap();
    let names = [
        format!("{}/team/a:1", broken.host),
        format!("{}/team/b:1", healthy.host),
    ];
    let run = pull_json(&dir.path().join("oci"), &names, &["--retries", "0"]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    let done = of_type(&run.events, "image_done");
    assert_eq!(done.len(), 1, "{:?}", run.events);
    assert_eq!(done[0]["reference"], names[1]);
    let failed = of_type(&run.events, "image_failed");
    assert_eq!(failed.len(), 1, "{:?}", run.events);
    assert_eq!(failed[0]["reference"], names[0]);
    assert_eq!(failed[0]["registry"], broken.host);
    let shared = a.layers[0].digest.to_string();
    assert_eq!(healthy.blob_request_counts().get(&shared), Some(&1));
}

/// Thirty images in a list are resolved a few at a time, not all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_keeps_its_manifest_requests_bounded() {
    let reg = FakeRegistry::start(Faults {
        manifest_delay: Some(std::time::Duration::from_millis(50)),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut list = String::new();
    for n in 0..30 {
        let own = format!("image {n}\n");
        let img = image::image("linux", "amd64", &[&[("n", own.as_bytes())]]);
        reg.add_image(&format!("svc{n}"), "1", &img);
        list.push_str(&format!("{}/svc{n}:1\n", reg.host));
    }
    let path = dir.path().join("images.txt");
    std::fs::write(&path, list).unwrap();
    let out = dir.path().join("oci");
    let run = pull_json(&out, &[], &["-f", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.events.last().unwrap()["pulled"], 30);
    let most = reg
        .shared
        .max_manifests_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        most <= regpull::pull::RESOLVE_CONCURRENCY,
        "{most} manifest requests at once"
    );
}
