//! Mirrors and pull-through caches (`--mirror REGISTRY=MIRROR`): each
//! reference's sources are walked in order, mirrors first and the upstream
//! last, each connected on first use with its own host's credentials.
//!
//! Against the real Distribution as a pull-through cache in front of a
//! token-auth upstream (`cache.rs`, `cache_death.rs`), and against the fake
//! registry as a mirror that is down, failing, lying or missing content
//! (`faulty.rs`), that asks for a login (`credentials.rs`) or stands in for
//! Docker Hub (`docker_hub.rs`). Every pull runs the regpull binary with
//! `--json` and is checked through its `resolved`, `blob_source` and
//! `source_skip` events and the layout it leaves.
//!
//! This module holds what they share: the images, running a pull and
//! reading its events, and the checks of the layout.

mod cache;
mod cache_death;
mod credentials;
mod docker_hub;
mod faulty;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use crate::support;
use support::image::{Blob, OCI_LAYER_GZIP, TestImage, assemble, noise};
use support::json_doc::{of_type, validate};
use support::text;

pub const MIB: usize = 1 << 20;

/// An image of `layers` layers of incompressible bytes, `size` bytes each,
/// stored as they are (a pull never unpacks them); `seed` tells images apart.
pub fn image_of(seed: u64, layers: usize, size: usize) -> TestImage {
    let blobs: Vec<Blob> = (0..layers as u64)
        .map(|i| Blob::new(OCI_LAYER_GZIP, noise(seed * 100 + i, size)))
        .collect();
    let diff_ids: Vec<_> = blobs.iter().map(|b| b.digest.clone()).collect();
    assemble("linux", "amd64", blobs, &diff_ids, json!({}))
}

/// A pull's exit, events and layout.
pub struct Pull {
    pub output: Output,
    pub events: Vec<Value>,
    pub out: PathBuf,
}

impl Pull {
    pub fn stderr(&self) -> String {
        text(&self.output.stderr)
    }

    /// Fails unless the pull succeeded.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.output.status.success(),
            "the pull failed ({}):\nstdout: {}\nstderr: {}",
            self.output.status,
            text(&self.output.stdout),
            self.stderr()
        );
        self
    }

    /// The `source` of every `resolved` event.
    pub fn resolved_sources(&self) -> Vec<String> {
        of_type(&self.events, "resolved")
            .iter()
            .map(|e| e["source"].as_str().unwrap().to_string())
            .collect()
    }

    /// `(digest, source)` of every `blob_source` event, in order.
    pub fn blob_sources(&self) -> Vec<(String, String)> {
        of_type(&self.events, "blob_source")
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_string();
                (s("digest"), s("source"))
            })
            .collect()
    }

    pub fn skips(&self) -> Vec<&Value> {
        of_type(&self.events, "source_skip")
    }

    /// Where each blob came from in the end: its last `blob_source`.
    pub fn final_blob_sources(&self) -> BTreeMap<String, String> {
        self.blob_sources().into_iter().collect()
    }

    /// Every blob came from `host` in the end.
    pub fn assert_blobs_from(&self, host: &str) {
        let sources = self.final_blob_sources();
        assert!(
            !sources.is_empty() && sources.values().all(|s| s == host),
            "every blob from {host} in the end: {:?}",
            self.blob_sources()
        );
    }

    /// Every document and blob came from `host`, and nothing was skipped.
    pub fn assert_all_from(&self, host: &str) {
        let resolved = self.resolved_sources();
        assert!(
            !resolved.is_empty() && resolved.iter().all(|s| s == host),
            "manifests from {host}: {resolved:?}"
        );
        let blobs = self.blob_sources();
        assert!(
            !blobs.is_empty() && blobs.iter().all(|(_, s)| s == host),
            "every blob from {host}: {blobs:?}"
        );
        assert!(
            self.skips().is_empty(),
            "no source skipped: {:?}",
            self.skips()
        );
    }

    /// The one `source_skip` event of `source` whose `what` starts with
    /// `what`; fails unless there is exactly one.
    pub fn skip_of(&self, source: &str, what: &str) -> &Value {
        let skips: Vec<&Value> = self
            .skips()
            .into_iter()
            .filter(|e| e["source"] == source && e["what"].as_str().unwrap().starts_with(what))
            .collect();
        assert!(
            skips.len() == 1,
            "one source_skip of {source} for {what:?}: {:?}\nstderr: {}",
            self.skips(),
            self.stderr()
        );
        skips[0]
    }
}

/// `regpull pull REFERENCE -o OUT --json EXTRA...`, off the async runtime.
pub async fn pull(reference: &str, out: &Path, extra: &[&str]) -> Pull {
    pull_env(reference, out, extra, &[]).await
}

/// [`pull`] with environment variables set.
pub async fn pull_env(reference: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Pull {
    let args = pull_args(reference, out, extra);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        support::regpull_command(&args)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let events = validate(&text(&output.stdout));
    Pull {
        output,
        events,
        out: out.to_path_buf(),
    }
}

pub fn pull_args(reference: &str, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "pull".to_string(),
        reference.to_string(),
        "-o".into(),
        out.display().to_string(),
        "--json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// `--mirror REGISTRY=MIRROR`, as two arguments.
pub fn mirror(registry: &str, mirror: &str) -> [String; 2] {
    ["--mirror".into(), format!("{registry}={mirror}")]
}

/// What a layout holds: the manifest digests index.json names and every
/// blob file, by digest.
pub fn contents(out: &Path) -> (Vec<String>, BTreeSet<String>) {
    let index: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    let manifests = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .collect();
    let blobs = std::fs::read_dir(out.join("blobs/sha256"))
        .unwrap()
        .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    (manifests, blobs)
}

/// Files under `.regpull/partial` other than the per-blob lock files.
pub fn partial_leftovers(out: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out.join(".regpull/partial")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect()
}

/// The image is in the layout as it should be: its manifest named by
/// index.json, every blob there with its digest and size, `regpull verify`
/// content, no partial download left.
pub async fn assert_pulled(out: &Path, img: &TestImage) {
    let (manifests, _) = contents(out);
    assert_eq!(manifests, vec![img.manifest.digest.to_string()]);
    let layout = regpull::Layout::open(out).unwrap();
    for blob in img.blobs() {
        layout
            .verify_blob(&blob.digest, blob.bytes.len() as u64)
            .unwrap_or_else(|e| panic!("{}: {e}", blob.digest));
    }
    let args = [
        "verify".to_string(),
        "--layout".into(),
        out.display().to_string(),
    ];
    let o = tokio::task::spawn_blocking(move || support::regpull_command(&args).output().unwrap())
        .await
        .unwrap();
    assert!(
        o.status.success(),
        "regpull verify failed ({}):\n{}{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    let left = partial_leftovers(out);
    assert!(left.is_empty(), "partial downloads left behind: {left:?}");
}
