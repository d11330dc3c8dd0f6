//! End to end against the real CNCF Distribution registry: open, htpasswd over
//! TLS, and token auth; single- and multi-platform images, by tag and by digest;
//! every layout opened by skopeo and umoci.

use crate::support;

use std::fs;
use std::process::Command;

use support::distribution::{Auth, Distribution};
use support::image::{self, TestImage};
use support::push::{PushAuth, Pusher};
use support::{blob_gets, regpull, regpull_env, require_tool, run_ok, text};

fn seed_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn sample_image() -> TestImage {
    image::image(
        "linux",
        "amd64",
        &[
            &[("etc/hello", b"hello from layer one\n")],
            &[("usr/share/big", &[42u8; 300_000])],
        ],
    )
}

/// An open registry holding a multi-platform image at `repo:tag`, and its full name.
fn registry_with_index(docker: bool, repo_tag: &str) -> (Distribution, image::TestIndex, String) {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(docker);
    let (repo, tag) = repo_tag.split_once(':').unwrap();
    seed_runtime().block_on(Pusher::new(&reg.host, None, PushAuth::None).index(repo, tag, &idx));
    let name = format!("{}/{repo_tag}", reg.host);
    (reg, idx, name)
}

fn out_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Checks that skopeo and umoci both read `name` from the layout at `dir`, and
/// returns the unpacked rootfs path.
fn check_with_tools(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    require_tool("skopeo", "skopeo");
    require_tool("umoci", "umoci");
    let layout = dir.join("oci");
    run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci:{}:{name}", layout.display())),
    );
    let bundle = dir.join(format!("bundle-{}", name.replace(['/', ':', '@'], "_")));
    run_ok(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{name}", layout.display()))
            .arg(&bundle),
    );
    bundle.join("rootfs")
}

#[test]
fn pulls_by_tag_and_digest_from_an_open_registry_and_skips_present_blobs() {
    let reg = Distribution::start(Auth::Open, false);
    let img = sample_image();
    seed_runtime()
        .block_on(Pusher::new(&reg.host, None, PushAuth::None).image("team/app", "1.0", &img));
    let dir = out_dir();
    let out_path = dir.path().join("oci");
    let out = out_path.to_str().unwrap();
    let name = format!("{}/team/app:1.0", reg.host);

    let first = regpull(&["pull", &name, "-o", out], None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert_eq!(
        stdout.trim(),
        format!("{name} {} linux/amd64", img.manifest.digest),
        "stdout is the result line"
    );
    let fetched = blob_gets(&reg.log());
    assert_eq!(fetched, 3, "config and two layers fetched once");

    let rootfs = check_with_tools(dir.path(), &name);
    assert_eq!(
        fs::read_to_string(rootfs.join("etc/hello")).unwrap(),
        "hello from layer one\n"
    );

    // Re-pulling an up-to-date image moves no blob bytes.
    let again = regpull(&["pull", &name, "-o", out, "--quiet"], None);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(blob_gets(&reg.log()), fetched, "no blob was fetched again");
    assert!(
        again.stderr.is_empty(),
        "--quiet prints only the result: {}",
        text(&again.stderr)
    );

    // By digest: same content, its own name in index.json.
    let by_digest = format!("{}/team/app@{}", reg.host, img.manifest.digest);
    let out3 = regpull(&["pull", &by_digest, "-o", out], None);
    assert!(out3.status.success(), "{}", text(&out3.stderr));
    check_with_tools(dir.path(), &by_digest);
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(out_path.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);
}

#[test]
fn multi_platform_index_picks_the_wanted_platform_and_lists_choices_when_none_fits() {
    let (_reg, idx, name) = registry_with_index(false, "multi/app:v1");
    for (wanted, expected) in [
        ("linux/arm64", "linux/arm64/v8"),
        ("linux/arm/v7", "linux/arm/v7"),
        ("linux/amd64", "linux/amd64"),
    ] {
        let dir = out_dir();
        let out = dir.path().join("oci");
        let o = regpull(
            &[
                "pull",
                &name,
                "-o",
                out.to_str().unwrap(),
                "--platform",
                wanted,
            ],
            None,
        );
        assert!(o.status.success(), "{wanted}: {}", text(&o.stderr));
        let chosen = &idx.images.iter().find(|(p, _)| p == expected).unwrap().1;
        assert_eq!(
            text(&o.stdout).trim(),
            format!("{name} {} {expected}", chosen.manifest.digest)
        );
        let rootfs = check_with_tools(dir.path(), &name);
        assert_eq!(
            fs::read_to_string(rootfs.join("platform.txt")).unwrap(),
            format!("built for {expected}\n")
        );
    }
    let dir = out_dir();
    let o = regpull(
        &[
            "pull",
            &name,
            "-o",
            dir.path().join("oci").to_str().unwrap(),
            "--platform",
            "linux/s390x",
        ],
        None,
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "no matching platform is 'not found'"
    );
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("linux/amd64, linux/arm64/v8, linux/arm/v7"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("unknown/unknown"),
        "attestations are not offered: {stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
    let index = fs::read_to_string(dir.path().join("oci/index.json")).unwrap();
    assert!(
        !index.contains("multi/app"),
        "a failed pull records nothing"
    );
}

#[test]
fn all_platforms_keeps_the_whole_index() {
    let (_reg, idx, name) = registry_with_index(false, "multi/app:v1");
    let dir = out_dir();
    let out = dir.path().join("oci");
    let o = regpull(
        &[
            "pull",
            &name,
            "-o",
            out.to_str().unwrap(),
            "--all-platforms",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        format!(
            "{name} {} linux/amd64,linux/arm64/v8,linux/arm/v7",
            idx.index.digest
        )
    );
    for (_, img) in &idx.images {
        for blob in img.blobs() {
            assert!(
                out.join("blobs/sha256").join(blob.digest.hex()).exists(),
                "{} missing",
                blob.digest
            );
        }
    }
    require_tool("skopeo", "skopeo");
    let raw = run_ok(
        Command::new("skopeo")
            .args(["inspect", "--raw"])
            .arg(format!("oci:{}:{name}", out.display())),
    );
    assert_eq!(
        raw.as_bytes(),
        idx.index.bytes.as_slice(),
        "an OCI index is stored byte for byte"
    );
}

#[test]
fn docker_manifest_lists_are_stored_as_oci_unless_digests_are_preserved() {
    let (_reg, idx, name) = registry_with_index(true, "old/tf:18.08-py3");
    let amd64 = &idx.images[0].1;

    let dir = out_dir();
    let out = dir.path().join("oci");
    let o = regpull(
        &[
            "pull",
            &name,
            "-o",
            out.to_str().unwrap(),
            "--platform",
            "linux/amd64",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let line = text(&o.stdout);
    assert!(
        line.contains(&format!("(registry digest {})", amd64.manifest.digest)),
        "{line}"
    );
    let rootfs = check_with_tools(dir.path(), &name);
    assert_eq!(
        fs::read_to_string(rootfs.join("platform.txt")).unwrap(),
        "built for linux/amd64\n"
    );
    let index = fs::read_to_string(out.join("index.json")).unwrap();
    assert!(index.contains("dev.regpull.registry-digest"), "{index}");
    let parsed: serde_json::Value = serde_json::from_str(&index).unwrap();
    assert_eq!(
        parsed["manifests"][0]["mediaType"], "application/vnd.oci.image.manifest.v1+json",
        "{index}"
    );

    let kept = out_dir();
    let out = kept.path().join("oci");
    let o = regpull(
        &[
            "pull",
            &name,
            "-o",
            out.to_str().unwrap(),
            "--platform",
            "linux/amd64",
            "--preserve-digests",
        ],
        None,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stdout).trim(),
        format!("{name} {} linux/amd64", amd64.manifest.digest)
    );
    assert!(
        text(&o.stderr).contains("--preserve-digests"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        fs::read(out.join("blobs/sha256").join(amd64.manifest.digest.hex())).unwrap(),
        amd64.manifest.bytes
    );
}

#[test]
fn docker_default_platform_is_honoured_unless_all_platforms_is_asked() {
    let (_reg, idx, name) = registry_with_index(false, "multi/app:v1");
    let env = [("DOCKER_DEFAULT_PLATFORM", "linux/arm/v7")];
    let dir = out_dir();
    let out = dir.path().join("oci");
    let o = regpull_env(&["pull", &name, "-o", out.to_str().unwrap()], None, &env);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).trim().ends_with(" linux/arm/v7"),
        "{}",
        text(&o.stdout)
    );
    let o = regpull_env(
        &[
            "pull",
            &name,
            "-o",
            out.to_str().unwrap(),
            "--all-platforms",
        ],
        None,
        &env,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains(&idx.index.digest.to_string()),
        "{}",
        text(&o.stdout)
    );
}
