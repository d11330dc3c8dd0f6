//! Managing a layout: `list`, `verify`, `rm` and `inspect --layout`, on layouts
//! built in place with several images (shared layers, an index, a pulled-at
//! annotation). The registry side is in manage/registry.rs.

use crate::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use regpull::Layout;
use regpull::layout::PULLED_AT_ANNOTATION;
use serde_json::Value;
use support::image::{self, TestImage, TestIndex};
use support::json_doc::{of_type, validate};
use support::text;

const APP: &str = "example.com/team/app:1";
const TOOL: &str = "example.com/team/tool:2";
const MULTI: &str = "example.com/team/multi:3";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    layout: Layout,
    app: TestImage,
    tool: TestImage,
    multi: TestIndex,
}

/// app and tool share their first layer; multi is a 3-platform index (plus an
/// attestation entry); tool carries a pulled-at annotation.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let app = image::image("linux", "amd64", &[shared, &[("app", b"the app")]]);
    let tool = image::image("linux", "arm64", &[shared, &[("tool", b"the tool")]]);
    image::store(&layout, APP, &app);
    for blob in tool.blobs() {
        write_blob(&layout, blob);
    }
    let mut desc = tool.manifest.descriptor();
    desc["annotations"] = serde_json::json!({ PULLED_AT_ANNOTATION: "2024-05-01T10:00:00Z" });
    layout
        .add_image(TOOL, &serde_json::from_value(desc).unwrap())
        .unwrap();
    let multi = image::multi_platform(false);
    for (_, img) in &multi.images {
        for blob in img.blobs() {
            write_blob(&layout, blob);
        }
    }
    write_blob(&layout, &multi.index);
    layout
        .add_image(
            MULTI,
            &serde_json::from_value(multi.index.descriptor()).unwrap(),
        )
        .unwrap();
    Fixture {
        _dir: dir,
        root,
        layout,
        app,
        tool,
        multi,
    }
}

fn write_blob(layout: &Layout, blob: &image::Blob) {
    let mut w = layout
        .blob_writer(&blob.digest, Some(blob.bytes.len() as u64))
        .unwrap();
    w.write_chunk(&blob.bytes).unwrap();
    w.commit().unwrap();
}

fn run(args: &[&str], root: &Path) -> Output {
    support::regpull_command(args)
        .arg("--layout")
        .arg(root)
        .output()
        .unwrap()
}

fn size_of(blobs: &[&image::Blob]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    blobs
        .iter()
        .filter(|b| seen.insert(b.digest.clone()))
        .map(|b| b.bytes.len() as u64)
        .sum()
}

fn index_blobs(idx: &TestIndex) -> Vec<&image::Blob> {
    let mut all = vec![&idx.index];
    for (_, img) in &idx.images {
        all.extend(img.blobs());
    }
    all
}

fn flip_first_byte(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes[0] ^= 0xff;
    fs::write(path, bytes).unwrap();
}

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
fn verify_passes_a_whole_layout_and_hashes_every_blob() {
    let f = fixture();
    let o = run(&["verify", "--json"], &f.root);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(events.len(), 1, "no problem events");
    let summary = &events[0];
    let mut all = f.app.blobs();
    all.extend(f.tool.blobs());
    all.extend(index_blobs(&f.multi));
    let distinct = {
        let mut d: Vec<_> = all.iter().map(|b| b.digest.clone()).collect();
        d.sort();
        d.dedup();
        d.len()
    };
    assert_eq!(summary["blobs_checked"], distinct);
    assert_eq!(summary["bytes_checked"], size_of(&all));
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["problems"], 0);
    let human = run(&["verify"], &f.root);
    assert!(
        text(&human.stdout).contains("all good"),
        "{}",
        text(&human.stdout)
    );
}

#[test]
fn verify_names_a_corrupted_layer_and_every_image_it_breaks() {
    let f = fixture();
    let shared = &f.app.layers[0];
    flip_first_byte(&f.layout.blob_path(&shared.digest));
    let o = run(&["verify"], &f.root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&shared.digest.to_string()))
        .unwrap_or_else(|| panic!("the blob is named: {stdout}"));
    assert!(line.contains("content hashes to sha256:"), "{line}");
    assert!(line.contains(APP) && line.contains(TOOL), "{line}");
    assert!(!line.contains(MULTI), "{line}");
    let stderr = text(&o.stderr);
    assert!(stderr.contains("1 damaged or missing blob\n"), "{stderr}");
    assert!(
        stderr.contains("hint: `regpull verify --repair"),
        "{stderr}"
    );

    let o = run(&["verify", "--json"], &f.root);
    assert_eq!(o.status.code(), Some(7));
    let events = validate(&text(&o.stdout));
    let problems = of_type(&events, "problem");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["kind"], "wrong_content");
    assert_eq!(problems[0]["images"], serde_json::json!([APP, TOOL]));
    assert_eq!(problems[0]["repaired"], false);
    assert_eq!(of_type(&events, "verify_summary")[0]["ok"], false);

    // Only the named image is checked, and it does not use the damaged layer.
    let o = run(&["verify", "example.com/team/multi:3"], &f.root);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = run(&["verify", "example.com/team/nope:1"], &f.root);
    assert_eq!(o.status.code(), Some(4), "an unknown name is not found");
    assert!(
        text(&o.stderr).contains("regpull list"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn verify_reports_deleted_truncated_and_stray_blobs() {
    let f = fixture();
    let config = &f.tool.config;
    fs::remove_file(f.layout.blob_path(&config.digest)).unwrap();
    let layer = &f.multi.images[1].1.layers[0];
    let path = f.layout.blob_path(&layer.digest);
    let short = fs::read(&path).unwrap()[..10].to_vec();
    fs::write(&path, short).unwrap();
    let stray = regpull::Digest::sha256_of(b"something else");
    fs::write(f.layout.blob_path(&stray), b"not what its name says").unwrap();
    let o = run(&["verify", "--json"], &f.root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let problems = of_type(&events, "problem");
    let find = |d: &regpull::Digest| {
        *problems
            .iter()
            .find(|p| p["digest"] == d.to_string())
            .unwrap_or_else(|| panic!("{d} reported: {events:?}"))
    };
    assert_eq!(find(&config.digest)["kind"], "missing");
    assert_eq!(find(&config.digest)["images"], serde_json::json!([TOOL]));
    assert_eq!(find(&layer.digest)["kind"], "wrong_size");
    assert_eq!(find(&layer.digest)["images"], serde_json::json!([MULTI]));
    assert_eq!(find(&stray)["kind"], "wrong_content");
    assert_eq!(find(&stray)["images"], serde_json::json!([]));
    assert_eq!(problems.len(), 3);
    assert_eq!(of_type(&events, "verify_summary")[0]["problems"], 3);

    // list walks the same way: it counts the missing config, and says so.
    let o = run(&["list", "--json"], &f.root);
    let images = validate(&text(&o.stdout));
    let tool = images.iter().find(|e| e["name"] == TOOL).unwrap();
    assert_eq!(tool["blobs"], 4, "{tool}");
    assert_eq!(tool["missing_blobs"], 1, "{tool}");
    assert_eq!(tool["unreadable_documents"], 0, "{tool}");
    let o = run(&["list"], &f.root);
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {TOOL} references 1 blob not in the layout and 0 documents"
        )),
        "{stderr}"
    );
}

#[test]
fn verify_and_list_ignore_a_pull_in_progress() {
    let f = fixture();
    // What a running pull leaves mid-way: its shared gc lock held, a blob half
    // written under .regpull/partial, another committed but not yet in index.json.
    let _pulling = f.layout.pull_guard().unwrap();
    let half = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(7, 100_000));
    let mut writer = f
        .layout
        .blob_writer(&half.digest, Some(half.bytes.len() as u64))
        .unwrap();
    writer.write_chunk(&half.bytes[..50_000]).unwrap();
    let done = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(8, 10_000));
    write_blob(&f.layout, &done);
    for args in [&["verify"][..], &["list", "--json"]] {
        let o = run(args, &f.root);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", text(&o.stdout));
    }
    let o = run(&["verify", "--json"], &f.root);
    let events = validate(&text(&o.stdout));
    assert_eq!(events.len(), 1, "no problem: {events:?}");
    drop(writer);
}

#[test]
fn rm_removes_the_names_given_and_reports_those_not_there() {
    let f = fixture();
    let alpine = image::image("linux", "amd64", &[&[("etc/alpine", b"3.20")]]);
    image::store(&f.layout, "docker.io/library/alpine:3.20", &alpine);
    let o = run(
        &["rm", "alpine:3.20", "example.com/team/nope:1", APP],
        &f.root,
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(&format!(
            "removed docker.io/library/alpine:3.20 {}",
            alpine.manifest.digest
        )),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("removed {APP} ")), "{stdout}");
    let stderr = text(&o.stderr);
    assert!(stderr.contains("regpull gc"), "{stderr}");
    assert!(stderr.contains("example.com/team/nope:1"), "{stderr}");
    assert!(stderr.contains("hint: `regpull list"), "{stderr}");
    let names: Vec<String> = f
        .layout
        .images()
        .unwrap()
        .into_iter()
        .filter_map(|i| i.name)
        .collect();
    assert_eq!(names, vec![TOOL.to_string(), MULTI.to_string()]);

    // A short ref name another tool wrote (skopeo copy oci:DIR:latest) is
    // matched as it is, not read as docker.io/library/latest:latest.
    image::store(&f.layout, "latest", &alpine);
    let o = run(&["rm", "latest"], &f.root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("removed latest "),
        "{}",
        text(&o.stdout)
    );

    let o = run(&["rm", "--json", TOOL], &f.root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "removed");
    assert_eq!(events[0]["name"], TOOL);
    assert_eq!(events[0]["digest"], f.tool.manifest.digest.to_string());
    let index: Value =
        serde_json::from_slice(&fs::read(f.root.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["schemaVersion"], 2);
}

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

#[test]
fn a_manifest_that_is_not_one_is_reported_unparseable() {
    let f = fixture();
    let bogus = f.layout.write_blob(b"{\"schemaVersion\": 2}").unwrap();
    let desc = serde_json::json!({
        "mediaType": image::OCI_MANIFEST,
        "digest": bogus.to_string(),
        "size": 20,
    });
    let name = "example.com/team/bogus:1";
    f.layout
        .add_image(name, &serde_json::from_value(desc).unwrap())
        .unwrap();
    let o = run(&["verify", "--json", name], &f.root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let problems = of_type(&events, "problem");
    assert_eq!(problems.len(), 1, "{events:?}");
    assert_eq!(problems[0]["kind"], "unparseable");
    assert_eq!(problems[0]["digest"], bogus.to_string());
    assert_eq!(problems[0]["images"], serde_json::json!([name]));

    let o = run(&["inspect", name], &f.root);
    assert_eq!(o.status.code(), Some(8), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.starts_with(&format!("error: inspecting {name} in ")),
        "{stderr}"
    );
    assert!(
        stderr.contains("is corrupt: not an image manifest"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("the registry sent"),
        "the layout's copy is at fault: {stderr}"
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
