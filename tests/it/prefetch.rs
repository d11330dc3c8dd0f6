//! A cron-style prefetch list against the real Distribution registry: twenty
//! images into one layout, then the same list again when all are up to date.

use crate::support;

use support::distribution::{Auth, Distribution};
use support::image;
use support::push::{PushAuth, Pusher};
use support::{regpull, text};

const IMAGES: usize = 20;

/// `METHOD URI` of every request the registry logged as completed, in order.
fn requests(log: &str) -> Vec<String> {
    let field = |line: &str, key: &str| {
        let rest = line.split(key).nth(1)?;
        let value = match rest.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => rest.split(' ').next()?,
        };
        Some(value.to_string())
    };
    log.lines()
        .filter(|l| l.contains("msg=\"response completed\""))
        .filter_map(|l| {
            Some(format!(
                "{} {}",
                field(l, "http.request.method=")?,
                field(l, "http.request.uri=")?
            ))
        })
        .collect()
}

#[test]
fn an_up_to_date_list_of_twenty_images_asks_only_for_manifest_digests() {
    let reg = Distribution::start(Auth::Open, false);
    let base: &[(&str, &[u8])] = &[("etc/os-release", b"ID=prefetch-test\n")];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    let mut list = String::from("# the nightly prefetch\n");
    let mut distinct = std::collections::BTreeSet::new();
    for n in 0..IMAGES {
        let own = format!("service {n}\n");
        let img = image::image("linux", "amd64", &[base, &[("srv", own.as_bytes())]]);
        runtime.block_on(pusher.image(&format!("team/svc{n}"), "1", &img));
        distinct.extend(img.layers.iter().map(|l| l.digest.to_string()));
        distinct.insert(img.config.digest.to_string());
        list.push_str(&format!("{}/team/svc{n}:1\n", reg.host));
    }
    let dir = tempfile::tempdir().unwrap();
    let list_path = dir.path().join("images.txt");
    std::fs::write(&list_path, &list).unwrap();
    let out = dir.path().join("oci");
    let args = [
        "pull",
        "-q",
        "-o",
        out.to_str().unwrap(),
        "-f",
        list_path.to_str().unwrap(),
    ];

    let first = regpull(&args, None);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout).lines().count(), IMAGES);
    let again = regpull(&args, None);
    assert!(again.status.success(), "{}", text(&again.stderr));

    // The registry logs each request after answering it, so the log is read as
    // a whole once both runs are in it, not split at a point in time: every
    // blob was fetched once (by the first run), every manifest fetched once
    // (the first run) and asked for once with HEAD (the second run).
    let count = |uris: &[String], method: &str, kind: &str| {
        uris.iter()
            .filter(|u| u.starts_with(&format!("{method} /v2/team/svc")) && u.contains(kind))
            .count()
    };
    let expected = distinct.len() + 2 * IMAGES;
    let mut uris = Vec::new();
    support::wait_until(
        &format!("the registry to log {expected} blob and manifest requests"),
        std::time::Duration::from_secs(60),
        || {
            uris = requests(&reg.log());
            count(&uris, "GET", "/blobs/")
                + count(&uris, "GET", "/manifests/")
                + count(&uris, "HEAD", "/manifests/")
                >= expected
        },
    );
    assert_eq!(
        count(&uris, "GET", "/blobs/"),
        distinct.len(),
        "no blob twice"
    );
    assert_eq!(
        count(&uris, "GET", "/manifests/"),
        IMAGES,
        "no manifest body twice"
    );
    // HEAD only: Docker Hub does not count those against its pull limit.
    assert_eq!(
        count(&uris, "HEAD", "/manifests/"),
        IMAGES,
        "one HEAD per image"
    );
}
