//! docker-archive and oci-archive, read back by skopeo: the config (and, for
//! oci-archive, the manifest) keep their digests, every blob survives
//! `skopeo copy`, the bytes are the same each time and on standard output,
//! and a missing or altered blob fails the export and leaves no OUTPUT.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use regpull::Digest;
use serde_json::{Value, json};

use super::{Fixture, ok};
use crate::support::image::{Blob, TestImage, noise};
use crate::support::layers::{self, Compression, dir, file, tar};
use crate::support::{regpull_command, require_tool, run_ok};

const NAME: &str = "docker.io/library/alpine:3.20";
const PORT_NAME: &str = "myreg.example:5000/x/y:tag";
const FOREIGN: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/// Two gzip layers (the same one twice, as images with repeated empty
/// layers have) around an uncompressed one.
fn plain_image() -> TestImage {
    let base = tar(&[dir("etc"), file("etc/os-release", "ID=test\n")]);
    let top = tar(&[file("hello", "world\n")]);
    layers::image(
        &[
            (base.clone(), Compression::Gzip),
            (top, Compression::None),
            (base, Compression::Gzip),
        ],
        json!({"Cmd": ["/bin/sh"]}),
    )
}

/// A gzip layer under a zstd one.
fn zstd_image() -> TestImage {
    layers::image(
        &[
            (tar(&[file("a", "gzip layer\n")]), Compression::Gzip),
            (tar(&[file("b", "zstd layer\n")]), Compression::Zstd),
        ],
        json!({}),
    )
}

/// Exports `reference` as `format` to a fresh file; returns its path.
fn export(fx: &Fixture, reference: &str, format: &str, file: &str) -> std::path::PathBuf {
    let path = fx.path(file);
    let out = fx.export(
        reference,
        &["-o", path.to_str().unwrap(), "--format", format],
    );
    ok(&out);
    path
}

fn skopeo(args: &[&str]) -> String {
    require_tool("skopeo", "skopeo");
    run_ok(Command::new("skopeo").args(args))
}

/// The archive's entries: name -> (mode, mtime, uid, gid, contents).
fn entries(path: &Path) -> BTreeMap<String, (u32, u64, u64, u64, Vec<u8>)> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    let mut all = BTreeMap::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header().clone();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        let name = e.path().unwrap().display().to_string();
        let meta = (
            h.mode().unwrap(),
            h.mtime().unwrap(),
            h.uid().unwrap(),
            h.gid().unwrap(),
        );
        all.insert(name, (meta.0, meta.1, meta.2, meta.3, data));
    }
    all
}

fn json_of(entries: &BTreeMap<String, (u32, u64, u64, u64, Vec<u8>)>, name: &str) -> Value {
    serde_json::from_slice(&entries[name].4).unwrap()
}

/// What skopeo makes of an archive: `inspect --raw` (the manifest) and a
/// copy into an OCI layout, which reads and verifies every blob.
fn skopeo_reads(source: &str, fx: &Fixture, copy: &str) -> Value {
    let raw = skopeo(&["inspect", "--raw", source]);
    skopeo(&["inspect", source]);
    let dest = format!("oci:{}:x", fx.path(copy).display());
    skopeo(&["copy", source, &dest]);
    serde_json::from_str(&raw).unwrap()
}

#[test]
fn docker_archive_is_read_by_skopeo_with_familiar_repo_tags() {
    let img = plain_image();
    let fx = Fixture::new(&[(NAME, &img), (PORT_NAME, &img)]);
    let path = export(&fx, "alpine:3.20", "docker-archive", "a.tar");
    let manifest = skopeo_reads(&format!("docker-archive:{}", path.display()), &fx, "copy");
    assert_eq!(manifest["config"]["digest"], img.config.digest.to_string());
    // skopeo reports the layers by diff_id, and finds the image by its tag.
    skopeo(&[
        "inspect",
        &format!("docker-archive:{}:alpine:3.20", path.display()),
    ]);

    let all = entries(&path);
    for (name, (mode, mtime, uid, gid, _)) in &all {
        assert_eq!((*mode, *mtime, *uid, *gid), (0o444, 0, 0, 0), "{name}");
    }
    let items = json_of(&all, "manifest.json");
    let config = format!("{}.json", img.config.digest.hex());
    let gz = |i: usize| format!("{}.tar.gz", img.layers[i].digest.hex());
    let plain = format!("{}.tar", img.layers[1].digest.hex());
    assert_eq!(
        items,
        json!([{"Config": config, "RepoTags": ["alpine:3.20"], "Layers": [gz(0), plain, gz(2)]}])
    );
    assert_eq!(all[&config].4, img.config.bytes);
    assert_eq!(all[&gz(0)].4, img.layers[0].bytes);
    assert_eq!(all[&plain].4, img.layers[1].bytes);
    let cfg: Value = serde_json::from_slice(&img.config.bytes).unwrap();
    let last = cfg["rootfs"]["diff_ids"][2].as_str().unwrap();
    assert_eq!(
        json_of(&all, "repositories"),
        json!({"alpine": {"3.20": last.trim_start_matches("sha256:")}})
    );
    assert_eq!(all.len(), 5, "{:?}", all.keys().collect::<Vec<_>>());

    // A registry with a port keeps its name, as `docker save` writes it.
    let port = export(&fx, PORT_NAME, "docker-archive", "port.tar");
    let items = json_of(&entries(&port), "manifest.json");
    assert_eq!(items[0]["RepoTags"], json!([PORT_NAME]));
    skopeo(&[
        "inspect",
        &format!("docker-archive:{}:{PORT_NAME}", port.display()),
    ]);
}

#[test]
fn oci_archive_keeps_the_manifest_and_names_the_tag() {
    let img = plain_image();
    let fx = Fixture::new(&[(NAME, &img)]);
    let path = export(&fx, "alpine:3.20", "oci-archive", "a.oci.tar");
    let source = format!("oci-archive:{}", path.display());
    let manifest = skopeo_reads(&source, &fx, "copy");
    assert_eq!(manifest["config"]["digest"], img.config.digest.to_string());
    let inspect: Value = serde_json::from_str(&skopeo(&["inspect", &source])).unwrap();
    assert_eq!(inspect["Digest"], img.manifest.digest.to_string());
    // `oci-archive:FILE:TAG` selects by ref.name.
    skopeo(&["inspect", &format!("{source}:3.20")]);

    let all = entries(&path);
    let blob = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let mut expected = vec![
        "blobs/".to_string(),
        "blobs/sha256/".into(),
        "index.json".into(),
        "oci-layout".into(),
    ];
    for b in img.blobs() {
        if !expected.contains(&blob(&b.digest)) {
            expected.push(blob(&b.digest));
        }
        assert_eq!(all[&blob(&b.digest)].4, b.bytes);
    }
    expected.sort();
    assert_eq!(all.keys().cloned().collect::<Vec<_>>(), expected);
    assert_eq!(all["blobs/sha256/"].0, 0o755);
    let index = json_of(&all, "index.json");
    assert_eq!(
        index["manifests"],
        json!([{
            "mediaType": img.manifest.media_type,
            "digest": img.manifest.digest.to_string(),
            "size": img.manifest.bytes.len(),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {
                "io.containerd.image.name": NAME,
                "org.opencontainers.image.ref.name": "3.20",
            },
        }])
    );
}

#[test]
fn an_image_pinned_by_digest_has_no_tags() {
    let img = plain_image();
    let name = format!("docker.io/library/alpine@{}", img.manifest.digest);
    let fx = Fixture::new(&[(&name, &img)]);
    let docker = export(&fx, &name, "docker-archive", "d.tar");
    let all = entries(&docker);
    assert_eq!(json_of(&all, "manifest.json")[0]["RepoTags"], json!([]));
    assert!(!all.contains_key("repositories"));
    skopeo_reads(&format!("docker-archive:{}", docker.display()), &fx, "d");

    let oci = export(&fx, &name, "oci-archive", "o.tar");
    let index = json_of(&entries(&oci), "index.json");
    assert_eq!(
        index["manifests"][0]["annotations"],
        json!({"io.containerd.image.name": name})
    );
    skopeo_reads(&format!("oci-archive:{}", oci.display()), &fx, "o");
}

#[test]
fn a_zstd_layer_becomes_a_plain_tar_in_a_docker_archive() {
    let img = zstd_image();
    let fx = Fixture::new(&[(NAME, &img)]);
    let path = export(&fx, NAME, "docker-archive", "z.tar");
    let manifest = skopeo_reads(&format!("docker-archive:{}", path.display()), &fx, "copy");
    assert_eq!(manifest["config"]["digest"], img.config.digest.to_string());
    let cfg: Value = serde_json::from_slice(&img.config.bytes).unwrap();
    let diff_id: Digest = cfg["rootfs"]["diff_ids"][1]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let all = entries(&path);
    let name = format!("{}.tar", diff_id.hex());
    assert_eq!(json_of(&all, "manifest.json")[0]["Layers"][1], json!(name));
    assert_eq!(Digest::sha256_of(&all[&name].4), diff_id);

    // oci-archive keeps it as it is: OCI names zstd layers.
    let oci = export(&fx, NAME, "oci-archive", "z.oci.tar");
    let zstd = &img.layers[1];
    assert_eq!(
        entries(&oci)[&format!("blobs/sha256/{}", zstd.digest.hex())].4,
        zstd.bytes
    );
    skopeo_reads(&format!("oci-archive:{}", oci.display()), &fx, "oci-copy");
}

#[test]
fn the_same_bytes_every_time_and_on_standard_output() {
    let docker = layers::image(&[(tar(&[file("f", "x")]), Compression::Gzip)], json!({}));
    for (img, format) in [
        (zstd_image(), "docker-archive"),
        (zstd_image(), "oci-archive"),
        (
            crate::support::image::docker_image("linux", "arm64", &[&[("g", b"y")]]),
            "oci-archive",
        ),
        (docker, "docker-archive"),
    ] {
        let fx = Fixture::new(&[(NAME, &img)]);
        let path = export(&fx, NAME, format, "1.tar");
        // The format names are skopeo's transport names.
        skopeo(&["inspect", &format!("{format}:{}", path.display())]);
        let first = std::fs::read(&path).unwrap();
        let second = std::fs::read(export(&fx, NAME, format, "2.tar")).unwrap();
        assert!(first == second, "{format}: two exports differ");
        let out = fx.export(NAME, &["-o", "-", "--format", format]);
        ok(&out);
        assert!(
            out.stdout == first,
            "{format}: standard output differs from the file"
        );
        assert_eq!(first.len() % 512, 0);
    }
}

/// Runs an export that must fail with `code`; OUTPUT must not exist after.
fn fails(fx: &Fixture, format: &str, code: i32) -> String {
    let path = fx.path("out.tar");
    let out = fx.export(NAME, &["-o", path.to_str().unwrap(), "--format", format]);
    let stderr = crate::support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{format}: {stderr}");
    assert!(!path.exists(), "{format} left {}", path.display());
    assert_eq!(super::names(fx.dir.path()), ["oci"], "{format}: leftovers");
    stderr
}

#[test]
fn a_missing_layer_exits_4_and_leaves_nothing() {
    let img = plain_image();
    let fx = Fixture::new(&[(NAME, &img)]);
    let top = &img.layers[1].digest;
    std::fs::remove_file(fx.layout.join("blobs/sha256").join(top.hex())).unwrap();
    for format in ["docker-archive", "oci-archive"] {
        let stderr = fails(&fx, format, 4);
        assert!(
            stderr.contains(&format!("layer 2 of 3 ({top})")),
            "{stderr}"
        );
        assert!(stderr.contains("is not in the layout"), "{stderr}");
    }
    // Nothing reaches standard output either: layers are found first.
    let out = fx.export(NAME, &["-o", "-"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());

    // A foreign layer is missing for a reason the message gives.
    let (layer, diff_id) = layers::layer_blob(&tar(&[file("w", "x")]), Compression::Gzip);
    let foreign = Blob::new(FOREIGN, layer.bytes);
    let img = layers::image_of(vec![foreign.clone()], &[diff_id], json!({}));
    let fx = Fixture::new(&[(NAME, &img)]);
    std::fs::remove_file(fx.layout.join("blobs/sha256").join(foreign.digest.hex())).unwrap();
    let stderr = fails(&fx, "docker-archive", 4);
    assert!(
        stderr.contains("foreign, non-distributable layer"),
        "{stderr}"
    );
}

#[test]
fn a_zstd_layer_that_misses_its_diff_id_exits_7() {
    let (layer, _) = layers::layer_blob(&tar(&[file("z", "z")]), Compression::Zstd);
    let img = layers::image_of(vec![layer], &[Digest::sha256_of(b"other")], json!({}));
    let fx = Fixture::new(&[(NAME, &img)]);
    let stderr = fails(&fx, "docker-archive", 7);
    assert!(
        stderr.contains("does not decompress to the config's diff_id"),
        "{stderr}"
    );
}

#[test]
fn an_altered_blob_exits_7_and_leaves_nothing() {
    for img in [plain_image(), zstd_image()] {
        let fx = Fixture::new(&[(NAME, &img)]);
        let last = img.layers.last().unwrap();
        let path = fx.layout.join("blobs/sha256").join(last.digest.hex());
        let mut bytes = last.bytes.clone();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        for format in ["docker-archive", "oci-archive"] {
            let stderr = fails(&fx, format, 7);
            assert!(stderr.contains(&last.digest.to_string()), "{stderr}");
            assert!(stderr.contains("does not match"), "{stderr}");
        }
    }
}

#[test]
fn a_closed_pipe_is_a_write_error_not_a_panic() {
    let big = tar(&[file("noise", noise(7, 6 << 20))]);
    let img = layers::image(&[(big, Compression::Gzip)], json!({}));
    let fx = Fixture::new(&[(NAME, &img)]);
    let layout = fx.layout.display().to_string();
    let mut child = regpull_command(&["export", NAME, "-l", &layout, "--pull", "never", "-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 512];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = crate::support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{stderr}");
    assert!(stderr.contains("writing the archive"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
