//! `verify` and `list` while another regpull pulls into the same layout.

use crate::support;

use std::path::Path;

use support::distribution::{Auth, Distribution};
use support::image;
use support::json_doc::validate;
use support::push::{PushAuth, Pusher};
use support::{run_ok, text};

use super::{app_image, run, seed_runtime};

#[test]
fn verify_and_list_stay_correct_while_another_regpull_pulls() {
    let reg = Distribution::start(Auth::Open, false);
    let first = app_image();
    let big = image::image(
        "linux",
        "amd64",
        &[
            &[("big", &image::noise(9, 8 << 20))],
            &[("more", &image::noise(10, 8 << 20))],
        ],
    );
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    seed_runtime().block_on(async {
        pusher.image("team/app", "1", &first).await;
        pusher.image("team/big", "1", &big).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let out = root.to_str().unwrap();
    run_ok(&mut support::regpull_command(&[
        "pull",
        &format!("{}/team/app:1", reg.host),
        "-o",
        out,
    ]));
    let mut pull = support::regpull_command(&[
        "pull",
        &format!("{}/team/big:1", reg.host),
        "-o",
        out,
        "--jobs",
        "1",
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Whatever the interleaving, each check must pass: blobs appear whole or
    // not at all, and index.json names only what is already there.
    let mut rounds = 0;
    loop {
        let done = pull.try_wait().unwrap().is_some();
        check_clean(&root);
        rounds += 1;
        if done {
            break;
        }
    }
    assert!(pull.wait().unwrap().success());
    assert!(rounds >= 1);
    let images = validate(&text(&run(&["list", "--json", "--layout", out]).stdout));
    assert_eq!(images.len(), 2);
}

fn check_clean(root: &Path) {
    let o = run(&["verify", "--json", "--layout", root.to_str().unwrap()]);
    let events = validate(&text(&o.stdout));
    assert_eq!(o.status.code(), Some(0), "{events:?}");
    let o = run(&["list", "--json", "--layout", root.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    validate(&text(&o.stdout));
}
