//! The layout store: nothing half-written ever becomes visible, and concurrent
//! writers never lose each other's index entries.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::Command;

use regpull::Layout;
use regpull::digest::{Digest, VerifyError};
use regpull::layout::{Check, LayoutError, ref_name};
use support::image;

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out.sort();
    out
}

fn snapshot(layout: &Layout) -> (Vec<String>, Vec<u8>) {
    let root = layout.root();
    let mut files = files_under(&root.join("blobs"));
    files.extend(files_under(&root.join(".regpull/tmp")));
    (files, fs::read(root.join("index.json")).unwrap())
}

#[test]
fn creates_a_valid_empty_layout() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path().join("new")).unwrap();
    let marker = fs::read_to_string(layout.root().join("oci-layout")).unwrap();
    assert_eq!(marker, r#"{"imageLayoutVersion":"1.0.0"}"#);
    assert!(layout.read_index().unwrap().manifests().is_empty());
    assert!(layout.root().join("blobs/sha256").is_dir());
    // Opening again changes nothing.
    let before = snapshot(&layout);
    Layout::open_or_create(layout.root()).unwrap();
    assert_eq!(snapshot(&layout), before);
}

#[test]
fn refuses_a_directory_that_is_not_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let err = Layout::open_or_create(dir.path()).unwrap_err();
    assert!(matches!(err, LayoutError::NotALayout { .. }), "{err}");
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert!(!dir.path().join("oci-layout").exists());

    let bad = tempfile::tempdir().unwrap();
    fs::write(
        bad.path().join("oci-layout"),
        r#"{"imageLayoutVersion":"9"}"#,
    )
    .unwrap();
    let err = Layout::open(bad.path()).unwrap_err();
    assert!(err.to_string().contains("imageLayoutVersion"), "{err}");
}

#[test]
fn a_writer_dropped_midway_puts_nothing_in_blobs_or_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let before = snapshot(&layout);
    let content = vec![7u8; 3 << 20];
    let digest = Digest::sha256_of(&content);
    {
        let mut w = layout
            .blob_writer(&digest, Some(content.len() as u64))
            .unwrap();
        w.write_chunk(&content[..1 << 20]).unwrap();
        assert_eq!(w.written(), 1 << 20);
        assert!(!layout.blob_path(&digest).exists());
    }
    assert_eq!(snapshot(&layout), before);
    assert!(
        !layout
            .has_blob(&digest, content.len() as u64, Check::Size)
            .unwrap()
    );
}

#[test]
fn a_wrong_digest_or_size_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let before = snapshot(&layout);
    let claimed = Digest::sha256_of(b"what the registry promised");

    let mut w = layout.blob_writer(&claimed, None).unwrap();
    w.write_chunk(b"what the registry sent instead").unwrap();
    let err = w.commit().unwrap_err();
    assert!(
        matches!(
            err,
            LayoutError::Verify {
                source: VerifyError::DigestMismatch { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(snapshot(&layout), before);

    // A stream longer than its descriptor is cut off as soon as it overflows.
    let mut w = layout.blob_writer(&claimed, Some(4)).unwrap();
    let err = w.write_chunk(b"12345").unwrap_err();
    assert!(matches!(
        err,
        LayoutError::Verify {
            source: VerifyError::SizeMismatch { .. },
            ..
        }
    ));
    drop(w);
    assert_eq!(snapshot(&layout), before);
}

#[test]
fn index_never_names_a_missing_blob() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let img = image::image("linux", "amd64", &[&[("a.txt", b"a")]]);
    let desc: oci_spec::image::Descriptor =
        serde_json::from_value(img.manifest.descriptor()).unwrap();
    let before = snapshot(&layout);
    let err = layout.add_image("example.com/x:1", &desc).unwrap_err();
    assert!(matches!(err, LayoutError::MissingBlob { .. }), "{err}");
    assert_eq!(snapshot(&layout), before);
}

#[test]
fn blob_presence_checks_size_and_optionally_content() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let digest = layout.write_blob(b"config bytes").unwrap();
    assert!(layout.has_blob(&digest, 12, Check::Content).unwrap());
    assert!(!layout.has_blob(&digest, 13, Check::Size).unwrap());
    // Same size, different bytes: only a content check notices.
    fs::write(layout.blob_path(&digest), b"CONFIG BYTES").unwrap();
    assert!(layout.has_blob(&digest, 12, Check::Size).unwrap());
    assert!(!layout.has_blob(&digest, 12, Check::Content).unwrap());
    assert!(layout.read_blob(&digest, 1024).is_err());
}

#[test]
fn several_images_share_one_layout_without_colliding() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let alpine = image::image("linux", "amd64", &[&[("etc/os", b"alpine")]]);
    let ubuntu = image::image("linux", "amd64", &[&[("etc/os", b"ubuntu")]]);
    image::store(&layout, "docker.io/library/alpine:3.20", &alpine);
    image::store(&layout, "docker.io/library/ubuntu:3.20", &ubuntu);
    // Re-pulling a name replaces its entry rather than adding a second one.
    let alpine2 = image::image("linux", "amd64", &[&[("etc/os", b"alpine 2")]]);
    image::store(&layout, "docker.io/library/alpine:3.20", &alpine2);

    let index = layout.read_index().unwrap();
    let names: Vec<(&str, String)> = index
        .manifests()
        .iter()
        .map(|d| (ref_name(d).unwrap(), d.digest().to_string()))
        .collect();
    assert_eq!(
        names,
        vec![
            (
                "docker.io/library/ubuntu:3.20",
                ubuntu.manifest.digest.to_string()
            ),
            (
                "docker.io/library/alpine:3.20",
                alpine2.manifest.digest.to_string()
            ),
        ]
    );
    assert!(
        layout
            .remove_image("docker.io/library/ubuntu:3.20")
            .unwrap()
    );
    assert!(
        !layout
            .remove_image("docker.io/library/ubuntu:3.20")
            .unwrap()
    );
    assert_eq!(layout.read_index().unwrap().manifests().len(), 1);
}

const CHILD_LAYOUT: &str = "REGPULL_TEST_CHILD_LAYOUT";
const CHILD_PREFIX: &str = "REGPULL_TEST_CHILD_PREFIX";
const IMAGES_PER_WRITER: usize = 25;

/// Appends IMAGES_PER_WRITER images to a layout. Run plainly it checks itself on a
/// fresh layout; spawned by the concurrency test it writes to the shared one.
#[test]
fn child_appends_images() {
    let own = tempfile::tempdir().unwrap();
    let root = std::env::var(CHILD_LAYOUT).unwrap_or_else(|_| own.path().display().to_string());
    let prefix = std::env::var(CHILD_PREFIX).unwrap_or_else(|_| "solo".into());
    let layout = Layout::open_or_create(&root).unwrap();
    for i in 0..IMAGES_PER_WRITER {
        let name = format!("example.com/{prefix}/app:{i}");
        let contents = name.as_bytes();
        let img = image::image("linux", "amd64", &[&[("name", contents)]]);
        image::store(&layout, &name, &img);
        assert!(
            layout.find_image(&name).unwrap().is_some(),
            "{name} vanished"
        );
    }
}

#[test]
fn concurrent_processes_keep_every_entry() {
    let dir = tempfile::tempdir().unwrap();
    let writers = ["left", "right", "third"];
    let children: Vec<_> = writers
        .iter()
        .map(|prefix| {
            support::own_test(module_path!(), "child_appends_images")
                .env(CHILD_LAYOUT, dir.path())
                .env(CHILD_PREFIX, prefix)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        support::ran_one_test(&c.wait_with_output().unwrap());
    }
    let layout = Layout::open(dir.path()).unwrap();
    let index = layout.read_index().unwrap();
    let mut names: Vec<&str> = index.manifests().iter().filter_map(ref_name).collect();
    names.sort();
    assert_eq!(
        names.len(),
        writers.len() * IMAGES_PER_WRITER,
        "entries were lost: {names:?}"
    );
    for prefix in writers {
        for i in 0..IMAGES_PER_WRITER {
            let name = format!("example.com/{prefix}/app:{i}");
            assert!(names.contains(&name.as_str()), "{name} missing");
        }
    }
}

#[test]
fn a_partial_blob_is_resumed_by_the_next_writer_and_wrong_data_is_discarded() {
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path()).unwrap();
    let content: Vec<u8> = (0..3u32 << 20).map(|i| (i % 251) as u8).collect();
    let digest = Digest::sha256_of(&content);
    {
        let mut w = layout
            .blob_writer(&digest, Some(content.len() as u64))
            .unwrap();
        w.write_chunk(&content[..1 << 20]).unwrap();
    }
    let partials = files_under(&dir.path().join(".regpull/partial"));
    assert!(
        partials
            .iter()
            .any(|p| p.ends_with(&format!("sha256-{}", digest.hex()))),
        "{partials:?}"
    );
    assert!(files_under(&dir.path().join("blobs")).is_empty());

    let mut w = layout
        .blob_writer(&digest, Some(content.len() as u64))
        .unwrap();
    assert_eq!(
        w.resumed_from(),
        1 << 20,
        "the next writer carries on from the kept prefix"
    );
    w.write_chunk(&content[1 << 20..]).unwrap();
    w.commit().unwrap();
    layout.verify_blob(&digest, content.len() as u64).unwrap();

    // A wrong blob is not kept for resuming.
    let claimed = Digest::sha256_of(b"promised");
    let mut w = layout.blob_writer(&claimed, None).unwrap();
    w.write_chunk(b"delivered").unwrap();
    assert!(w.commit().is_err());
    let left: Vec<String> = files_under(&dir.path().join(".regpull/partial"))
        .into_iter()
        .filter(|p| !p.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A layout shared between users (a cluster's prefetch cache) is readable by
/// all of them: index.json and the blobs are not private to the writer.
#[test]
fn a_layout_is_readable_by_other_users() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout::open_or_create(dir.path().join("oci")).unwrap();
    let img = image::image("linux", "amd64", &[&[("f", b"x")]]);
    image::store(&layout, "docker.io/library/shared:1", &img);
    let root = layout.root();
    let mut files = files_under(&root.join("blobs"));
    files.push(root.join("index.json").display().to_string());
    files.push(root.join("oci-layout").display().to_string());
    for f in files {
        let mode = fs::metadata(&f).unwrap().permissions().mode();
        assert_eq!(mode & 0o044, 0o044, "{f} has mode {mode:o}");
    }
}

const CHECK_LAYOUT: &str = "REGPULL_TEST_CHECK_LAYOUT";

/// Checks a blob's content in the layout CHECK_LAYOUT names (a fresh one when
/// run plainly). Spawned as `nobody` on a blob only root may read, it expects
/// an error: a blob that cannot be read is not absent.
#[test]
fn child_checks_content() {
    let own = tempfile::tempdir().unwrap();
    let (root, expect_error) = match std::env::var(CHECK_LAYOUT) {
        Ok(dir) => (std::path::PathBuf::from(dir), true),
        Err(_) => (own.path().join("oci"), false),
    };
    let layout = if expect_error {
        Layout::open(&root).unwrap()
    } else {
        Layout::open_or_create(&root).unwrap()
    };
    let img = image::image("linux", "amd64", &[&[("f", b"checked")]]);
    if !expect_error {
        image::store(&layout, "example.com/check:1", &img);
    }
    let blob = &img.layers[0];
    let found = layout.has_blob(&blob.digest, blob.bytes.len() as u64, Check::Content);
    if expect_error {
        let err = found.expect_err("an unreadable blob was reported absent or present");
        assert!(matches!(err, LayoutError::Read { .. }), "{err:?}");
    } else {
        assert!(found.unwrap());
    }
}

#[test]
fn a_blob_that_cannot_be_read_is_an_error_not_absent() {
    use std::os::unix::fs::PermissionsExt;
    support::require_tool("setpriv", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let img = image::image("linux", "amd64", &[&[("f", b"checked")]]);
    image::store(&layout, "example.com/check:1", &img);
    let blob = layout.blob_path(&img.layers[0].digest);
    fs::set_permissions(&blob, fs::Permissions::from_mode(0o600)).unwrap();
    let mut child = support::own_test(module_path!(), "child_checks_content");
    child.env(CHECK_LAYOUT, &root);
    let mut nobody = Command::new("setpriv");
    nobody.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
    // The child fails unless it sees the error.
    support::ran_one_test(&support::wrapped(nobody, &child).output().unwrap());
}
