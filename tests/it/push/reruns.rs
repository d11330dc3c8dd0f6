//! Pushing again: a second push sends no blob (HEAD finds each), the same
//! image to a second repository is mounted, a push killed half-way sends
//! only what is missing when run again, and a big blob goes in chunks.

use super::{Dest, Run, chunks, completed_uploads, stored, support};

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::image::{self, TestImage};
use support::{regpull_command, wait_until};

fn layers(count: u64, size: usize) -> TestImage {
    let blobs: Vec<image::Blob> = (0..count)
        .map(|i| image::Blob::new(image::OCI_LAYER_GZIP, image::noise(100 + i, size)))
        .collect();
    let diff_ids: Vec<_> = blobs.iter().map(|b| b.digest.clone()).collect();
    image::assemble("linux", "amd64", blobs, &diff_ids, serde_json::json!({}))
}

fn push_json(dest: &Dest, layout: &std::path::Path, extra: &[&str]) -> Run {
    let l = layout.to_str().unwrap();
    let mut args = vec!["push", "--json", "-l", l];
    args.extend(extra);
    dest.regpull(&args)
}

#[test]
fn a_second_push_sends_no_blob_and_no_manifest() {
    let img = layers(3, 200_000);
    let (_dir, layout) = stored(&[("app:1", &img)]);
    let dest = Dest::htpasswd();
    let target = format!("{}/again/app:1", dest.host);
    let first = push_json(&dest, &layout, &["app:1", &target]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(
        first.of_type("push_blob_done").len(),
        4,
        "config and three layers"
    );
    assert_eq!(completed_uploads(&dest.log()), 4);

    let second = push_json(&dest, &layout, &["app:1", &target]);
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.of_type("push_blob_start").is_empty());
    assert!(second.of_type("push_blob_done").is_empty());
    assert_eq!(second.of_type("push_blob_exists").len(), 4);
    let manifest = &second.of_type("push_manifest")[0];
    assert_eq!(manifest["pushed"], false, "the tag already names it");
    let summary = &second.of_type("push_summary")[0];
    assert_eq!(summary["uploaded_blobs"], 0);
    assert_eq!(summary["existing_blobs"], 4);
    assert_eq!(
        completed_uploads(&dest.log()),
        4,
        "the registry saw no new upload"
    );
}

/// Two names for the same image: the second repository gets every blob by
/// a mount from the first, through a token that grants both scopes.
#[test]
fn the_same_image_in_a_second_repository_is_mounted_not_sent() {
    let img = layers(2, 300_000);
    let (_dir, layout) = stored(&[
        ("example.com/team/one:1", &img),
        ("example.com/team/two:1", &img),
    ]);
    let dest = Dest::token();
    let to = format!("{}/mirror", dest.host);
    let r = push_json(&dest, &layout, &["--to", &to, "--all"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    r.no_secret();
    assert_eq!(r.of_type("push_blob_done").len(), 3);
    let mounted = r.of_type("push_blob_mounted");
    assert_eq!(mounted.len(), 3, "{:#?}", r.events);
    for m in &mounted {
        assert_eq!(m["repository"], "mirror/team/two");
        assert_eq!(m["from"], "mirror/team/one");
    }
    assert_eq!(completed_uploads(&dest.log()), 3, "each blob sent once");
    let raw = dest.skopeo_inspect("mirror/team/two:1", true);
    assert_eq!(
        super::sha256(raw.as_bytes()),
        img.manifest.digest.to_string()
    );
}

/// A proxy lets the first blobs through, then stalls the push in the middle
/// of a later one (so the kill always falls there, however fast the machine);
/// the push is killed; a second run sends only the blobs the first did not.
#[test]
fn a_killed_push_sends_only_the_missing_blobs_when_run_again() {
    let img = layers(8, 1 << 20);
    let (_dir, layout) = stored(&[("app:1", &img)]);
    let dest = Dest::open();
    let rt = super::runtime();
    // Config, the first three layers, and their requests; the fifth blob stalls.
    let budget = 3 * (1 << 20) + (1 << 19);
    let proxy = rt.block_on(proxy(&dest.host, budget, Spent::Stall));
    let l = layout.to_str().unwrap();
    let target = format!("{proxy}/cut/app:1");
    let mut child = regpull_command(&["push", "--json", "-j", "1", "-l", l, "app:1", &target])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let (lines, stdout) = (lines.clone(), child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                lines.lock().unwrap().push(line.unwrap());
            }
        })
    };
    let done_count = || {
        let lines = lines.lock().unwrap();
        lines
            .iter()
            .filter(|l| l.contains("\"push_blob_done\""))
            .count()
    };
    wait_until(
        "the first blob to be pushed",
        Duration::from_secs(120),
        || done_count() >= 1,
    );
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let first = support::json_doc::validate(&lines.lock().unwrap().join("\n"));
    let sent_first: Vec<String> = first
        .iter()
        .filter(|e| e["type"] == "push_blob_done")
        .map(|e| e["digest"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !sent_first.is_empty() && sent_first.len() < 9,
        "{sent_first:?}"
    );

    let again = push_json(
        &dest,
        &layout,
        &["app:1", &format!("{}/cut/app:1", dest.host)],
    );
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    let sent_again = again.digests("push_blob_done");
    let there = again.digests("push_blob_exists");
    assert!(!sent_again.is_empty(), "the stalled blobs are sent now");
    for d in &sent_first {
        assert!(
            there.contains(d),
            "{d} was pushed before and is found by HEAD"
        );
        assert!(!sent_again.contains(d), "{d} is not sent twice");
    }
    assert_eq!(sent_again.len() + there.len(), 9, "every blob, once");
    let raw = dest.skopeo_inspect("cut/app:1", true);
    assert_eq!(
        super::sha256(raw.as_bytes()),
        img.manifest.digest.to_string()
    );
}

/// A blob over the chunk size goes as PATCH chunks of 32 MiB then a PUT,
/// and arrives whole.
#[test]
fn a_blob_over_the_chunk_size_goes_in_chunks() {
    let big = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(77, 40 << 20));
    let img = image::assemble(
        "linux",
        "amd64",
        vec![big.clone()],
        std::slice::from_ref(&big.digest),
        serde_json::json!({}),
    );
    let (_dir, layout) = stored(&[("big:1", &img)]);
    let dest = Dest::htpasswd();
    let r = push_json(
        &dest,
        &layout,
        &["big:1", &format!("{}/big/app:1", dest.host)],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let started = r.of_type("push_blob_start");
    let chunked: Vec<_> = started.iter().filter(|e| e["chunked"] == true).collect();
    assert_eq!(chunked.len(), 1);
    assert_eq!(chunked[0]["digest"], big.digest.to_string().as_str());
    assert_eq!(chunks(&dest.log()), 2, "32 MiB and 8 MiB");
    assert_eq!(
        completed_uploads(&dest.log()),
        2,
        "the layer and the config"
    );
    assert_eq!(dest.pull_back("big/app:1"), img.manifest.digest.to_string());
}

/// What the proxy does once its budget is spent.
#[derive(Clone, Copy, PartialEq)]
enum Spent {
    /// Stops reading: the request hangs mid-body until the client dies.
    Stall,
    /// Drops that connection, then lets everything through.
    DropOnce,
}

/// Forwards connections to `upstream`, passing at most `budget` bytes from
/// clients to it before doing what `spent` says. Returns `127.0.0.1:PORT`.
async fn proxy(upstream: &str, budget: usize, spent: Spent) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let upstream = upstream.to_string();
    let left = Arc::new(Mutex::new(budget));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let back = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            });
            let left = left.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    let allowed = match *left.lock().unwrap() {
                        0 if spent == Spent::DropOnce => usize::MAX,
                        n => n,
                    };
                    if allowed == 0 {
                        std::future::pending::<()>().await;
                    }
                    let n = match cr.read(&mut buf[..allowed.min(64 << 10)]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    let cut = {
                        let mut budget = left.lock().unwrap();
                        let cut = *budget > 0 && n >= *budget && spent == Spent::DropOnce;
                        *budget = if cut { 0 } else { budget.saturating_sub(n) };
                        cut
                    };
                    if cut {
                        // Half of what fits, then the connection is cut.
                        let _ = sw.write_all(&buf[..n / 2]).await;
                        back.abort();
                        return;
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A connection cut in the middle of the second chunk: the upload is asked
/// where it stands and continued, or (docker's registry drops an upload
/// whose chunk broke) started over; either way the blob arrives whole.
#[test]
fn a_chunk_cut_short_is_recovered() {
    let big = image::Blob::new(image::OCI_LAYER_GZIP, image::noise(78, 40 << 20));
    let img = image::assemble(
        "linux",
        "amd64",
        vec![big.clone()],
        std::slice::from_ref(&big.digest),
        serde_json::json!({}),
    );
    let (_dir, layout) = stored(&[("big:1", &img)]);
    let dest = Dest::open();
    let rt = super::runtime();
    let proxy = rt.block_on(proxy(&dest.host, 36 << 20, Spent::DropOnce));
    let r = push_json(
        &dest,
        &layout,
        &["-v", "big:1", &format!("{proxy}/cut/big:1")],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(
        r.stderr.contains("starting over") || r.stderr.contains("resuming the upload at byte"),
        "{}",
        r.stderr
    );
    let retries = r.of_type("retry");
    assert!(!retries.is_empty(), "the cut was retried: {:#?}", r.events);
    let done = &r.of_type("push_blob_done");
    let layer = done
        .iter()
        .find(|e| e["digest"] == big.digest.to_string().as_str())
        .unwrap();
    assert!(
        layer["sent"].as_u64().unwrap() > big.bytes.len() as u64,
        "some bytes went twice"
    );
    assert_eq!(dest.pull_back("cut/big:1"), img.manifest.digest.to_string());
}
