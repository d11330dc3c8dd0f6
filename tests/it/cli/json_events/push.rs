//! `push --json` for the every-event test: against an open Distribution
//! registry, a first push (uploads and a mount), a second (every blob there
//! already), and a list with a line that names no image.

use super::{regpull_json, support, types};

use std::collections::BTreeSet;

use support::distribution::{Auth, Distribution};
use support::image;

/// The event types these pushes print.
pub async fn event_types() -> BTreeSet<String> {
    let reg = Distribution::start(Auth::Open, false);
    let img = image::image("linux", "amd64", &[&[("f", b"pushed twice")]]);
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    let l = regpull::Layout::open_or_create(&layout).unwrap();
    // Two names, one image: the second repository mounts from the first.
    image::store(&l, "example.com/one:1", &img);
    image::store(&l, "example.com/two:1", &img);
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "example.com/one:1\nNot A Reference!\n").unwrap();
    let (layout, list) = (layout.display().to_string(), list.display().to_string());
    let to = format!("{}/m", reg.host);
    let mut seen = BTreeSet::new();
    for extra in [vec!["--all"], vec!["--all"], vec!["-f", &list]] {
        let mut args = vec!["push", "--json", "-l", &layout, "--to", &to];
        args.extend(extra);
        let run = regpull_json(args.iter().map(|s| s.to_string()).collect()).await;
        assert!(!run.events.is_empty(), "{args:?}: {}", run.stderr);
        seen.extend(types(&run.events).into_iter().map(String::from));
    }
    for ty in ["push_blob_mounted", "push_blob_exists", "push_image_failed"] {
        assert!(seen.contains(ty), "{ty}: {seen:?}");
    }
    seen
}
