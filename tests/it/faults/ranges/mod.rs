//! Big blobs fetched as parallel ranges, against a registry that redirects
//! them to an S3-like object store which misbehaves: ranges that finish out
//! of order or break midway, bytes that come back changed, pre-signed URLs
//! that expire, a pull killed with ranges in flight, a server that ignores
//! `Range`. Each test pulls a 40 MiB single-layer image with the regpull
//! binary and checks the layout on disk: the blob verified in `blobs/`,
//! `regpull verify` passing and no partial download left behind.
//!
//! This module holds what the tests share: the image, the registry and store
//! around it, and the checks of the layout.

mod arrival;
mod corrupt;
mod expiry;
mod kill;
mod multiplexed;
mod resume;
mod unranged;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::json;

use crate::support;
use support::fake_registry::{FakeRegistry, Faults};
use support::image::{Blob, OCI_LAYER_GZIP, TestImage, assemble, noise};
use support::object_store::{ObjectStore, Served};
use support::{pull_from, text};

pub const MIB: u64 = 1 << 20;

/// The layer's size: five 8 MiB ranges, well over the 16 MiB threshold.
pub const SIZE: u64 = 40 * MIB;

/// The repository and tag the image is served as.
const REFERENCE: &str = "app:1";

/// An image with one layer of `SIZE` incompressible bytes (stored as they
/// are: a pull never unpacks them).
pub fn big_image(seed: u64) -> TestImage {
    big_layers(seed, 1)
}

/// An image of `count` such layers.
pub fn big_layers(seed: u64, count: u64) -> TestImage {
    let layers: Vec<Blob> = (0..count)
        .map(|n| Blob::new(OCI_LAYER_GZIP, noise(seed * 16 + n, SIZE as usize)))
        .collect();
    let diff_ids: Vec<_> = layers.iter().map(|l| l.digest.clone()).collect();
    assemble("linux", "amd64", layers, &diff_ids, json!({}))
}

/// A registry serving [`big_image`] and redirecting its blobs to an object
/// store, and a layout to pull into.
pub struct World {
    pub reg: FakeRegistry,
    pub store: ObjectStore,
    pub img: TestImage,
    pub out: PathBuf,
    _dir: tempfile::TempDir,
}

impl World {
    /// Blobs redirected to an uncapped store.
    pub async fn redirected(seed: u64) -> World {
        Self::start(seed, None, Faults::default()).await
    }

    /// Blobs redirected to a store that caps each connection at
    /// `bytes_per_second`, with the registry's `faults` switched on.
    pub async fn start(seed: u64, cap: Option<u64>, faults: Faults) -> World {
        Self::serving(big_image(seed), cap, faults).await
    }

    /// The same around another image.
    pub async fn serving(img: TestImage, cap: Option<u64>, faults: Faults) -> World {
        let dir = tempfile::tempdir().unwrap();
        let reg = FakeRegistry::start(faults).await;
        let (repo, tag) = REFERENCE.split_once(':').unwrap();
        reg.add_image(repo, tag, &img);
        let store = match cap {
            Some(cap) => ObjectStore::start_capped(reg.blobs(), cap).await,
            None => ObjectStore::start(reg.blobs()).await,
        };
        Self::around(reg, store, img, dir)
    }

    /// [`big_image`]'s blobs redirected to a store over HTTPS that offers
    /// HTTP/2 first and caps each TCP connection at `bytes_per_second`; the
    /// CA to trust it with is `ca.pem` beside the layout.
    pub async fn over_https(seed: u64, bytes_per_second: u64) -> World {
        let dir = tempfile::tempdir().unwrap();
        let tls = support::certs::generate(dir.path());
        let reg = FakeRegistry::start(Faults::default()).await;
        let img = big_image(seed);
        let (repo, tag) = REFERENCE.split_once(':').unwrap();
        reg.add_image(repo, tag, &img);
        let store = ObjectStore::start_tls_capped(reg.blobs(), bytes_per_second, &tls).await;
        Self::around(reg, store, img, dir)
    }

    fn around(
        reg: FakeRegistry,
        store: ObjectStore,
        img: TestImage,
        dir: tempfile::TempDir,
    ) -> World {
        reg.shared.faults.lock().unwrap().redirect_blobs_to = Some(store.base.clone());
        let out = dir.path().join("oci");
        World {
            reg,
            store,
            img,
            out,
            _dir: dir,
        }
    }

    /// The CA file [`World::over_https`] wrote.
    pub fn ca(&self) -> PathBuf {
        self._dir.path().join("ca.pem")
    }

    pub fn layer(&self) -> &Blob {
        &self.img.layers[0]
    }

    /// `regpull pull` of the image into the layout, with `extra` arguments.
    pub async fn pull(&self, extra: &[&str]) -> Output {
        pull_from(&self.reg.host, REFERENCE, &self.out, extra).await
    }

    /// The pull's command line, for a test that runs it as a child of its own.
    pub fn pull_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "pull".to_string(),
            format!("{}/{REFERENCE}", self.reg.host),
            "-o".into(),
            self.out.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// The object store's answers for the layer, in order (the config's one
    /// small answer left out).
    pub fn layer_answers(&self) -> Vec<Served> {
        layer_answers(&self.store, &self.img)
    }

    /// Where the layer's partial download and its range record live.
    pub fn partial(&self) -> PathBuf {
        partial_path(&self.out, self.layer())
    }

    pub fn record(&self) -> PathBuf {
        record_path(&self.partial())
    }
}

/// The most answers with their bodies still going out at once, sampled
/// while `pull` runs: an answer is open from when the store starts it until
/// it has handed over its last byte. Sampling may miss a short overlap but
/// never sees one that did not happen: a range's slot is only given up once
/// its body has ended, so a client that keeps to one connection never has
/// two answers open.
pub async fn most_open_at_once(w: &World, extra: &[&str]) -> usize {
    let open = |answers: &[Served]| {
        answers
            .iter()
            .filter(|a| a.sent < a.end - a.start + 1)
            .count()
    };
    let pull = {
        let args = w.pull_args(extra);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::support::regpull(&args, None)
        })
    };
    let mut most = 0;
    while !pull.is_finished() {
        most = most.max(open(&layer_answers(&w.store, &w.img)));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_success(&pull.await.unwrap());
    most
}

/// `store`'s answers for `img`'s layer: the config is far smaller than any
/// range of the layer, and its answer ends before the layer's first does.
pub fn layer_answers(store: &ObjectStore, img: &TestImage) -> Vec<Served> {
    let config = img.config.bytes.len() as u64;
    store
        .answers()
        .into_iter()
        .filter(|a| a.end + 1 > config)
        .collect()
}

pub fn partial_path(out: &Path, blob: &Blob) -> PathBuf {
    out.join(".regpull/partial")
        .join(format!("sha256-{}", blob.digest.hex()))
}

pub fn record_path(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_owned();
    name.push(".ranges");
    PathBuf::from(name)
}

/// The spans a range record claims (`START END` lines, END exclusive),
/// merged and in order; a torn last line is skipped, as regpull skips it.
/// Empty when there is no record.
pub fn recorded_spans(record: &Path) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(record).unwrap_or_default();
    let mut spans: Vec<(u64, u64)> = text
        .lines()
        .filter_map(|line| {
            let (a, b) = line.split_once(' ')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .filter(|(a, b)| a < b)
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

pub fn total(spans: &[(u64, u64)]) -> u64 {
    spans.iter().map(|(a, b)| b - a).sum()
}

/// Files under `.regpull/partial` other than the per-blob lock files (empty
/// files that only carry a lock, kept on purpose).
pub fn partial_leftovers(out: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out.join(".regpull/partial")) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "lock"))
        .collect()
}

/// Fails unless the pull succeeded.
pub fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "the pull failed ({}):\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// The image is in the layout as it should be: every blob under `blobs/`
/// with its digest and size, `regpull verify` content, no partial download.
pub async fn assert_pulled(out: &Path, img: &TestImage) {
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
    let o = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        support::regpull(&args, None)
    })
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
