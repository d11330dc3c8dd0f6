//! `--json` as scripts read it: every event checked against docs/json.md, the
//! event streams of a fresh pull, an up-to-date re-pull, a retried pull, a
//! failing pull per exit class, and a prefetch list with bad entries.
//! (Export's own streams are tested in export/pull/json.rs.)

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{self, TestImage};
use support::json_doc::{of_type, schema, validate};
use support::text;

/// A layer big enough to cross every tenth of its size in separate chunks.
fn sample() -> TestImage {
    let big = image::noise(7, 2 << 20);
    image::image(
        "linux",
        "amd64",
        &[&[("etc/small", b"small layer\n")], &[("big.bin", &big)]],
    )
}

struct Run {
    code: Option<i32>,
    events: Vec<Value>,
    stderr: String,
}

async fn regpull_json(args: Vec<String>) -> Run {
    let out = tokio::task::spawn_blocking(move || {
        support::regpull_command(&args)
            .output()
            .expect("regpull runs")
    })
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    Run {
        code: out.status.code(),
        events: validate(&stdout),
        stderr: text(&out.stderr),
    }
}

async fn pull_json(out: &Path, refs: &[String], extra: &[&str]) -> Run {
    let mut args = vec!["pull".to_string(), "--json".into(), "-o".into()];
    args.push(out.display().to_string());
    args.extend(refs.iter().cloned());
    args.extend(extra.iter().map(|s| s.to_string()));
    regpull_json(args).await
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn blob_gets(reg: &FakeRegistry) -> usize {
    reg.requests()
        .iter()
        .filter(|r| r.contains("/blobs/"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_pull_then_an_up_to_date_one() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let img = sample();
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let name = format!("{}/app:1", reg.host);

    let fresh = pull_json(&out, std::slice::from_ref(&name), &[]).await;
    assert_eq!(fresh.code, Some(0), "{}", fresh.stderr);
    let t = types(&fresh.events);
    assert_eq!(t[0], "credentials");
    assert_eq!(fresh.events[0]["source"], Value::Null, "anonymous");
    assert_eq!(t[1], "resolved");
    assert_eq!(*t.last().unwrap(), "summary");
    let resolved = &fresh.events[1];
    assert_eq!(resolved["digest"], img.manifest.digest.to_string());
    assert_eq!(resolved["blobs"], 3, "config and two layers");
    let blob_bytes: u64 = img
        .blobs()
        .iter()
        .filter(|b| b.digest != img.manifest.digest)
        .map(|b| b.bytes.len() as u64)
        .sum();
    assert_eq!(resolved["size"], blob_bytes);
    assert_eq!(of_type(&fresh.events, "blob_start").len(), 3);
    let done = of_type(&fresh.events, "blob_done");
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|d| d["fetched"] == d["size"]));
    let progress = of_type(&fresh.events, "blob_progress");
    let big = img.layers[1].digest.to_string();
    let steps: Vec<u64> = progress
        .iter()
        .filter(|p| p["digest"] == big)
        .map(|p| p["bytes"].as_u64().unwrap())
        .collect();
    assert!(
        steps.len() >= 5,
        "a 2 MiB layer reports its tenths: {steps:?}"
    );
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "{steps:?}");
    let image_done = of_type(&fresh.events, "image_done");
    assert_eq!(
        image_done[0]["platforms"],
        serde_json::json!(["linux/amd64"])
    );
    let summary = fresh.events.last().unwrap();
    assert_eq!(summary["fetched_blobs"], 3);
    assert_eq!(summary["fetched_bytes"], blob_bytes);
    assert_eq!(summary["reused_blobs"], 0);
    assert_eq!(summary["exit_code"], 0);
    assert!(
        !fresh.stderr.contains('{'),
        "no JSON on stderr: {}",
        fresh.stderr
    );

    let gets_before = blob_gets(&reg);
    let again = pull_json(&out, &[name], &[]).await;
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert_eq!(
        blob_gets(&reg),
        gets_before,
        "an up-to-date image fetches no blob"
    );
    assert!(of_type(&again.events, "blob_start").is_empty());
    assert_eq!(of_type(&again.events, "blob_skip").len(), 3);
    let summary = again.events.last().unwrap();
    assert_eq!(summary["fetched_blobs"], 0);
    assert_eq!(summary["fetched_bytes"], 0);
    assert_eq!(summary["reused_bytes"], blob_bytes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_reported_with_its_reason_and_delay() {
    let reg = FakeRegistry::start(Faults {
        blob_statuses: vec![(503, Some("1"))],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &sample());
    let dir = tempfile::tempdir().unwrap();
    let name = format!("{}/app:1", reg.host);
    let run = pull_json(
        &dir.path().join("oci"),
        std::slice::from_ref(&name),
        &["-j", "1"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let retries = of_type(&run.events, "retry");
    assert_eq!(retries.len(), 1, "{:?}", run.events);
    let r = retries[0];
    assert_eq!(r["status"], 503);
    assert_eq!(r["attempt"], 1);
    assert_eq!(r["retries"], 5);
    assert_eq!(r["delay_ms"], 1000, "Retry-After: 1 is honoured");
    assert_eq!(r["reference"], name);
    assert!(r["what"].as_str().unwrap().starts_with("blob sha256:"));
    assert!(r["reason"].as_str().unwrap().contains("503"), "{r}");
}

/// One failing pull per exit class, each as the CLI reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failure_class_has_its_exit_code_in_the_events_and_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let img = sample();

    let open = FakeRegistry::start(Faults::default()).await;
    open.add_image("app", "1", &img);
    let basic = FakeRegistry::start(Faults {
        challenge: Some(r#"Basic realm="registry""#.into()),
        ..Default::default()
    })
    .await;
    let limited = FakeRegistry::start(Faults {
        manifest_error: Some((429, "TOOMANYREQUESTS")),
        ..Default::default()
    })
    .await;
    let lying = FakeRegistry::start(Faults {
        wrong_content_digest: true,
        ..Default::default()
    })
    .await;
    lying.add_image("app", "1", &img);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_host = closed.local_addr().unwrap().to_string();
    drop(closed);

    let cases = [
        (format!("{}/app:missing", open.host), "not_found", 4),
        (format!("{}/app:1", basic.host), "auth", 3),
        (format!("{}/app:1", limited.host), "rate_limited", 5),
        (format!("{closed_host}/app:1"), "network", 6),
        (format!("{}/app:1", lying.host), "verification", 7),
    ];
    for (name, class, code) in cases {
        let run = pull_json(&out, std::slice::from_ref(&name), &["--retries", "0"]).await;
        assert_eq!(run.code, Some(code), "{name}: {}", run.stderr);
        let failed = of_type(&run.events, "image_failed");
        assert_eq!(failed.len(), 1, "{name}: {:?}", run.events);
        assert_eq!(failed[0]["class"], class, "{name}");
        assert_eq!(failed[0]["exit_code"], code);
        assert_eq!(failed[0]["reference"], name);
        assert!(
            failed[0]["hint"].is_string(),
            "{name} ({class}): every class has a hint: {}",
            failed[0]
        );
        let summary = run.events.last().unwrap();
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["exit_code"], code);
        assert_eq!(summary["failed"], serde_json::json!([name]));
        assert!(run.stderr.contains("error: pulling"), "{}", run.stderr);
    }

    // Usage: a platform that cannot be parsed stops the command before it starts.
    let name = format!("{}/app:1", open.host);
    let run = pull_json(&out, &[name], &["--platform", "linux/"]).await;
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(types(&run.events), ["error"]);
    assert_eq!(run.events[0]["class"], "usage");

    // Local I/O: the layout path is a file.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let name = format!("{}/app:1", open.host);
    let run = pull_json(&file, &[name], &[]).await;
    assert_eq!(run.code, Some(8), "{}", run.stderr);
    assert_eq!(types(&run.events), ["error"]);
    assert_eq!(run.events[0]["class"], "local_io");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefetch_list_pulls_every_good_entry_and_names_the_bad_ones() {
    let reg = FakeRegistry::start(Faults::default()).await;
    let shared: &[(&str, &[u8])] = &[("etc/base", b"a base layer all three share\n")];
    let mut names = Vec::new();
    for n in 0..3 {
        let own = format!("app {n}\n");
        let img = image::image("linux", "amd64", &[shared, &[("app", own.as_bytes())]]);
        reg.add_image(&format!("team/app{n}"), "1", &img);
        names.push(format!("{}/team/app{n}:1", reg.host));
    }
    let idx = image::multi_platform(false);
    for (_, img) in &idx.images {
        reg.add_image("multi", &img.manifest.digest.to_string(), img);
    }
    reg.serve_manifest_as("multi", "1", &idx.index);
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("images.txt");
    let host = &reg.host;
    std::fs::write(
        &list,
        format!(
            "# nightly prefetch\n\n{}\n{host}/team/missing:1   # gone from the registry\n\
             {}\nBad//Name\n{} --platform linux/arm64/v8\n{}\n{host}/multi:1 --platform linux/arm/v7\n",
            names[0], names[1], names[2], names[0]
        ),
    )
    .unwrap();
    let out = dir.path().join("oci");
    let run = pull_json(&out, &[], &["-f", list.to_str().unwrap()]).await;
    // The unreadable line is a usage error, which a retry cannot mend.
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let summary = run.events.last().unwrap();
    assert_eq!(summary["pulled"], 4, "{summary}");
    assert_eq!(summary["images"], 6);
    let failed: Vec<&str> = summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed.contains(&"Bad//Name"));
    assert!(failed.contains(&format!("{host}/team/missing:1").as_str()));
    let bad_line = of_type(&run.events, "image_failed")
        .into_iter()
        .find(|e| e["reference"] == "Bad//Name")
        .unwrap()
        .clone();
    assert!(
        bad_line["error"].as_str().unwrap().contains("images.txt:6"),
        "{bad_line}"
    );
    assert!(run.stderr.contains("images.txt:6"), "{}", run.stderr);
    // The base layer the three images share is fetched once, as is every blob.
    let counts = reg.blob_request_counts();
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");
    assert_eq!(of_type(&run.events, "blob_start").len(), counts.len());
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let recorded: BTreeSet<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
                .into()
        })
        .collect();
    let mut expected: BTreeSet<String> = names.iter().cloned().collect();
    expected.insert(format!("{host}/multi:1"));
    assert_eq!(recorded, expected);
    let multi = of_type(&run.events, "image_done")
        .into_iter()
        .find(|e| e["name"] == format!("{host}/multi:1"))
        .unwrap()
        .clone();
    assert_eq!(
        multi["platforms"],
        serde_json::json!(["linux/arm/v7"]),
        "the line's own platform"
    );
}

/// Every command with `--json`, once each, in the cases that print each event
/// type; the union of what they print must be exactly what docs/json.md lists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_event_type_is_printed_and_nothing_else() {
    let reg = FakeRegistry::start(Faults {
        blob_statuses: vec![(503, Some("0"))],
        ..Default::default()
    })
    .await;
    reg.add_image("app", "1", &sample());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oci");
    let out_arg = out.display().to_string();
    let name = format!("{}/app:1", reg.host);
    let list = dir.path().join("list.txt");
    std::fs::write(&list, format!("{name}\n{}/app:missing\n", reg.host)).unwrap();
    let rootfs = dir.path().join("rootfs").display().to_string();
    let runs: Vec<Vec<&str>> = vec![
        vec!["pull", "--json", "-o", &out_arg, &name],
        vec![
            "pull",
            "--json",
            "-o",
            &out_arg,
            "-f",
            list.to_str().unwrap(),
        ],
        vec![
            "pull",
            "--json",
            "-o",
            &out_arg,
            "--platform",
            "linux/",
            &name,
        ],
        vec!["auth", "--json", &name],
        vec!["ref", "--json", "alpine"],
        vec!["gc", "--json", "--layout", &out_arg],
        vec!["list", "--json", "--layout", &out_arg],
        vec!["inspect", "--json", &name],
        vec!["inspect", "--json", "--layout", &out_arg, &name],
        vec!["verify", "--json", "--layout", &out_arg],
        vec![
            "export", "--json", "-l", &out_arg, &name, "-o", &rootfs, "--format", "rootfs",
        ],
    ];
    let mut seen = BTreeSet::new();
    let mut record = |run: Run, args: &[&str]| {
        assert!(!run.events.is_empty(), "{args:?}: {}", run.stderr);
        seen.extend(types(&run.events).into_iter().map(String::from));
    };
    for args in runs {
        let run = regpull_json(args.iter().map(|s| s.to_string()).collect()).await;
        record(run, &args);
    }
    // A damaged layer for verify's problem event, then rm.
    let layer = sample().layers[1].digest.clone();
    std::fs::write(out.join("blobs/sha256").join(layer.hex()), b"damaged").unwrap();
    for args in [
        vec!["verify", "--json", "--layout", &out_arg],
        vec!["rm", "--json", "--layout", &out_arg, &name],
    ] {
        let run = regpull_json(args.iter().map(|s| s.to_string()).collect()).await;
        record(run, &args);
    }
    let documented: BTreeSet<String> = schema().keys().cloned().collect();
    assert_eq!(
        seen, documented,
        "docs/json.md and what regpull prints disagree"
    );
}

/// Two registries serve images sharing a layer; the first cannot serve any
/// blob. The shared layer then comes from the second, whose image is pulled,
/// and only the first registry's image fails, blamed on that registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_blob_comes_from_the_next_registry_when_the_first_fails() {
    let broken = FakeRegistry::start(Faults {
        blob_statuses: vec![(404, None); 10],
        ..Default::default()
    })
    .await;
    let healthy = FakeRegistry::start(Faults::default()).await;
    let base: &[(&str, &[u8])] = &[("etc/base", b"a base layer both images share\n")];
    let a = image::image("linux", "amd64", &[base, &[("app", b"image a\n")]]);
    let b = image::image("linux", "amd64", &[base, &[("app", b"image b\n")]]);
    assert_eq!(a.layers[0].digest, b.layers[0].digest);
    broken.add_image("team/a", "1", &a);
    healthy.add_image("team/b", "1", &b);
    let dir = tempfile::tempdir().unwrap();
    let names = [
        format!("{}/team/a:1", broken.host),
        format!("{}/team/b:1", healthy.host),
    ];
    let run = pull_json(&dir.path().join("oci"), &names, &["--retries", "0"]).await;
    assert_eq!(run.code, Some(4), "{}", run.stderr);
    let done = of_type(&run.events, "image_done");
    assert_eq!(done.len(), 1, "{:?}", run.events);
    assert_eq!(done[0]["reference"], names[1]);
    let failed = of_type(&run.events, "image_failed");
    assert_eq!(failed.len(), 1, "{:?}", run.events);
    assert_eq!(failed[0]["reference"], names[0]);
    assert_eq!(failed[0]["registry"], broken.host);
    let shared = a.layers[0].digest.to_string();
    assert_eq!(healthy.blob_request_counts().get(&shared), Some(&1));
}

/// A transfer cut short and answered with the whole blob again (Range
/// ignored) starts over: a second blob_start, and progress never past the size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_started_over_is_reported_from_zero() {
    let reg = FakeRegistry::start(Faults {
        drop_blobs_after: Some(300_000),
        ignore_range: true,
        ..Default::default()
    })
    .await;
    let img = sample();
    reg.add_image("app", "1", &img);
    let dir = tempfile::tempdir().unwrap();
    let name = format!("{}/app:1", reg.host);
    let run = pull_json(&dir.path().join("oci"), &[name], &["--timeout", "1"]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let big = img.layers[1].digest.to_string();
    let starts: Vec<_> = of_type(&run.events, "blob_start")
        .into_iter()
        .filter(|e| e["digest"] == big)
        .collect();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert!(starts.iter().all(|s| s["resumed_from"] == 0));
    for p in of_type(&run.events, "blob_progress") {
        assert!(p["bytes"].as_u64() <= p["size"].as_u64(), "{p}");
    }
    assert_eq!(of_type(&run.events, "retry").len(), 1);
}

/// Thirty images in a list are resolved a few at a time, not all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_keeps_its_manifest_requests_bounded() {
    let reg = FakeRegistry::start(Faults {
        manifest_delay: Some(std::time::Duration::from_millis(50)),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut list = String::new();
    for n in 0..30 {
        let own = format!("image {n}\n");
        let img = image::image("linux", "amd64", &[&[("n", own.as_bytes())]]);
        reg.add_image(&format!("svc{n}"), "1", &img);
        list.push_str(&format!("{}/svc{n}:1\n", reg.host));
    }
    let path = dir.path().join("images.txt");
    std::fs::write(&path, list).unwrap();
    let out = dir.path().join("oci");
    let run = pull_json(&out, &[], &["-f", path.to_str().unwrap()]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.events.last().unwrap()["pulled"], 30);
    let most = reg
        .shared
        .max_manifests_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        most <= regpull::pull::RESOLVE_CONCURRENCY,
        "{most} manifest requests at once"
    );
}
