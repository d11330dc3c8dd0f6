//! `--to REGISTRY[/PREFIX]`: many images, each under the prefix with its own
//! repository path (its source registry left out), from names, lists and
//! `--all`.

use super::{Dest, sha256, stored, support};

use support::image;

fn base_and(file: &[u8]) -> image::TestImage {
    image::image(
        "linux",
        "amd64",
        &[
            &[("etc/os-release", b"a shared base layer\n")],
            &[("app", file)],
        ],
    )
}

#[test]
fn a_list_goes_under_the_prefix_keeping_repository_paths_and_tags() {
    let ubuntu = base_and(b"ubuntu");
    let cuda = base_and(b"cuda");
    let (dir, layout) = stored(&[
        ("docker.io/library/ubuntu:24.04", &ubuntu),
        ("nvcr.io/nvidia/cuda:12", &cuda),
        ("docker.io/library/unlisted:1", &ubuntu),
    ]);
    let list = dir.path().join("images.txt");
    std::fs::write(
        &list,
        "# the prefetch list\nubuntu:24.04\nnvcr.io/nvidia/cuda:12 --all-platforms\n",
    )
    .unwrap();
    let dest = Dest::htpasswd();
    let to = format!("{}/mirror", dest.host);
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&[
        "push",
        "--json",
        "-l",
        l,
        "--to",
        &to,
        "-f",
        list.to_str().unwrap(),
    ]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.no_secret();
    let targets: Vec<&str> = r
        .of_type("push_image_done")
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            format!("{to}/library/ubuntu:24.04"),
            format!("{to}/nvidia/cuda:12"),
        ]
    );
    // The shared base and nothing else went to the second repository by mount.
    let mounted = r.of_type("push_blob_mounted");
    assert_eq!(mounted.len(), 1, "{:#?}", r.events);
    assert_eq!(mounted[0]["from"], "mirror/library/ubuntu");
    let raw = dest.skopeo_inspect("mirror/nvidia/cuda:12", true);
    assert_eq!(sha256(raw.as_bytes()), cuda.manifest.digest.to_string());
    let summary = &r.of_type("push_summary")[0];
    assert_eq!(summary["pushed"], 2);
}

#[test]
fn all_pushes_every_named_image_by_tag_or_by_digest() {
    let a = base_and(b"a");
    let b = base_and(b"b");
    let pinned = format!("quay.io/org/b@{}", b.manifest.digest);
    let (_dir, layout) = stored(&[("quay.io/org/a:1", &a), (pinned.as_str(), &b)]);
    let dest = Dest::open();
    let l = layout.to_str().unwrap();
    let r = dest.regpull(&["push", "-l", l, "--to", &dest.host, "--all"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stdout
            .contains(&format!("{}/org/a:1 {}", dest.host, a.manifest.digest)),
        "{}",
        r.stdout
    );
    let raw = dest.skopeo_inspect(&format!("org/b@{}", b.manifest.digest), true);
    assert_eq!(sha256(raw.as_bytes()), b.manifest.digest.to_string());
    assert!(r.stderr.contains("pushed 2 of 2 images"), "{}", r.stderr);
}

#[test]
fn to_needs_a_registry_host() {
    let img = base_and(b"x");
    let (_dir, layout) = stored(&[("example.com/x:1", &img)]);
    let l = layout.to_str().unwrap();
    let r = super::run(
        &super::strings(&["push", "-l", l, "--to", "mirror", "--all"]),
        false,
    );
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(r.stderr.contains("registry host"), "{}", r.stderr);
}
