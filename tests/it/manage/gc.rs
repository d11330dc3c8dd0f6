//! `regpull gc`: unreferenced blobs and stale partial downloads go; everything an
//! image in index.json needs, and recent partials, stay.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use regpull::{Digest, Layout};
use serde_json::{Value, json};
use support::json_doc::validate;
use support::{image, require_tool, run_ok, text};

#[test]
fn gc_frees_what_no_image_needs_and_keeps_the_rest_readable() {
    require_tool("umoci", "umoci");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let keep = image::image("linux", "amd64", &[shared, &[("app", b"kept app")]]);
    let drop_ = image::image("linux", "amd64", &[shared, &[("app", b"dropped app")]]);
    image::store(&layout, "example.com/keep:1", &keep);
    image::store(&layout, "example.com/drop:1", &drop_);
    assert!(layout.remove_image("example.com/drop:1").unwrap());

    let partial = root.join(".regpull/partial");
    fs::write(partial.join("sha256-old"), vec![0u8; 1000]).unwrap();
    let old = fs::File::options()
        .write(true)
        .open(partial.join("sha256-old"))
        .unwrap();
    old.set_modified(SystemTime::now() - Duration::from_secs(3 * 24 * 3600))
        .unwrap();
    fs::write(partial.join("sha256-recent"), vec![0u8; 500]).unwrap();

    let o = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    // The dropped image's manifest, config and own layer; not the shared layer.
    assert!(
        stdout.starts_with("removed 3 unreferenced blobs"),
        "{stdout}"
    );
    assert!(stdout.contains("1 stale partial downloads"), "{stdout}");

    for blob in keep.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    assert!(!layout.blob_path(&drop_.manifest.digest).exists());
    assert!(!layout.blob_path(&drop_.layers[1].digest).exists());
    assert!(
        layout.blob_path(&drop_.layers[0].digest).exists(),
        "the shared layer stays"
    );
    assert!(!partial.join("sha256-old").exists());
    assert!(
        partial.join("sha256-recent").exists(),
        "a recent partial is kept for resuming"
    );
    run_ok(
        std::process::Command::new("umoci")
            .args(["stat", "--image"])
            .arg(format!("{}:example.com/keep:1", root.display())),
    );

    let again = layout.gc(&|| panic!("no pull is running")).unwrap();
    assert_eq!(
        (again.blobs_removed, again.partials_removed),
        (0, 0),
        "gc is idempotent"
    );
}

/// gc started while a pull is downloading must not delete what the pull has
/// fetched but not yet recorded: it waits, then finds every blob referenced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_racing_a_pull_waits_for_it_and_keeps_what_it_fetched() {
    use std::io::BufRead;
    use support::fake_registry::{FakeRegistry, Faults};

    let big = image::noise(11, 4 << 20);
    let img = image::image(
        "linux",
        "amd64",
        &[&[("small", b"small layer")], &[("big", &big)]],
    );
    // Every attempt at the big layer stops after 1000 bytes, until the test says.
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(1000),
        drop_every_attempt: true,
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let name = format!("{}/app:1", reg.host);
    let args = [
        "pull",
        "-q",
        "--timeout",
        "1",
        "--retries",
        "100",
        "-j",
        "1",
        "-o",
    ];
    let pull = support::regpull_command(&args)
        .arg(&root)
        .arg(&name)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // The small layer is in blobs/ (not yet in index.json) and the big one is partial.
    let small = img.layers[0].digest.clone();
    let partial = root.join(format!(
        ".regpull/partial/sha256-{}",
        img.layers[1].digest.hex()
    ));
    support::wait_until("the pull to get under way", Duration::from_secs(60), || {
        Layout::open(&root).is_ok_and(|l| l.blob_path(&small).exists())
            && fs::metadata(&partial).is_ok_and(|m| m.len() > 0)
    });

    let mut gc = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let gc_stderr = gc.stderr.take().unwrap();
    let first_line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(gc_stderr)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    assert!(
        first_line.starts_with("waiting for the other regpull processes using"),
        "gc saw the pull: {first_line:?}"
    );
    // Only now may the pull finish.
    reg.shared.faults.lock().unwrap().drop_blobs_after = None;

    let (pull, gc) = tokio::task::spawn_blocking(move || {
        (
            pull.wait_with_output().unwrap(),
            gc.wait_with_output().unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(pull.status.success(), "{}", text(&pull.stderr));
    assert!(gc.status.success(), "{}", text(&gc.stderr));
    let report = text(&gc.stdout);
    assert!(
        report.starts_with("removed 0 unreferenced blobs"),
        "{report}"
    );
    assert!(
        report.contains("kept 4 blobs"),
        "manifest, config, two layers: {report}"
    );
    let layout = Layout::open(&root).unwrap();
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    assert!(layout.find_image(&name).unwrap().is_some());
}

/// The spec lets producers leave `mediaType` out of descriptors (and out of
/// documents). A layout whose index.json entry points at an index without
/// one, whose entries point at manifests without one, keeps every blob those
/// reach through gc, exactly as `verify` and `list` count them.
#[test]
fn gc_keeps_what_descriptors_without_media_types_reach() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let img = image::image("linux", "amd64", &[&[("etc/a", b"a")], &[("etc/b", b"b")]]);
    image::store_blobs(&layout, &img);
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"digest": img.manifest.digest.to_string(), "size": img.manifest.bytes.len(),
                        "platform": {"os": "linux", "architecture": "amd64"}}],
    }))
    .unwrap();
    let index_digest = layout.write_blob(&index).unwrap();
    let top: oci_spec::image::Descriptor = serde_json::from_value(serde_json::json!({
        "mediaType": "", "digest": index_digest.to_string(), "size": index.len(),
    }))
    .unwrap();
    layout.add_image("example.com/bare:1", &top).unwrap();
    let o = support::regpull_command(&["gc", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("removed 0 unreferenced blobs"),
        "{}",
        text(&o.stdout)
    );
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap();
    }
    let v = support::regpull_command(&["verify", "--layout"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(v.status.success(), "verify after gc: {}", text(&v.stderr));
}

/// `regpull ARGS --layout ROOT`.
fn on_layout(args: &[&str], root: &Path) -> Output {
    support::regpull_command(args)
        .arg("--layout")
        .arg(root)
        .output()
        .unwrap()
}

/// Every file under `blobs/`, as `alg:hex`.
fn stored(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for alg in fs::read_dir(root.join("blobs")).unwrap() {
        let alg = alg.unwrap();
        for blob in fs::read_dir(alg.path()).unwrap() {
            let name = blob.unwrap().file_name();
            out.insert(format!(
                "{}:{}",
                alg.file_name().to_string_lossy(),
                name.to_string_lossy()
            ));
        }
    }
    out
}

/// What the shared walk reaches from every image, as `alg:hex`.
fn reached(root: &Path) -> BTreeSet<String> {
    let layout = Layout::open(root).unwrap();
    layout
        .walk()
        .unwrap()
        .iter()
        .flat_map(|(_, w)| w.blobs.iter().map(|b| b.digest.to_string()))
        .collect()
}

fn list_events(root: &Path) -> Vec<Value> {
    let o = on_layout(&["list", "--json"], root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    validate(&text(&o.stdout))
}

/// The layout at `root` needs every blob it holds. Three blobs no image
/// references are added; gc must delete exactly those, and leave a layout
/// that verifies and that `list` describes as before.
fn gc_deletes_only_what_nothing_reaches(root: &Path) {
    let layout = Layout::open(root).unwrap();
    let before = stored(root);
    assert_eq!(
        reached(root),
        before,
        "the walk reaches every blob the layout was built with"
    );
    let listed = list_events(root);
    for e in &listed {
        assert_eq!(e["missing_blobs"], 0, "{e}");
        assert_eq!(e["unreadable_documents"], 0, "{e}");
    }
    let v = on_layout(&["verify"], root);
    assert!(
        v.status.success(),
        "verify before gc: {}{}",
        text(&v.stdout),
        text(&v.stderr)
    );

    let manifest_like = serde_json::to_vec(&json!({
        "schemaVersion": 2, "config": {"digest": Digest::sha256_of(b"x").to_string(), "size": 1},
    }))
    .unwrap();
    let strays: Vec<Digest> = [
        b"stray bytes".to_vec(),
        image::noise(5, 5000),
        manifest_like,
    ]
    .iter()
    .map(|b| layout.write_blob(b).unwrap())
    .collect();

    let o = on_layout(&["gc", "--json"], root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 3, "{report}");
    assert_eq!(report["kept_blobs"], before.len(), "{report}");
    assert_eq!(report["unknown_documents"], json!([]), "{report}");
    assert_eq!(stored(root), before, "every blob the walk reaches stays");
    for s in &strays {
        assert!(!layout.blob_path(s).exists(), "{s} is unreachable");
    }
    let v = on_layout(&["verify"], root);
    assert!(v.status.success(), "verify after gc: {}", text(&v.stdout));
    assert_eq!(list_events(root), listed, "list counts the same blobs");
}

/// Stores `doc` as a blob and returns a descriptor for it with `media_type`
/// (`None`: no mediaType at all).
fn put(layout: &Layout, doc: &Value, media_type: Option<&str>) -> Value {
    let bytes = serde_json::to_vec_pretty(doc).unwrap();
    let digest = layout.write_blob(&bytes).unwrap();
    let mut desc = json!({"digest": digest.to_string(), "size": bytes.len()});
    if let Some(m) = media_type {
        desc["mediaType"] = json!(m);
    }
    desc
}

/// A TestImage's blobs written, and its manifest's descriptor, typed
/// `media_type`.
fn put_image(layout: &Layout, img: &image::TestImage, media_type: Option<&str>) -> Value {
    image::store_blobs(layout, img);
    let mut desc =
        json!({"digest": img.manifest.digest.to_string(), "size": img.manifest.bytes.len()});
    if let Some(m) = media_type {
        desc["mediaType"] = json!(m);
    }
    desc
}

/// A manifest whose descriptors carry no mediaType at all.
fn bare_manifest(layout: &Layout, seed: &[u8]) -> Value {
    let config = layout.write_blob(seed).unwrap();
    let layer = layout.write_blob(&[seed, b" layer"].concat()).unwrap();
    let doc = json!({
        "schemaVersion": 2,
        "config": {"digest": config.to_string(), "size": seed.len()},
        "layers": [{"digest": layer.to_string(), "size": seed.len() + 6}],
    });
    put(layout, &doc, None)
}

fn record(layout: &Layout, name: &str, mut desc: Value) {
    // index.json's own entries must have a mediaType to be read as OCI;
    // an empty one is what a producer that knows none writes.
    if desc.get("mediaType").is_none() {
        desc["mediaType"] = json!("");
    }
    layout
        .add_image(name, &serde_json::from_value(desc).unwrap())
        .unwrap();
}

/// Layouts no regpull pull writes, each kind of descriptor the spec allows
/// or vendors use: the walk decides what is a document by where it stands
/// and what it holds, so gc keeps all of it.
#[test]
fn gc_keeps_everything_hand_made_layouts_reach_whatever_their_media_types() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();

    // An index without mediaType whose entries have none, pointing at
    // manifests whose config and layers have none.
    let index = json!({"schemaVersion": 2, "manifests": [
        bare_manifest(&layout, b"bare one"),
        bare_manifest(&layout, b"bare two"),
    ]});
    record(&layout, "example.com/bare:1", put(&layout, &index, None));

    // An index in an index in an index, typed as a Docker list at the top.
    let leaf = put_image(
        &layout,
        &image::image("linux", "arm64", &[&[("nested", b"deep")]]),
        Some(image::OCI_MANIFEST),
    );
    let inner = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [leaf]}),
        Some(image::OCI_INDEX),
    );
    let middle = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [inner]}),
        None,
    );
    let outer = put(
        &layout,
        &json!({"schemaVersion": 2, "manifests": [middle]}),
        Some(image::DOCKER_LIST),
    );
    record(&layout, "example.com/nested:1", outer);

    // A signature-like artifact: artifactType, the empty config, a layer of
    // a vendor type, and a subject that no index.json entry names.
    let signed = put_image(
        &layout,
        &image::image("linux", "amd64", &[&[("signed", b"signed")]]),
        Some(image::OCI_MANIFEST),
    );
    let empty = layout.write_blob(b"{}").unwrap();
    let sig = layout.write_blob(b"-----BEGIN SIGNATURE-----").unwrap();
    let artifact = json!({
        "schemaVersion": 2,
        "mediaType": image::OCI_MANIFEST,
        "artifactType": "application/vnd.dev.cosign.artifact.sig.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": sig.to_string(), "size": 25}],
        "subject": signed,
    });
    record(
        &layout,
        "example.com/app:sig",
        put(&layout, &artifact, Some(image::OCI_MANIFEST)),
    );

    // The draft artifact manifest: `blobs` instead of config and layers.
    let sbom = layout
        .write_blob(b"{\"spdxVersion\":\"SPDX-2.3\"}")
        .unwrap();
    let draft = json!({
        "mediaType": "application/vnd.oci.artifact.manifest.v1+json",
        "artifactType": "application/spdx+json",
        "blobs": [{"mediaType": "application/spdx+json", "digest": sbom.to_string(), "size": 26}],
    });
    record(
        &layout,
        "example.com/app:sbom",
        put(
            &layout,
            &draft,
            Some("application/vnd.oci.artifact.manifest.v1+json"),
        ),
    );

    // A vendor's own media types, on the entry and on what it names.
    let vendor = image::image("linux", "amd64", &[&[("vendor", b"acme")]]);
    image::store_blobs(&layout, &vendor);
    let vendor_manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.acme.manifest+json",
        "config": {"mediaType": "application/vnd.acme.config", "digest": vendor.config.digest.to_string(), "size": vendor.config.bytes.len()},
        "layers": [{"mediaType": "application/vnd.acme.layer", "digest": vendor.layers[0].digest.to_string(), "size": vendor.layers[0].bytes.len()}],
    });
    let vendor_desc = put(
        &layout,
        &vendor_manifest,
        Some("application/vnd.acme.manifest+json"),
    );
    let vendor_index = json!({"schemaVersion": 2, "manifests": [vendor_desc]});
    record(
        &layout,
        "example.com/vendor:1",
        put(
            &layout,
            &vendor_index,
            Some("application/vnd.acme.index+json"),
        ),
    );
    // TestImage's own manifest is not referenced by the vendor manifest.
    fs::remove_file(layout.blob_path(&vendor.manifest.digest)).unwrap();

    let events = list_events(&root);
    let blobs_of = |name: &str| {
        events.iter().find(|e| e["name"] == name).unwrap()["blobs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        blobs_of("example.com/bare:1"),
        7,
        "index, 2 manifests, their configs and layers"
    );
    assert_eq!(
        blobs_of("example.com/nested:1"),
        6,
        "3 indexes, manifest, config, layer"
    );
    assert_eq!(
        blobs_of("example.com/app:sig"),
        6,
        "artifact, empty config, sig, subject's 3"
    );
    assert_eq!(blobs_of("example.com/app:sbom"), 2);
    assert_eq!(blobs_of("example.com/vendor:1"), 4);
    gc_deletes_only_what_nothing_reaches(&root);
}

/// A document regpull cannot read (Docker schema 1 here) is intact, so what
/// it needs is still known from the digests its text names: gc keeps those,
/// and verify names the document.
#[test]
fn gc_keeps_what_an_unparseable_document_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let kept = image::image("linux", "amd64", &[&[("a", b"a")], &[("b", b"b")]]);
    image::store_blobs(&layout, &kept);
    fs::remove_file(layout.blob_path(&kept.manifest.digest)).unwrap();
    let schema1 = json!({
        "schemaVersion": 1, "name": "library/old", "tag": "1",
        "fsLayers": kept.layers.iter().map(|l| json!({"blobSum": l.digest.to_string()})).collect::<Vec<_>>(),
        "history": [{"v1Compatibility": format!("{{\"config-ish\":\"{}\"}}", kept.config.digest)}],
    });
    let desc = put(
        &layout,
        &schema1,
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    );
    let doc = desc["digest"].as_str().unwrap().to_string();
    record(&layout, "example.com/old:1", desc);
    let before = stored(&root);
    let stray = layout.write_blob(b"stray").unwrap();

    let o = on_layout(&["gc", "--json"], &root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(validate(&text(&o.stdout))[0]["blobs_removed"], 1);
    assert!(!layout.blob_path(&stray).exists());
    assert_eq!(stored(&root), before, "the layers and config it names stay");

    let image = &list_events(&root)[0];
    assert_eq!(image["blobs"], 4, "{image}");
    assert_eq!(image["unreadable_documents"], 1, "{image}");
    let o = on_layout(&["verify", "--json"], &root);
    assert_eq!(o.status.code(), Some(7));
    let events = validate(&text(&o.stdout));
    assert_eq!(events[0]["kind"], "unparseable", "{events:?}");
    assert_eq!(events[0]["digest"], doc.as_str());
}

/// A missing manifest hides which blobs its image needs, and so does a
/// nesting deeper than regpull follows: gc then deletes no blob at all,
/// says which documents stand in the way and exits 7, until the image is
/// repaired or removed.
#[test]
fn gc_deletes_no_blob_while_an_image_cannot_be_walked_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let whole = image::image("linux", "amd64", &[&[("whole", b"whole")]]);
    image::store(&layout, "example.com/whole:1", &whole);
    let broken = image::image("linux", "amd64", &[&[("broken", b"broken")]]);
    image::store(&layout, "example.com/broken:1", &broken);
    fs::remove_file(layout.blob_path(&broken.manifest.digest)).unwrap();
    let orphan = layout.write_blob(b"no image needs this").unwrap();

    let o = on_layout(&["gc", "--json"], &root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 0, "{report}");
    let unknown = report["unknown_documents"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{report}");
    let line = unknown[0].as_str().unwrap();
    assert!(
        line.contains(&broken.manifest.digest.to_string()) && line.contains("missing"),
        "{line}"
    );
    assert!(line.contains("example.com/broken:1"), "{line}");
    assert!(layout.blob_path(&orphan).exists());
    assert!(layout.blob_path(&broken.layers[0].digest).exists());
    let listed = list_events(&root);
    let b = listed
        .iter()
        .find(|e| e["name"] == "example.com/broken:1")
        .unwrap();
    assert_eq!(b["missing_blobs"], 1, "{b}");
    let human = on_layout(&["gc"], &root);
    assert_eq!(human.status.code(), Some(7));
    let stderr = text(&human.stderr);
    assert!(stderr.contains("kept every blob"), "{stderr}");
    assert!(
        stderr.contains("hint: `regpull verify --repair"),
        "{stderr}"
    );

    assert!(layout.remove_image("example.com/broken:1").unwrap());
    let o = on_layout(&["gc", "--json"], &root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        validate(&text(&o.stdout))[0]["blobs_removed"],
        3,
        "orphan, config, layer"
    );
    for blob in whole.blobs() {
        assert!(layout.blob_path(&blob.digest).exists());
    }

    // Ten indexes, each the only entry of the one above it.
    let mut desc = put_image(&layout, &broken, Some(image::OCI_MANIFEST));
    for _ in 0..10 {
        desc = put(
            &layout,
            &json!({"schemaVersion": 2, "manifests": [desc]}),
            Some(image::OCI_INDEX),
        );
    }
    record(&layout, "example.com/deep:1", desc);
    let stray = layout.write_blob(b"stray").unwrap();
    let o = on_layout(&["gc", "--json"], &root);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let report = &validate(&text(&o.stdout))[0];
    assert!(
        report["unknown_documents"][0]
            .as_str()
            .unwrap()
            .contains("nested"),
        "{report}"
    );
    assert!(layout.blob_path(&stray).exists());
    let o = on_layout(&["verify", "--json", "example.com/deep:1"], &root);
    assert_eq!(o.status.code(), Some(7));
    let events = validate(&text(&o.stdout));
    assert!(
        events[0]["detail"].as_str().unwrap().contains("nested"),
        "{events:?}"
    );
}

/// list, verify, rm and gc see one set of blobs per image: what rm says it
/// orphaned is what gc deletes, and list's count is what gc keeps.
#[test]
fn list_verify_rm_and_gc_agree_on_what_each_image_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let app = image::image("linux", "amd64", &[shared, &[("app", b"the app")]]);
    let tool = image::image("linux", "arm64", &[shared, &[("tool", b"the tool")]]);
    image::store(&layout, "example.com/app:1", &app);
    image::store(&layout, "example.com/tool:1", &tool);
    let multi = image::multi_platform(false);
    for (_, img) in &multi.images {
        image::store_blobs(&layout, img);
    }
    let index = layout.write_blob(&multi.index.bytes).unwrap();
    record(
        &layout,
        "example.com/multi:1",
        json!({"mediaType": image::OCI_INDEX, "digest": index.to_string(), "size": multi.index.bytes.len()}),
    );
    let listed = list_events(&root);
    let count = |name: &str| {
        listed.iter().find(|e| e["name"] == name).unwrap()["blobs"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(count("example.com/app:1"), 4);
    assert_eq!(
        count("example.com/multi:1"),
        1 + 4 * 3,
        "the attestation too"
    );
    assert_eq!(
        stored(&root).len() as u64,
        count("example.com/app:1") + count("example.com/tool:1") - 1 + count("example.com/multi:1")
    );

    let o = on_layout(
        &["rm", "--json", "example.com/app:1", "example.com/multi:1"],
        &root,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let removed = validate(&text(&o.stdout));
    assert_eq!(removed[0]["orphaned_blobs"], 3, "not the layer tool shares");
    assert_eq!(removed[1]["orphaned_blobs"], 13);
    let orphaned_bytes = removed[0]["orphaned_bytes"].as_u64().unwrap()
        + removed[1]["orphaned_bytes"].as_u64().unwrap();
    assert!(
        text(&o.stderr).contains("note: 16 blobs"),
        "{}",
        text(&o.stderr)
    );

    let o = on_layout(&["gc", "--json"], &root);
    let report = &validate(&text(&o.stdout))[0];
    assert_eq!(report["blobs_removed"], 16, "{report}");
    assert_eq!(report["blob_bytes"], orphaned_bytes, "{report}");
    assert_eq!(report["kept_blobs"], 4, "what list counts for tool");
    let v = on_layout(&["verify", "--json"], &root);
    assert!(v.status.success());
    let summary = &validate(&text(&v.stdout))[0];
    assert_eq!(summary["blobs_checked"], 4, "{summary}");
    assert_eq!(list_events(&root)[0]["blobs"], 4);
}

/// Layouts skopeo writes (`copy --all`), from a multi-platform OCI index and a
/// Docker manifest list pushed to Distribution, converted to OCI and with
/// their digests preserved, beside the Docker list as regpull keeps it: gc
/// keeps every blob they hold.
#[test]
fn gc_keeps_every_blob_of_layouts_skopeo_copied() {
    use support::distribution::{Auth, Distribution};
    use support::push::{PushAuth, Pusher};

    require_tool("skopeo", "skopeo");
    let reg = Distribution::start(Auth::Open, false);
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    let oci = image::multi_platform(false);
    let docker = image::multi_platform(true);
    let single = image::docker_image("linux", "amd64", &[&[("one", b"one layer")]]);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            pusher.index("team/oci", "v1", &oci).await;
            pusher.index("team/docker", "v1", &docker).await;
            pusher.image("team/single", "v1", &single).await;
        });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let copy = |source: &str, name: &str, extra: &[&str]| {
        run_ok(
            Command::new("skopeo")
                .args(["copy", "--all", "--src-tls-verify=false"])
                .args(extra)
                .arg(format!("docker://{}/{source}", reg.host))
                .arg(format!("oci:{}:{name}", root.display())),
        );
    };
    copy("team/oci:v1", "oci", &[]);
    copy("team/oci:v1", "oci-preserved", &["--preserve-digests"]);
    copy("team/docker:v1", "docker", &[]);
    // skopeo cannot keep a Docker list's digests in an OCI layout ("must be
    // converted"); regpull can, and the walk must read what it keeps.
    run_ok(&mut support::regpull_command(&[
        "pull",
        "-q",
        "--all-platforms",
        "--preserve-digests",
        "-o",
        root.to_str().unwrap(),
        &format!("{}/team/docker:v1", reg.host),
    ]));
    copy("team/single:v1", "single", &[]);

    let listed = list_events(&root);
    let by_name = |n: &str| listed.iter().find(|e| e["name"] == n).unwrap().clone();
    assert_eq!(by_name("oci")["digest"], oci.index.digest.to_string());
    assert_eq!(
        by_name("oci")["blobs"],
        13,
        "index, 4 manifests, configs, layers"
    );
    assert_eq!(
        by_name("oci-preserved")["digest"],
        oci.index.digest.to_string()
    );
    assert_eq!(
        by_name("docker")["blobs"],
        10,
        "list, 3 manifests, configs, layers"
    );
    assert_eq!(by_name("single")["blobs"], 3);
    gc_deletes_only_what_nothing_reaches(&root);
    // skopeo still copies every image out of what gc left.
    for name in ["oci", "docker", "single"] {
        run_ok(
            Command::new("skopeo")
                .args(["copy", "--all"])
                .arg(format!("oci:{}:{name}", root.display()))
                .arg(format!(
                    "dir:{}",
                    dir.path().join(format!("out-{name}")).display()
                )),
        );
    }
    let o = on_layout(&["rm", "--json", "single"], &root);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(validate(&text(&o.stdout))[0]["orphaned_blobs"], 3);
    let o = on_layout(&["gc", "--json"], &root);
    assert_eq!(validate(&text(&o.stdout))[0]["blobs_removed"], 3);
}
