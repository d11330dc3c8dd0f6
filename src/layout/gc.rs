//! `regpull gc`: delete what no image in `index.json` needs.
//!
//! Pulls hold `.regpull/gc.lock` shared for their whole run and gc holds it
//! exclusively, so gc never deletes a blob that a pull has downloaded but not
//! yet recorded: it waits for running pulls, and new pulls wait for it.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{Layout, LayoutError, LayoutLock, MAX_MANIFEST_BYTES};
use crate::digest::Digest;

/// Partial downloads younger than this are kept: a killed pull that is re-run
/// soon (the next cron slot) resumes instead of starting over.
pub const PARTIAL_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub blobs_removed: usize,
    pub blob_bytes: u64,
    pub partials_removed: usize,
    pub partial_bytes: u64,
    pub kept_blobs: usize,
}

impl Layout {
    /// Held (shared) by every pull for its duration.
    pub fn pull_guard(&self) -> Result<LayoutLock, LayoutError> {
        LayoutLock::acquire_shared(&self.gc_lock_path())
    }

    /// Deletes unreferenced blobs, old partial downloads and stray temporary
    /// files. Waits for running pulls first (calling `on_wait` when there are
    /// some), since their blobs are not in `index.json` until they finish.
    pub fn gc(&self, on_wait: &dyn Fn()) -> Result<GcReport, LayoutError> {
        let _gc = match LayoutLock::try_acquire(&self.gc_lock_path())? {
            Some(lock) => lock,
            None => {
                on_wait();
                LayoutLock::acquire(&self.gc_lock_path())?
            }
        };
        let _index = LayoutLock::acquire(&self.lock_path())?;
        let wanted = self.referenced()?;
        let mut report = GcReport::default();
        for dir in self.blob_dirs()? {
            for entry in read_dir(&dir)? {
                let name = entry.file_name().to_string_lossy().into_owned();
                let alg = dir
                    .file_name()
                    .map(|a| a.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let digest = Digest::parse(&format!("{alg}:{name}")).ok();
                if digest.as_ref().is_some_and(|d| wanted.contains(d)) {
                    report.kept_blobs += 1;
                    continue;
                }
                report.blob_bytes += remove(&entry.path())?;
                report.blobs_removed += 1;
            }
        }
        let now = SystemTime::now();
        for entry in read_dir(&self.partial_dir())?
            .into_iter()
            .chain(read_dir(&self.tmp_dir())?)
        {
            let meta = entry.metadata().map_err(|source| LayoutError::Read {
                path: entry.path(),
                source,
            })?;
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            let is_lock = entry.path().extension().is_some_and(|e| e == "lock");
            if age < PARTIAL_MAX_AGE {
                continue;
            }
            let bytes = remove(&entry.path())?;
            if !is_lock {
                report.partials_removed += 1;
                report.partial_bytes += bytes;
            }
        }
        Ok(report)
    }

    /// Every blob reachable from `index.json`: manifests, indexes, configs, layers.
    /// Every blob an image in `index.json` reaches. What is a document (to
    /// be read for more descriptors) is known from where it stands, as the
    /// inventory walk knows it: an `index.json` entry, an index's `manifests`
    /// and a `subject` are; a config, a layer or an artifact's `blobs` are
    /// not. Never from `mediaType`, which the spec lets producers leave out:
    /// a manifest without one would have had its config and layers deleted.
    fn referenced(&self) -> Result<HashSet<Digest>, LayoutError> {
        let index = self.read_index()?;
        let mut todo: Vec<(Digest, bool)> = Vec::new();
        for d in index.manifests() {
            if let Ok(digest) = Digest::parse(d.digest().as_ref()) {
                todo.push((digest, true));
            }
        }
        let mut seen = HashSet::new();
        while let Some((digest, document)) = todo.pop() {
            if !seen.insert(digest.clone()) || !document {
                continue;
            }
            let Ok(bytes) = self.read_blob(&digest, MAX_MANIFEST_BYTES) else {
                continue;
            };
            let Ok(doc) = serde_json::from_slice::<Value>(&bytes) else {
                continue;
            };
            let digest_of = |v: &Value| {
                v.get("digest")
                    .and_then(Value::as_str)
                    .and_then(|d| Digest::parse(d).ok())
            };
            let list = |k: &str| doc.get(k).and_then(Value::as_array).into_iter().flatten();
            for (child, is_document) in list("manifests")
                .map(|c| (c, true))
                .chain(doc.get("subject").map(|c| (c, true)))
                .chain(doc.get("config").map(|c| (c, false)))
                .chain(list("layers").map(|c| (c, false)))
                .chain(list("blobs").map(|c| (c, false)))
            {
                if let Some(d) = digest_of(child) {
                    todo.push((d, is_document));
                }
            }
        }
        Ok(seen)
    }

    fn blob_dirs(&self) -> Result<Vec<std::path::PathBuf>, LayoutError> {
        Ok(read_dir(&self.root().join("blobs"))?
            .into_iter()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect())
    }
}

fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, LayoutError> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(LayoutError::Read {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

fn remove(path: &Path) -> Result<u64, LayoutError> {
    let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    fs::remove_file(path).map_err(|source| LayoutError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(len)
}
