//! `list`: each image with platforms, size and pull time; an empty or missing
//! layout.

use crate::support;

use regpull::Layout;
use support::image;
use support::json_doc::{of_type, validate};
use support::text;

use super::{APP, MULTI, TOOL, fixture, index_blobs, run, size_of};

#[test]
fn list_shows_each_image_with_platforms_size_and_pull_time() {
    let f = fixture();
    let o = run(&["list", "--json"], &f.root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let images = of_type(&events, "image");
    assert_eq!(images.len(), 3);
    let by_name = |n: &str| *images.iter().find(|e| e["name"] == n).unwrap();
    let app = by_name(APP);
    assert_eq!(app["digest"], f.app.manifest.digest.to_string());
    assert_eq!(app["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(app["size"], size_of(&f.app.blobs()));
    let written = app["pulled_at"].as_str().unwrap();
    assert!(
        written.len() == 20 && written.ends_with('Z') && written.as_bytes()[10] == b'T',
        "without the annotation, the manifest file's time in RFC 3339: {written}"
    );
    let tool = by_name(TOOL);
    assert_eq!(tool["platforms"], serde_json::json!(["linux/arm64"]));
    assert_eq!(tool["pulled_at"], "2024-05-01T10:00:00Z");
    let multi = by_name(MULTI);
    assert_eq!(
        multi["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]),
        "the attestation entry is no platform"
    );
    assert_eq!(multi["size"], size_of(&index_blobs(&f.multi)));
    assert_eq!(multi["media_type"], image::OCI_INDEX);

    let o = run(&["list"], &f.root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("NAME"), "{table}");
    let column = lines[0].find("DIGEST").unwrap();
    let short = &f.tool.manifest.digest.hex()[..12];
    let tool_line = lines.iter().find(|l| l.starts_with(TOOL)).unwrap();
    assert_eq!(tool_line.find(short), Some(column), "aligned:\n{table}");
    assert!(tool_line.ends_with("2024-05-01T10:00:00Z"), "{table}");
    assert!(
        table.contains("linux/amd64,linux/arm64/v8,linux/arm/v7"),
        "{table}"
    );
}

#[test]
fn list_of_an_empty_layout_says_so_on_stderr_and_a_missing_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    Layout::open_or_create(&root).unwrap();
    let o = run(&["list"], &root);
    assert!(o.status.success());
    assert!(o.stdout.is_empty(), "{}", text(&o.stdout));
    assert!(
        text(&o.stderr).starts_with("no images in "),
        "{}",
        text(&o.stderr)
    );
    let o = run(&["list", "--json"], &root);
    assert!(o.stdout.is_empty(), "no event for no image");

    let o = run(&["list"], &dir.path().join("nothing-here"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("is not an OCI image layout"),
        "{}",
        text(&o.stderr)
    );
}
