//! Exports that fail, or are killed, leave OUTPUT absent or whole, never half:
//! a diff_id mismatch, a missing layer, SIGKILL mid-export, an OUTPUT that is
//! there already, a second export to the same OUTPUT.

use std::process::Stdio;

use serde_json::json;

use super::{Fixture, names, ok};
use crate::support::layers::{self, Compression, file, tar};
use crate::support::{image::noise, text};

const NAME: &str = "docker.io/library/small:1";

fn small() -> crate::support::image::TestImage {
    layers::image(
        &[(tar(&[file("hello", "world")]), Compression::Gzip)],
        json!({}),
    )
}

/// Nothing but the layout (and what the test made) is left in the fixture.
fn nothing_left(fx: &Fixture, expected: &[&str]) {
    assert_eq!(
        names(fx.dir.path()),
        expected,
        "nothing half-written may be left"
    );
}

#[test]
fn a_layer_that_does_not_match_its_diff_id_is_exit_7_naming_it() {
    let img = small();
    let wrong = regpull::Digest::sha256_of(b"another layer");
    let img = layers::image_of(img.layers, std::slice::from_ref(&wrong), json!({}));
    let fx = Fixture::new(&[(NAME, &img)]);
    let out = fx.path("out.sqsh");
    let result = fx.export(NAME, &["-o", out.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(7), "{}", text(&result.stderr));
    let err = text(&result.stderr);
    assert!(
        err.contains("layer 1 of 1") && err.contains("diff_id") && err.contains(&wrong.to_string()),
        "{err}"
    );
    nothing_left(&fx, &["oci"]);
}

#[test]
fn a_missing_layer_is_exit_4_naming_it_with_a_hint() {
    let img = small();
    let fx = Fixture::new(&[(NAME, &img)]);
    std::fs::remove_file(
        fx.layout
            .join("blobs/sha256")
            .join(img.layers[0].digest.hex()),
    )
    .unwrap();
    for format in ["rootfs", "squashfs", "sif", "docker-archive", "oci-archive"] {
        let out = fx.path("out");
        let result = fx.export(NAME, &["-o", out.to_str().unwrap(), "--format", format]);
        assert_eq!(
            result.status.code(),
            Some(4),
            "{format}: {}",
            text(&result.stderr)
        );
        let err = text(&result.stderr);
        assert!(
            err.contains(&format!("layer 1 of 1 ({})", img.layers[0].digest))
                && err.contains("not in the layout"),
            "{err}"
        );
        assert!(err.contains("hint: "), "{err}");
        nothing_left(&fx, &["oci"]);
    }
}

#[test]
fn sigkill_mid_export_leaves_no_output_and_the_next_export_cleans_up() {
    // Big enough that the export is still busy when the test sees it start.
    let img = layers::image(
        &[(
            tar(&[file("big", noise(7, 96 << 20)), file("after", "x")]),
            Compression::Gzip,
        )],
        json!({}),
    );
    let fx = Fixture::new(&[(NAME, &img)]);
    let out = fx.path("img.sqsh");
    let staging = fx.path(".img.sqsh.regpull-tmp");
    let mut child = fx
        .export_command(NAME, &["-o", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    crate::support::wait_until(
        "the export to start writing",
        std::time::Duration::from_secs(60),
        || {
            assert!(
                child.try_wait().unwrap().is_none(),
                "the export ended before it could be killed"
            );
            staging.join("rootfs/big").exists()
        },
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "a killed export left OUTPUT behind");
    assert!(
        staging.exists(),
        "(the staging directory is what a kill leaves)"
    );
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap()]));
    nothing_left(&fx, &["img.sqsh", "oci"]);
    let listed = crate::support::run_ok(
        std::process::Command::new("unsquashfs")
            .arg("-lls")
            .arg(&out),
    );
    assert!(listed.contains("squashfs-root/after"), "{listed}");
}

#[test]
fn an_existing_output_is_replaced_only_with_force() {
    let fx = Fixture::new(&[(NAME, &small())]);
    let dir = fx.path("rootfs");
    std::fs::create_dir(&dir).unwrap();
    // An empty directory is fine to fill.
    ok(&fx.export(NAME, &["-o", dir.to_str().unwrap(), "--format", "rootfs"]));
    let again = fx.export(NAME, &["-o", dir.to_str().unwrap(), "--format", "rootfs"]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(
        text(&again.stderr).contains("--force"),
        "{}",
        text(&again.stderr)
    );
    std::fs::write(dir.join("hello"), "changed").unwrap();
    ok(&fx.export(
        NAME,
        &["-o", dir.to_str().unwrap(), "--format", "rootfs", "--force"],
    ));
    assert_eq!(std::fs::read_to_string(dir.join("hello")).unwrap(), "world");
    let tar = fx.path("x.tar");
    std::fs::write(&tar, "not an archive").unwrap();
    let refused = fx.export(NAME, &["-o", tar.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&tar).unwrap(), "not an archive");
    ok(&fx.export(NAME, &["-o", tar.to_str().unwrap(), "--force"]));
    assert!(std::fs::metadata(&tar).unwrap().len() > 1024);
    // A directory may replace a file, and a file a directory.
    ok(&fx.export(
        NAME,
        &["-o", tar.to_str().unwrap(), "--format", "rootfs", "--force"],
    ));
    assert_eq!(std::fs::read_to_string(tar.join("hello")).unwrap(), "world");
    ok(&fx.export(NAME, &["-o", tar.to_str().unwrap(), "--force"]));
    assert!(std::fs::metadata(&tar).unwrap().is_file());
    nothing_left(&fx, &["oci", "rootfs", "x.tar"]);
}

#[test]
fn a_second_export_to_the_same_output_is_refused_while_the_first_runs() {
    let fx = Fixture::new(&[(NAME, &small())]);
    let staging = fx.path(".busy.sqsh.regpull-tmp");
    std::fs::create_dir(&staging).unwrap();
    // What a running export holds.
    let held = std::fs::File::open(&staging).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let out = fx.path("busy.sqsh");
    let result = fx.export(NAME, &["-o", out.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(2), "{}", text(&result.stderr));
    assert!(
        text(&result.stderr).contains("being written by another regpull export"),
        "{}",
        text(&result.stderr)
    );
    assert!(!out.exists());
    drop(held);
    ok(&fx.export(NAME, &["-o", out.to_str().unwrap()]));
}

#[test]
fn a_sif_of_an_architecture_sif_cannot_name_is_refused_before_any_work() {
    let img = crate::support::image::assemble(
        "linux",
        "weird",
        vec![layers::layer_blob(&tar(&[file("hello", "world")]), Compression::Gzip).0],
        &[regpull::Digest::sha256_of(&tar(&[file("hello", "world")]))],
        json!({}),
    );
    let fx = Fixture::new(&[(NAME, &img)]);
    let out = fx.path("x.sif");
    let result = fx.export(
        NAME,
        &["-o", out.to_str().unwrap(), "--platform", "linux/weird"],
    );
    assert_eq!(result.status.code(), Some(2), "{}", text(&result.stderr));
    let err = text(&result.stderr);
    assert!(
        err.contains("`weird`") && !err.contains("unpacking layer"),
        "{err}"
    );
    nothing_left(&fx, &["oci"]);
}
