//! `export --pull missing|always|never` against the real Distribution
//! registry: what is pulled and when, what the registry is asked, the platform
//! a multi-platform image is pulled for, credentials, and a read-only layout
//! read by an unprivileged user.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output};

use super::{Fixture, names, ok};
use crate::support::distribution::{Auth, Distribution, TokenRegistry};
use crate::support::image::{self, TestImage};
use crate::support::push::{PushAuth, Pusher};
use crate::support::{blob_gets, regpull, regpull_command, require_tool, text, wrapped};

mod json;

const HELLO: &[u8] = b"hello from the registry\n";

fn sample() -> TestImage {
    image::image("linux", "amd64", &[&[("etc/hello", HELLO)]])
}

fn seed(push: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(push);
}

/// An open registry holding `img` at `team/app:1`, and the image's name.
fn registry_with(img: &TestImage) -> (Distribution, String) {
    let reg = Distribution::start(Auth::Open, false);
    seed(Pusher::new(&reg.host, None, PushAuth::None).image("team/app", "1", img));
    let name = format!("{}/team/app:1", reg.host);
    (reg, name)
}

/// `regpull export NAME -l LAYOUT -o OUTPUT EXTRA...`.
fn export(layout: &Path, name: &str, output: &Path, extra: &[&str]) -> Output {
    let (l, o) = (layout.display().to_string(), output.display().to_string());
    let mut args = vec!["export", name, "-l", &l, "-o", &o];
    args.extend_from_slice(extra);
    regpull(&args, None)
}

/// "METHOD URI" of each request the registry answered, in order.
fn requests(log: &str) -> Vec<String> {
    let field = |line: &str, key: &str| {
        line.split(key)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .map(str::to_string)
    };
    log.lines()
        .filter(|l| l.contains("msg=\"response completed"))
        .filter_map(|l| {
            let method = field(l, "http.request.method=")?;
            let uri = field(l, "http.request.uri=")?;
            Some(format!("{method} {}", uri.trim_matches('"')))
        })
        .collect()
}

#[test]
fn missing_pulls_into_a_fresh_layout_then_needs_no_registry() {
    let (reg, name) = registry_with(&sample());
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");

    let first = export(
        &layout,
        &name,
        &dir.path().join("one"),
        &["--format", "rootfs"],
    );
    let stderr = ok(&first);
    assert!(stderr.contains(&format!("pulling {name}")), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join("one/etc/hello")).unwrap(),
        HELLO
    );
    assert_eq!(blob_gets(&reg.log()), 2, "config and layer, once each");

    // Present: not a single request, not even a HEAD.
    let before = requests(&reg.log());
    let second = export(
        &layout,
        &name,
        &dir.path().join("two"),
        &["--format", "rootfs"],
    );
    let stderr = ok(&second);
    assert!(!stderr.contains("pulling"), "{stderr}");
    assert_eq!(requests(&reg.log()), before, "the layout had the image");

    // And with the registry gone.
    drop(reg);
    let tar = dir.path().join("app.tar");
    ok(&export(&layout, &name, &tar, &[]));
    assert!(tar.metadata().unwrap().len() > 0);
}

/// A layer the layout lost (gc, a copy that missed it) makes the image
/// missing: `--pull missing` fetches it again instead of failing.
#[test]
fn missing_pulls_again_when_a_layer_blob_is_gone() {
    let img = sample();
    let (reg, name) = registry_with(&img);
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    ok(&export(
        &layout,
        &name,
        &dir.path().join("one"),
        &["--format", "rootfs"],
    ));
    assert_eq!(blob_gets(&reg.log()), 2);
    let layer = layout.join("blobs/sha256").join(img.layers[0].digest.hex());
    std::fs::remove_file(&layer).unwrap();
    let stderr = ok(&export(
        &layout,
        &name,
        &dir.path().join("two"),
        &["--format", "rootfs"],
    ));
    assert!(stderr.contains(&format!("pulling {name}")), "{stderr}");
    assert_eq!(
        blob_gets(&reg.log()),
        3,
        "only the lost layer is fetched again"
    );
    assert!(layer.is_file());
    assert_eq!(
        std::fs::read(dir.path().join("two/etc/hello")).unwrap(),
        HELLO
    );
}

#[test]
fn never_with_the_image_absent_fails_and_writes_nothing() {
    let name = "127.0.0.1:9/team/app:1";
    let check = |o: &Output| {
        let stderr = text(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("is not in the layout"), "{stderr}");
        assert!(
            stderr.contains("hint: pull it first (`regpull pull 127.0.0.1:9/team/app:1 -o "),
            "{stderr}"
        );
        assert!(o.stdout.is_empty());
    };

    // No layout at all: it is not created.
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    let output = dir.path().join("rootfs");
    check(&export(
        &layout,
        name,
        &output,
        &["--pull", "never", "--format", "rootfs"],
    ));
    assert!(!layout.exists(), "--pull never created the layout");
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

    // A layout holding another image: left as it was.
    let fx = Fixture::new(&[("127.0.0.1:9/team/other:1", &sample())]);
    let before = stat_tree(&fx.layout);
    let output = fx.path("rootfs");
    check(&fx.export(
        name,
        &["-o", output.to_str().unwrap(), "--format", "rootfs"],
    ));
    assert_eq!(stat_tree(&fx.layout), before);
    assert_eq!(names(fx.dir.path()), ["oci"]);
}

#[test]
fn always_when_up_to_date_asks_with_head_and_fetches_no_blob() {
    let (reg, name) = registry_with(&sample());
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    ok(&regpull(
        &["pull", &name, "-o", layout.to_str().unwrap()],
        None,
    ));

    let before = requests(&reg.log()).len();
    let output = dir.path().join("rootfs");
    ok(&export(
        &layout,
        &name,
        &output,
        &["--pull", "always", "--format", "rootfs"],
    ));
    assert_eq!(std::fs::read(output.join("etc/hello")).unwrap(), HELLO);
    let asked = &requests(&reg.log())[before..];
    assert!(
        asked.iter().any(|r| r == "HEAD /v2/team/app/manifests/1"),
        "{asked:?}"
    );
    assert!(
        !asked
            .iter()
            .any(|r| r.starts_with("GET") && r.contains("/blobs/")),
        "{asked:?}"
    );
}

#[test]
fn a_platform_the_layout_lacks_is_pulled() {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(false);
    seed(Pusher::new(&reg.host, None, PushAuth::None).index("team/multi", "1", &idx));
    let name = format!("{}/team/multi:1", reg.host);
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("oci");
    let platform_txt =
        |out: &str| std::fs::read_to_string(dir.path().join(out).join("platform.txt")).unwrap();

    let arm64 = dir.path().join("arm64");
    let stderr = ok(&export(
        &layout,
        &name,
        &arm64,
        &["--format", "rootfs", "--platform", "linux/arm64"],
    ));
    assert!(stderr.contains("pulling"), "{stderr}");
    assert_eq!(platform_txt("arm64"), "built for linux/arm64/v8\n");

    // The layout holds the image, for arm64 only: arm/v7 is pulled.
    let armv7 = dir.path().join("armv7");
    let stderr = ok(&export(
        &layout,
        &name,
        &armv7,
        &["--format", "rootfs", "--platform", "linux/arm/v7"],
    ));
    assert!(stderr.contains("pulling"), "{stderr}");
    assert_eq!(platform_txt("armv7"), "built for linux/arm/v7\n");

    // Now it holds arm/v7: asked for arm64 without pulling, it says so
    // instead of exporting another platform's files.
    drop(reg);
    let o = export(
        &layout,
        &name,
        &dir.path().join("again"),
        &[
            "--format",
            "rootfs",
            "--platform",
            "linux/arm64",
            "--pull",
            "never",
        ],
    );
    let stderr = text(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("no image for platform linux/arm64; the image has: linux/arm/v7"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the layout holds the platforms listed"),
        "{stderr}"
    );
    assert!(!dir.path().join("again").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_reach_the_pull_and_never_the_output() {
    const USER: &str = "ci-bot";
    const PASSWORD: &str = "export-s3cr3t:with\"quote";
    let tr = TokenRegistry::start(Some((USER, PASSWORD))).await;
    let push_token = tr.tokens.mint("repository:tok/app:pull,push");
    Pusher::new(
        &tr.registry.host,
        None,
        PushAuth::Bearer(Box::new(move |_| push_token.clone())),
    )
    .image("tok/app", "1", &sample())
    .await;
    let name = format!("{}/tok/app:1", tr.registry.host);
    let dir = tempfile::tempdir().unwrap();
    let (layout, output) = (dir.path().join("oci"), dir.path().join("rootfs"));

    let run = |extra: Vec<&'static str>, stdin: Option<&'static str>| {
        let (layout, output, name) = (layout.clone(), output.clone(), name.clone());
        tokio::task::spawn_blocking(move || {
            let (l, o) = (layout.display().to_string(), output.display().to_string());
            let mut args = vec!["export", &name, "-l", &l, "-o", &o, "--format", "rootfs"];
            args.extend(extra);
            regpull(&args, stdin)
        })
    };
    let anonymous = run(vec![], None).await.unwrap();
    assert_eq!(
        anonymous.status.code(),
        Some(3),
        "{}",
        text(&anonymous.stderr)
    );
    assert!(!output.exists());

    let o = run(vec!["-vv", "-u", USER, "--password-stdin"], Some(PASSWORD))
        .await
        .unwrap();
    let stderr = ok(&o);
    assert!(stderr.contains("Bearer tokens from"), "-vv: {stderr}");
    assert_eq!(std::fs::read(output.join("etc/hello")).unwrap(), HELLO);
    let token = tr.tokens.mint("repository:tok/app:pull");
    let basic = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
    };
    // Every JWT starts with the base64 of `{"`.
    for secret in [PASSWORD, &basic, &token[..40], "eyJ"] {
        assert!(!stderr.contains(secret), "a secret on stderr: {stderr}");
        assert!(!text(&o.stdout).contains(secret), "a secret on stdout");
    }
}

/// Path -> (mode, owner, size, mtime in ns) of everything below `root`.
fn stat_tree(root: &Path) -> BTreeMap<String, (u32, u32, u64, i128)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).unwrap();
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let mtime = i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec());
        out.insert(rel, (m.mode(), m.uid(), m.len(), mtime));
        if m.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    out
}

/// Every directory below `root` 0755 and every file 0644: readable, but
/// writable only by root, its owner.
fn read_only_for_others(root: &Path) {
    for p in stat_tree(root).keys() {
        let p = root.join(p);
        let m = std::fs::symlink_metadata(&p).unwrap();
        let mode = if m.is_dir() { 0o755 } else { 0o644 };
        if !m.file_type().is_symlink() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

#[test]
fn a_read_only_layout_is_read_by_an_unprivileged_user() {
    require_tool("setpriv", "util-linux");
    const NOBODY: u32 = 65534;
    let name = "127.0.0.1:9/team/app:1";
    let fx = Fixture::new(&[(name, &sample())]);
    read_only_for_others(fx.dir.path());
    let outdir = fx.path("out");
    std::fs::create_dir(&outdir).unwrap();
    rustix::fs::chown(
        &outdir,
        Some(rustix::fs::Uid::from_raw(NOBODY)),
        Some(rustix::fs::Gid::from_raw(NOBODY)),
    )
    .unwrap();
    let before = stat_tree(&fx.layout);

    let output = outdir.join("rootfs");
    let (l, o) = (
        fx.layout.display().to_string(),
        output.display().to_string(),
    );
    let cmd = regpull_command(&["export", name, "-l", &l, "-o", &o, "--format", "rootfs"]);
    let mut nobody = Command::new("setpriv");
    nobody.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
    let out = wrapped(nobody, &cmd).output().unwrap();
    let stderr = ok(&out);
    assert!(!stderr.contains("pulling"), "{stderr}");
    assert_eq!(stat_tree(&fx.layout), before, "the layout was written");
    let hello = output.join("etc/hello");
    assert_eq!(std::fs::read(&hello).unwrap(), HELLO);
    for p in [&output, &output.join("etc"), &hello] {
        let m = std::fs::metadata(p).unwrap();
        assert_eq!((m.uid(), m.gid()), (NOBODY, NOBODY), "{}", p.display());
    }
}
