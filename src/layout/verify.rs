//! `regpull verify`: re-hash stored blobs and check that every image in
//! `index.json` has each blob it references, whole.
//!
//! Safe beside a running pull: blobs only appear in `blobs/` by an atomic rename
//! of verified content (partial files live in `.regpull/`, never looked at here),
//! and `index.json` is read once, after the blobs it names were written. The gc
//! lock is held shared, as a pull holds it, so `regpull gc` cannot delete blobs
//! while they are being checked.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, BufReader};

use super::walk::Gap;
use super::{Layout, LayoutError, VerifyingSink, ref_name};
use crate::digest::{Digest, Verifier};

/// Read size for hashing: large sequential reads, never the whole blob at once.
const HASH_BUFFER: usize = 1 << 20;

/// What is wrong with one blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// Referenced, but no file is at its path.
    Missing,
    /// The file's length differs from what the referencing descriptor says.
    WrongSize { expected: u64, actual: u64 },
    /// The file's content hashes to something else.
    WrongContent { actual: Digest },
    /// A manifest or index whose bytes are intact but cannot be read as one.
    Unparseable { reason: String },
}

impl ProblemKind {
    /// A short stable name, for scripts.
    pub fn name(&self) -> &'static str {
        match self {
            ProblemKind::Missing => "missing",
            ProblemKind::WrongSize { .. } => "wrong_size",
            ProblemKind::WrongContent { .. } => "wrong_content",
            ProblemKind::Unparseable { .. } => "unparseable",
        }
    }
}

impl std::fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProblemKind::Missing => write!(f, "missing"),
            ProblemKind::WrongSize { expected, actual } => {
                write!(f, "{actual} bytes, but {expected} expected")
            }
            ProblemKind::WrongContent { actual } => write!(f, "content hashes to {actual}"),
            ProblemKind::Unparseable { reason } => write!(f, "unreadable manifest: {reason}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub digest: Digest,
    pub kind: ProblemKind,
    /// Ref names (or, for an unnamed entry, digests) of the images it breaks;
    /// empty for a damaged blob no image references.
    pub images: Vec<String>,
}

impl Problem {
    /// Whether the file at the blob's path is bad content, better deleted so a
    /// pull fetches it again (a pull trusts a present blob of the right size).
    pub fn is_corrupt(&self) -> bool {
        matches!(
            self.kind,
            ProblemKind::WrongSize { .. } | ProblemKind::WrongContent { .. }
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub blobs_checked: usize,
    pub bytes_checked: u64,
    /// Ordered by digest.
    pub problems: Vec<Problem>,
}

/// A referenced blob: the size its descriptor claims and who needs it.
struct Wanted {
    size: u64,
    images: BTreeSet<String>,
}

impl Layout {
    /// Checks the images named in `only` (ref names), or, when `None`, every
    /// image and every file under `blobs/`.
    pub fn verify(&self, only: Option<&[String]>) -> Result<VerifyReport, LayoutError> {
        let _no_gc = self.pull_guard()?;
        let mut wanted: BTreeMap<Digest, Wanted> = BTreeMap::new();
        let mut report = VerifyReport::default();
        for desc in self.read_index()?.manifests() {
            let name = ref_name(desc).map(str::to_string);
            if only.is_some_and(|names| !name.as_ref().is_some_and(|n| names.contains(n))) {
                continue;
            }
            let walked = self.walk_image(desc)?;
            let label = match name {
                Some(n) => n,
                None => desc.digest().to_string(),
            };
            for blob in walked.blobs {
                wanted
                    .entry(blob.digest)
                    .or_insert(Wanted {
                        size: blob.size,
                        images: BTreeSet::new(),
                    })
                    .images
                    .insert(label.clone());
            }
            // A missing or damaged document is found again below, by the blob
            // check; what is intact but cannot be followed is reported here.
            for t in walked.troubles {
                if let Gap::OverLimit(reason) | Gap::Unparseable(reason) = t.gap {
                    report.problems.push(Problem {
                        digest: t.digest,
                        kind: ProblemKind::Unparseable { reason },
                        images: vec![label.clone()],
                    });
                }
            }
        }
        for (digest, w) in &wanted {
            if let Some(kind) = self.check_blob(digest, Some(w.size), &mut report)? {
                report.problems.push(Problem {
                    digest: digest.clone(),
                    kind,
                    images: w.images.iter().cloned().collect(),
                });
            }
        }
        if only.is_none() {
            for digest in self.stored_blobs()? {
                if wanted.contains_key(&digest) {
                    continue;
                }
                if let Some(kind) = self.check_blob(&digest, None, &mut report)? {
                    report.problems.push(Problem {
                        digest,
                        kind,
                        images: Vec::new(),
                    });
                }
            }
        }
        report.problems.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(report)
    }

    /// Deletes a damaged blob so the next pull fetches it again; false when it
    /// was already gone.
    pub fn discard_blob(&self, digest: &Digest) -> Result<bool, LayoutError> {
        let _no_gc = self.pull_guard()?;
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(LayoutError::Write { path, source }),
        }
    }

    /// Hashes one blob file, streaming; `None` when it is whole.
    fn check_blob(
        &self,
        digest: &Digest,
        size: Option<u64>,
        report: &mut VerifyReport,
    ) -> Result<Option<ProblemKind>, LayoutError> {
        let path = self.blob_path(digest);
        let read_err = |source| LayoutError::Read {
            path: path.clone(),
            source,
        };
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Some(ProblemKind::Missing)),
            Err(e) => return Err(read_err(e)),
        };
        let actual_size = file.metadata().map_err(read_err)?.len();
        report.blobs_checked += 1;
        if let Some(expected) = size.filter(|s| *s != actual_size) {
            return Ok(Some(ProblemKind::WrongSize {
                expected,
                actual: actual_size,
            }));
        }
        let mut sink = VerifyingSink(Verifier::hasher(digest.algorithm()), None);
        let copied = io::copy(&mut BufReader::with_capacity(HASH_BUFFER, file), &mut sink)
            .map_err(read_err)?;
        report.bytes_checked += copied;
        let actual = sink.0.finish();
        Ok((actual != *digest).then_some(ProblemKind::WrongContent { actual }))
    }

    /// Digests of the files under `blobs/<alg>/`; names that are no digest are
    /// not blobs (gc removes them) and are skipped.
    fn stored_blobs(&self) -> Result<Vec<Digest>, LayoutError> {
        let mut out = Vec::new();
        let blobs = self.root().join(super::BLOBS_DIR);
        for dir in read_dir(&blobs)? {
            let alg = dir.file_name().to_string_lossy().into_owned();
            if !dir.path().is_dir() {
                continue;
            }
            for entry in read_dir(&dir.path())? {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Ok(d) = Digest::parse(&format!("{alg}:{name}")) {
                    out.push(d);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

fn read_dir(dir: &std::path::Path) -> Result<Vec<fs::DirEntry>, LayoutError> {
    match fs::read_dir(dir) {
        Ok(entries) => Ok(entries.flatten().collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(LayoutError::Read {
            path: dir.to_path_buf(),
            source,
        }),
    }
}
