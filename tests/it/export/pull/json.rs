//! `export --json`: the pull's events when it pulls (no `summary`), one
//! `export_layer` per layer unpacked, `exported` last, and one `error` when
//! it fails; every event checked against docs/json.md.

use std::path::Path;

use serde_json::Value;

use super::{export, registry_with};
use crate::support::image;
use crate::support::json_doc::{of_type, validate};
use crate::support::text;

/// The exit code and the events of `regpull export --json ...`.
fn export_json(layout: &Path, name: &str, output: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = export(layout, name, output, &args);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains('{'), "no JSON on stderr: {stderr}");
    assert!(!stderr.contains("unpacking layer"), "{stderr}");
    (out.status.code().unwrap(), validate(&text(&out.stdout)))
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

#[test]
fn export_json_has_the_pulls_events_then_a_layer_each_then_exported() {
    let img = image::image(
        "linux",
        "amd64",
        &[&[("etc/hello", b"one\n")], &[("usr/bin/tool", b"two\n")]],
    );
    let (reg, name) = registry_with(&img);
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");

    let rootfs = dir.path().join("rootfs");
    let (code, events) = export_json(&layout, &name, &rootfs, &["--format", "rootfs"]);
    assert_eq!(code, 0, "{events:?}");
    let t = types(&events);
    assert_eq!(t[..2], ["credentials", "resolved"]);
    assert_eq!(
        of_type(&events, "blob_done").len(),
        3,
        "config and two layers"
    );
    assert!(!t.contains(&"summary"), "{t:?}");
    let done = t.iter().position(|&t| t == "image_done").unwrap();
    assert_eq!(t[done + 1..], ["export_layer", "export_layer", "exported"]);
    for (n, layer) in of_type(&events, "export_layer").iter().enumerate() {
        assert_eq!(layer["number"], n + 1);
        assert_eq!(layer["total"], 2);
        assert_eq!(layer["digest"], img.layers[n].digest.to_string());
        assert!(layer["uncompressed"].as_u64().unwrap() >= 1024, "{layer}");
    }
    let exported = events.last().unwrap();
    assert_eq!(exported["name"], name);
    assert_eq!(exported["digest"], img.manifest.digest.to_string());
    assert_eq!(exported["platform"], "linux/amd64");
    assert_eq!(exported["format"], "rootfs");
    assert_eq!(exported["output"], rootfs.display().to_string());
    assert_eq!(exported["bytes"], Value::Null, "a directory");
    assert!(exported["files"].as_u64().unwrap() >= 2, "{exported}");

    // Present now: no pull; an archive unpacks nothing and has a size.
    let tar = dir.path().join("app.tar");
    let (code, events) = export_json(&layout, &name, &tar, &[]);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(types(&events), ["exported"]);
    assert_eq!(events[0]["format"], "docker-archive");
    assert_eq!(events[0]["bytes"], tar.metadata().unwrap().len());
    assert_eq!(events[0]["files"], Value::Null);

    // Failing as a whole: the error event, last.
    let gone = format!("{}/team/app:gone", reg.host);
    let nothing = dir.path().join("nothing.sqsh");
    let (code, events) = export_json(&layout, &gone, &nothing, &["--pull", "never"]);
    assert_eq!((code, types(&events)), (4, vec!["error"]));
    assert_eq!(events[0]["class"], "not_found");
    assert_eq!(events[0]["exit_code"], 4);
    let (code, events) = export_json(&layout, &gone, &nothing, &["--retries", "0"]);
    assert_eq!(code, 4, "{events:?}");
    assert_eq!(
        types(&events),
        ["credentials", "image_failed", "error"],
        "the pull's failure, then the export's"
    );
    assert!(!nothing.exists());
}
