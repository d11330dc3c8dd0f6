//! `inspect` and `verify --repair` against the real CNCF Distribution registry,
//! and `verify`/`list` while a pull writes into the same layout.

use crate::support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use regpull::pull::SOURCE_ANNOTATION;
use regpull::{Digest, Layout};
use support::distribution::{Auth, Distribution};
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{self, TestImage};
use support::json_doc::{of_type, validate};
use support::push::{PushAuth, Pusher};
use support::{require_tool, run_ok, text};

fn seed_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn run(args: &[&str]) -> Output {
    support::regpull_command(args).output().unwrap()
}

fn app_image() -> TestImage {
    image::image(
        "linux",
        "amd64",
        &[
            &[("etc/hello", b"hello from layer one\n")],
            &[("usr/share/big", &image::noise(3, 200_000))],
        ],
    )
}

/// Blob GETs the registry answered for `digest`, from its request log.
fn blob_gets_of(log: &str, digest: &Digest) -> usize {
    log.lines()
        .filter(|l| {
            l.contains("http.request.method=GET")
                && l.contains(&format!("/blobs/{digest}"))
                && l.contains("response.status=200")
        })
        .count()
}

#[test]
fn inspect_describes_a_remote_image_without_fetching_a_layer() {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(false);
    seed_runtime().block_on(Pusher::new(&reg.host, None, PushAuth::None).index(
        "team/multi",
        "v1",
        &idx,
    ));
    let name = format!("{}/team/multi:v1", reg.host);
    let o = run(&["inspect", "--json", "--platform", "linux/arm/v7", &name]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let e = &events[0];
    let arm = &idx.images[2].1;
    assert_eq!(e["type"], "inspect");
    assert_eq!(e["source"], "registry");
    assert_eq!(e["reference"], name);
    assert_eq!(e["digest"], idx.index.digest.to_string());
    let platforms: Vec<&str> = e["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]);
    assert_eq!(
        e["platforms"][1]["digest"],
        idx.images[1].1.manifest.digest.to_string()
    );
    assert_eq!(e["platform"], "linux/arm/v7");
    assert_eq!(e["manifest_digest"], arm.manifest.digest.to_string());
    assert_eq!(e["config"]["digest"], arm.config.digest.to_string());
    assert_eq!(e["config"]["os"], "linux");
    assert_eq!(e["layers"][0]["size"], arm.layers[0].bytes.len());

    let single = app_image();
    seed_runtime()
        .block_on(Pusher::new(&reg.host, None, PushAuth::None).image("team/app", "1", &single));
    let app = format!("{}/team/app:1", reg.host);
    let o = run(&["inspect", &app]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let human = text(&o.stdout);
    assert!(
        human.contains(&single.layers[1].digest.to_string()),
        "{human}"
    );
    assert!(human.contains("platform:     linux/amd64"), "{human}");

    let log = reg.log();
    assert_eq!(
        blob_gets_of(&log, &arm.config.digest),
        1,
        "the config is read"
    );
    assert_eq!(blob_gets_of(&log, &single.config.digest), 1);
    for (_, img) in &idx.images {
        for layer in &img.layers {
            assert_eq!(
                blob_gets_of(&log, &layer.digest),
                0,
                "no layer is downloaded"
            );
        }
    }
    for layer in &single.layers {
        assert_eq!(
            blob_gets_of(&log, &layer.digest),
            0,
            "no layer is downloaded"
        );
    }

    let o = run(&["inspect", &format!("{}/team/nope:1", reg.host)]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).starts_with("error: inspecting "),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn verify_repair_deletes_damaged_blobs_and_pulls_the_images_again() {
    let reg = Distribution::start(Auth::Open, false);
    let app = app_image();
    let idx = image::multi_platform(false);
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    seed_runtime().block_on(async {
        pusher.image("team/app", "1", &app).await;
        pusher.index("team/multi", "v1", &idx).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let app_name = format!("{}/team/app:1", reg.host);
    let multi_name = format!("{}/team/multi:v1", reg.host);
    let out = root.to_str().unwrap();
    run_ok(&mut support::regpull_command(&[
        "pull", &app_name, "-o", out,
    ]));
    run_ok(&mut support::regpull_command(&[
        "pull",
        &multi_name,
        "--all-platforms",
        "-o",
        out,
    ]));
    let layout = Layout::open(&root).unwrap();
    let big = layout.blob_path(&app.layers[1].digest);
    let mut bytes = fs::read(&big).unwrap();
    bytes[1000] ^= 1;
    fs::write(&big, bytes).unwrap();
    let arm64_config = &idx.images[1].1.config;
    fs::remove_file(layout.blob_path(&arm64_config.digest)).unwrap();

    let o = run(&["verify", "--layout", out]);
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));

    let o = run(&["verify", "--repair", "--json", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    let problems = of_type(&events, "problem");
    assert_eq!(problems.len(), 2, "{events:?}");
    assert!(problems.iter().all(|p| p["repaired"] == true), "{events:?}");
    let summary = of_type(&events, "verify_summary")[0];
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["problems"], 0);
    let mut repaired = vec![app_name.clone(), multi_name.clone()];
    repaired.sort();
    assert_eq!(summary["repaired"], serde_json::json!(repaired));
    layout
        .verify_blob(&app.layers[1].digest, app.layers[1].bytes.len() as u64)
        .unwrap();

    let o = run(&["verify", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    require_tool("skopeo", "skopeo");
    run_ok(
        Command::new("skopeo")
            .arg("inspect")
            .arg(format!("oci:{out}:{app_name}")),
    );
    let list = run(&["list", "--json", "--layout", out]);
    let images = validate(&text(&list.stdout));
    let multi = images
        .iter()
        .find(|e| e["name"] == multi_name.as_str())
        .unwrap();
    assert_eq!(
        multi["digest"],
        idx.index.digest.to_string(),
        "still the whole index"
    );
}

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

/// `regpull ARGS` from inside a tokio test, where the in-process registry runs.
async fn run_async(args: Vec<String>) -> (Output, std::time::Duration) {
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let out = support::regpull_command(&args).output().unwrap();
        (out, started.elapsed())
    })
    .await
    .unwrap()
}

/// The next blob request the fake registry answers is 503 (its scripted
/// statuses are indexed by how many blob requests it has answered).
fn fail_next_blob_request(reg: &FakeRegistry) {
    let served = reg
        .requests()
        .iter()
        .filter(|r| r.contains("/blobs/"))
        .count();
    reg.shared.faults.lock().unwrap().blob_statuses = vec![(503, None); served + 1];
}

/// A repair's pull takes verify's --retries and --timeout as `pull` takes its
/// own: one 503 is survived with one retry and fails the repair with none, and
/// a stalled blob is given up on after --timeout and resumed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_repair_honours_retries_and_timeout() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let app = app_image();
    reg.add_image("team/app", "1", &app);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let out = root.to_str().unwrap().to_string();
    let name = format!("{}/team/app:1", reg.host);
    let (o, _) = run_async(vec![
        "pull".into(),
        "-q".into(),
        "-o".into(),
        out.clone(),
        name.clone(),
    ])
    .await;
    assert!(o.status.success(), "{}", text(&o.stderr));
    let layout = Layout::open(&root).unwrap();
    let big = &app.layers[1];
    let repair = |extra: &[&str]| {
        let mut args: Vec<String> = ["verify", "--repair", "--json", "--layout", &out]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        run_async(args)
    };

    fs::remove_file(layout.blob_path(&big.digest)).unwrap();
    fail_next_blob_request(&reg);
    let (o, _) = repair(&["--retries", "0"]).await;
    assert_eq!(o.status.code(), Some(7), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(
        of_type(&events, "verify_summary")[0]["repaired"],
        serde_json::json!([])
    );
    assert!(text(&o.stderr).contains("503"), "{}", text(&o.stderr));
    assert!(!layout.blob_path(&big.digest).exists());

    fail_next_blob_request(&reg);
    let big_gets = || {
        let path = format!("GET /v2/team/app/blobs/{}", big.digest);
        reg.requests().iter().filter(|r| **r == path).count()
    };
    let before = big_gets();
    let (o, _) = repair(&["--retries", "1"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let events = validate(&text(&o.stdout));
    assert_eq!(
        of_type(&events, "verify_summary")[0]["repaired"],
        serde_json::json!([name])
    );
    assert_eq!(big_gets() - before, 2, "the 503, then the blob");
    layout
        .verify_blob(&big.digest, big.bytes.len() as u64)
        .unwrap();

    // The first attempt at the blob stalls after 1000 bytes; without
    // --timeout 1, the 30 s default would wait it out.
    fs::remove_file(layout.blob_path(&big.digest)).unwrap();
    reg.reset_attempts();
    reg.shared.faults.lock().unwrap().drop_blobs_after = Some(1000);
    let (o, took) = repair(&["--retries", "1", "--timeout", "1"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(took < std::time::Duration::from_secs(15), "{took:?}");
    layout
        .verify_blob(&big.digest, big.bytes.len() as u64)
        .unwrap();
}

/// A repair pulls each image as `dev.regpull.source` says it was pulled:
/// here every platform of an OCI index with --preserve-digests, which the
/// entry's media type alone cannot tell. An entry without the annotation is
/// pulled as its descriptor suggests, and says so.
#[test]
fn verify_repair_pulls_each_image_as_it_was_recorded() {
    let reg = Distribution::start(Auth::Open, false);
    let idx = image::multi_platform(false);
    let app = app_image();
    let pusher = Pusher::new(&reg.host, None, PushAuth::None);
    seed_runtime().block_on(async {
        pusher.index("team/multi", "v1", &idx).await;
        pusher.image("team/app", "1", &app).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let out = root.to_str().unwrap();
    let multi = format!("{}/team/multi:v1", reg.host);
    let single = format!("{}/team/app:1", reg.host);
    run_ok(&mut support::regpull_command(&[
        "pull",
        "-q",
        "--all-platforms",
        "--preserve-digests",
        "-o",
        out,
        &multi,
    ]));
    run_ok(&mut support::regpull_command(&[
        "pull",
        "-q",
        "--platform",
        "linux/amd64",
        "-o",
        out,
        &single,
    ]));
    let layout = Layout::open(&root).unwrap();
    let source_of = |name: &str| {
        let entry = layout.find_image(name).unwrap().unwrap();
        entry
            .annotations()
            .clone()
            .unwrap_or_default()
            .get(SOURCE_ANNOTATION)
            .cloned()
    };
    let recorded = source_of(&multi).unwrap();
    assert!(
        recorded.contains("all-platforms+preserve-digests"),
        "{recorded}"
    );

    // The single image's entry as another tool would have written it.
    let index_path = root.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    for entry in index["manifests"].as_array_mut().unwrap() {
        if entry["annotations"]["org.opencontainers.image.ref.name"] == single.as_str() {
            entry["annotations"]
                .as_object_mut()
                .unwrap()
                .remove(SOURCE_ANNOTATION);
        }
    }
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    fs::remove_file(layout.blob_path(&idx.images[2].1.layers[0].digest)).unwrap();
    fs::remove_file(layout.blob_path(&app.layers[0].digest)).unwrap();
    let o = run(&["verify", "--repair", "--layout", out]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains(&format!(
            "pulling {multi} again (all platforms, digests preserved)"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "note: {single}: its entry has no {SOURCE_ANNOTATION} annotation"
        )),
        "{stderr}"
    );
    assert_eq!(
        source_of(&multi).unwrap(),
        recorded,
        "stored the same way again"
    );
    assert!(
        source_of(&single)
            .unwrap()
            .contains("\"selection\":\"linux/amd64\"")
    );
    assert_eq!(
        layout
            .find_image(&multi)
            .unwrap()
            .unwrap()
            .digest()
            .to_string(),
        idx.index.digest.to_string()
    );
}
