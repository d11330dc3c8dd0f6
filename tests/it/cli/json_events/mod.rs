//! `--json` as scripts read it: every event checked against docs/json.md, the
//! event streams of a fresh pull, an up-to-date re-pull, a retried pull, a
//! failing pull per exit class; lists of images in lists.rs.
//! (Export's own streams are tested in export/pull/json.rs.)

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{self, TestImage};
use support::json_doc::{of_type, schema, validate};
use support::text;

mod lists;
mod push;

/// A layer big enough to cross every tenth of its size in separate chunks.
fn sample() -> TestImage {
    // A tenth of it (about 800 KiB) is more than any one read from the
    // socket (hyper reads at most about 400 KiB), so each tenth is crossed
    // on its own, however the bytes happen to arrive.
    let big = image::noise(7, 8 << 20);
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
        "an 8 MiB layer reports its tenths: {steps:?}"
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
    let closed_host = crate::support::closed_port().to_string();

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
    // A mirror nobody listens on: skipped for the registry.
    let mirror = format!("{}=127.0.0.1:9", reg.host);
    let runs: Vec<Vec<&str>> = vec![
        vec!["pull", "--json", "-o", &out_arg, &name],
        vec![
            "pull",
            "--json",
            "-o",
            &out_arg,
            "--retries",
            "0",
            "--mirror",
            &mirror,
            &name,
        ],
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
    seen.extend(push::event_types().await);
    let documented: BTreeSet<String> = schema().keys().cloned().collect();
    assert_eq!(
        seen, documented,
        "docs/json.md and what regpull prints disagree"
    );
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
