//! `inspect` of a remote image: what it reports, and that no layer is fetched.

use crate::support;

use regpull::Digest;
use support::distribution::{Auth, Distribution};
use support::image;
use support::json_doc::validate;
use support::push::{PushAuth, Pusher};
use support::text;

use super::{app_image, run, seed_runtime};

/// Blob GETs the registry answered for `digest`, from its request log.
fn blob_gets_of(log: &str, digest: &Digest) -> usize {
    log.lines()
        .filter(|l| {
            l.contains("http.request.method=GET")
                && l.contains(&format!("/blobs/{digest}"))
                && l.contains("response.status=200")
        })
        .count()
}

#[test]
fn inspect_describes_a_remote_image_without_fetching_a_layer() {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(false);
    seed_runtime().block_on(Pusher::new(&reg.host, None, PushAuth::None).index(
        "team/multi",
        "v1",
        &idx,
    ));
    let name = format!("{}/team/multi:v1", reg.host);
    let o = run(&["inspect", "--json", "--platform", "linux/arm/v7", &name]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let e = &events[0];
    let arm = &idx.images[2].1;
    assert_eq!(e["type"], "inspect");
    assert_eq!(e["source"], "registry");
    assert_eq!(e["reference"], name);
    assert_eq!(e["digest"], idx.index.digest.to_string());
    let platforms: Vec<&str> = e["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
    assert_eq!(
        e["platforms"][1]["digest"],
        idx.images[1].1.manifest.digest.to_string()
    );
    assert_eq!(e["platform"], "linux/arm/v7");
    assert_eq!(e["manifest_digest"], arm.manifest.digest.to_string());
    assert_eq!(e["config"]["digest"], arm.config.digest.to_string());
    assert_eq!(e["config"]["os"], "linux");
    assert_eq!(e["layers"][0]["size"], arm.layers[0].bytes.len());

    let single = app_image();
    seed_runtime()
        .block_on(Pusher::new(&reg.host, None, PushAuth::None).image("team/app", "1", &single));
    let app = format!("{}/team/app:1", reg.host);
    let o = run(&["inspect", &app]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let human = text(&o.stdout);
    assert!(
        human.contains(&single.layers[1].digest.to_string()),
        "{human}"
    );
    assert!(human.contains("platform:     linux/amd64"), "{human}");

    let log = reg.log();
    assert_eq!(
        blob_gets_of(&log, &arm.config.digest),
        1,
        "the config is read"
    );
    assert_eq!(blob_gets_of(&log, &single.config.digest), 1);
    for (_, img) in &idx.images {
        for layer in &img.layers {
            assert_eq!(
                blob_gets_of(&log, &layer.digest),
                0,
                "no layer is downloaded"
            );
        }
    }
    for layer in &single.layers {
        assert_eq!(
            blob_gets_of(&log, &layer.digest),
            0,
            "no layer is downloaded"
        );
    }

    let o = run(&["inspect", &format!("{}/team/nope:1", reg.host)]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).starts_with("error: inspecting "),
        "{}",
        text(&o.stderr)
    );
}
