//! `rm`: the names given go, names not there are reported.

use crate::support;

use std::fs;

use serde_json::Value;
use support::image;
use support::json_doc::validate;
use support::text;

use super::{APP, MULTI, TOOL, fixture, run};

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
