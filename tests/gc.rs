//! `regpull gc`: unreferenced blobs and stale partial downloads go; everything an
//! image in index.json needs, and recent partials, stay.

mod support;

use std::fs;
use std::time::{Duration, SystemTime};

use regpull::Layout;
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
    support::wait_until("the pull to get under way", || {
        Layout::open(&root).is_ok_and(|l| l.blob_path(&small).exists())
            && fs::metadata(&partial).is_ok_and(|m| m.len() > 0)
    })
    .await;

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
