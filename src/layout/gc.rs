//! `regpull gc`: delete what no image in `index.json` needs.
//!
//! Pulls hold `.regpull/gc.lock` shared for their whole run and gc holds it
//! exclusively, so gc never deletes a blob that a pull has downloaded but not
//! yet recorded: it waits for running pulls, and new pulls wait for it.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use oci_spec::image::Descriptor;

use super::range_record;
use super::walk::{BlobRef, Gap};
use super::{Layout, LayoutError, LayoutLock, ref_name};
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
    /// Documents the walk could not read, each `DIGEST (why) of IMAGE`; when
    /// there are any, no blob was deleted.
    pub unknown_documents: Vec<String>,
}

impl Layout {
    /// Held (shared) by every pull for its duration.
    pub fn pull_guard(&self) -> Result<LayoutLock, LayoutError> {
        LayoutLock::acquire_shared(&self.gc_lock_path())
    }

    /// Deletes the blobs no image reaches (by the walk `list` and `verify`
    /// use), old partial downloads and stray temporary files. Waits for running pulls first (calling `on_wait` when there are
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
        let (wanted, unknown) = self.referenced()?;
        let mut report = GcReport {
            unknown_documents: unknown,
            ..GcReport::default()
        };
        // A document that is missing, damaged or over a limit hides which
        // blobs its image needs: any blob could be one of them, so none is
        // deleted until `verify --repair` or `rm` settles the image. (An
        // unparseable but intact document is no such gap: the walk kept
        // every blob its text names.)
        let hold_all = !report.unknown_documents.is_empty();
        for dir in self.blob_dirs()? {
            for entry in read_dir(&dir)? {
                let name = entry.file_name().to_string_lossy().into_owned();
                let alg = dir
                    .file_name()
                    .map(|a| a.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let digest = Digest::parse(&format!("{alg}:{name}")).ok();
                if hold_all || digest.as_ref().is_some_and(|d| wanted.contains(d)) {
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
            let path = entry.path();
            let is_lock = path.extension().is_some_and(|e| e == "lock");
            let is_record = path.extension().is_some_and(|e| e == "ranges");
            // A range record goes with its partial file: kept while the file
            // is, removed with it (maybe earlier in this loop). Alone, it
            // goes by age.
            if is_record && (path.with_extension("").exists() || !path.exists()) {
                continue;
            }
            let meta = entry.metadata().map_err(|source| LayoutError::Read {
                path: entry.path(),
                source,
            })?;
            let age = meta
                .modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .unwrap_or_default();
            if age < PARTIAL_MAX_AGE {
                continue;
            }
            let bytes = remove(&path)?;
            if !is_lock && !is_record {
                range_record::remove(&path);
                report.partials_removed += 1;
                report.partial_bytes += bytes;
            }
        }
        Ok(report)
    }

    /// Every blob the images in `index.json` reach, as the shared walk finds
    /// them, and the documents that keep the walk from being sure.
    fn referenced(&self) -> Result<(HashSet<Digest>, Vec<String>), LayoutError> {
        let mut wanted = HashSet::new();
        let mut unknown = Vec::new();
        for (desc, walked) in self.walk()? {
            wanted.extend(walked.blobs.iter().map(|b| b.digest.clone()));
            if walked.complete() {
                continue;
            }
            let image = ref_name(&desc)
                .map(str::to_string)
                .unwrap_or_else(|| desc.digest().to_string());
            unknown.extend(
                walked
                    .troubles
                    .iter()
                    .filter(|t| !matches!(t.gap, Gap::Unparseable(_)))
                    .map(|t| format!("{} ({}) of {image}", t.digest, t.gap.reason())),
            );
        }
        Ok((wanted, unknown))
    }

    /// For each of `gone` (entries already taken out of `index.json`), the
    /// blobs it reaches that are in the layout and that no image left in
    /// `index.json` reaches: what `gc` would delete of it.
    pub fn orphaned_by(&self, gone: &[Descriptor]) -> Result<Vec<Vec<BlobRef>>, LayoutError> {
        let (still_wanted, _) = self.referenced()?;
        gone.iter()
            .map(|desc| {
                let walked = self.walk_image(desc)?;
                Ok(walked
                    .blobs
                    .into_iter()
                    .filter(|b| b.present && !still_wanted.contains(&b.digest))
                    .collect())
            })
            .collect()
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
