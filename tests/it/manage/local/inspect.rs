//! `inspect --layout`: an image read from a local layout.

use crate::support;

use support::json_doc::validate;
use support::text;

use super::{APP, MULTI, fixture, run, size_of};

#[test]
fn inspect_reads_an_image_from_a_local_layout() {
    let f = fixture();
    let o = run(
        &["inspect", "--json", "--platform", "linux/arm64", MULTI],
        &f.root,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let e = &events[0];
    let arm64 = &f.multi.images[1].1;
    assert_eq!(e["type"], "inspect");
    assert_eq!(e["source"], "layout");
    assert_eq!(e["digest"], f.multi.index.digest.to_string());
    assert_eq!(e["platforms"].as_array().unwrap().len(), 3);
    assert_eq!(e["platform"], "linux/arm64/v8");
    assert_eq!(e["manifest_digest"], arm64.manifest.digest.to_string());
    assert_eq!(e["config"]["architecture"], "arm64");
    assert_eq!(e["config"]["cmd"], serde_json::json!(["/bin/sh"]));
    assert_eq!(e["config"]["created"], "2024-01-01T00:00:00Z");
    assert_eq!(e["layers"][0]["digest"], arm64.layers[0].digest.to_string());
    assert_eq!(e["total_size"], size_of(&[&arm64.config, &arm64.layers[0]]));

    let o = run(&["inspect", APP], &f.root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let human = text(&o.stdout);
    assert!(
        human.contains(&format!("manifest:     {}", f.app.manifest.digest)),
        "{human}"
    );
    assert!(human.contains("platform:     linux/amd64"), "{human}");
    assert!(
        human.contains(&f.app.layers[1].digest.to_string()),
        "{human}"
    );

    let o = run(&["inspect", "example.com/team/nope:1"], &f.root);
    assert_eq!(o.status.code(), Some(4));
    let o = run(&["inspect", "--platform", "windows/amd64", MULTI], &f.root);
    assert_eq!(o.status.code(), Some(4), "no such platform");
    assert!(
        text(&o.stderr).contains("linux/arm/v7"),
        "{}",
        text(&o.stderr)
    );
}
