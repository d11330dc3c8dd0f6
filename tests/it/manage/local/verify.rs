//! `verify` of a local layout: a whole one, corrupted, truncated, deleted and
//! stray blobs, a pull in progress, a manifest that is not one.

use crate::support;

use std::fs;
use std::path::Path;

use support::image;
use support::json_doc::{of_type, validate};
use support::text;

use super::{APP, MULTI, TOOL, fixture, index_blobs, run, size_of, write_blob};

fn flip_first_byte(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    bytes[0] ^= 0xff;
    fs::write(path, bytes).unwrap();
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
