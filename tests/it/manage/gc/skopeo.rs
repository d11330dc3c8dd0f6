//! gc on layouts skopeo wrote.

use crate::support;

use std::process::Command;

use support::json_doc::validate;
use support::{image, require_tool, run_ok, text};

use super::{gc_deletes_only_what_nothing_reaches, list_events, on_layout};

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
