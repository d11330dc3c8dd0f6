//! The OCI image layout on disk (image-spec `image-layout.md`):
//!
//! ```text
//! DIR/oci-layout            {"imageLayoutVersion":"1.0.0"}
//! DIR/index.json            one descriptor per image, named by ref.name
//! DIR/blobs/sha256/<hex>    content, only ever written whole and verified
//! DIR/.regpull/             regpull's own: partial blobs, temp files, locks
//! ```
//!
//! Several images share one layout and its blobs. Nothing half-written is ever at a
//! blob path, and `index.json` changes last, so a crash at any point leaves a layout
//! that skopeo and umoci read as it was before.

mod blob_writer;
mod error;
mod gc;
mod index;
mod inventory;
mod limits;
mod lock;
mod mentions;
mod placed;
mod range_record;
mod spans;
mod timestamp;
mod verify;
mod walk;
mod writeback;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use blob_writer::BlobWriter;
pub use error::LayoutError;
pub use gc::{GcReport, PARTIAL_MAX_AGE};
pub use index::{PULLED_AT_ANNOTATION, REF_NAME_ANNOTATION, ref_name};
pub use inventory::{ImageBlobs, ImageInfo, Unparseable, is_attestation};
pub use limits::{MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, MAX_NESTING};
pub use lock::LayoutLock;
pub use placed::PlacedWriter;
pub use spans::Spans;
pub use verify::{Problem, ProblemKind, VerifyReport};
pub use walk::{BlobRef, Gap, ImageWalk, Trouble};

use crate::digest::{Algorithm, Digest, Verifier};

const OCI_LAYOUT_FILE: &str = "oci-layout";
const OCI_LAYOUT_CONTENT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
const INDEX_FILE: &str = "index.json";
const BLOBS_DIR: &str = "blobs";
const WORK_DIR: &str = ".regpull";

/// How hard to look before calling a blob present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The file exists with the expected size. Enough for blobs regpull wrote,
    /// since a blob only reaches its path after it was verified.
    Size,
    /// Re-hash the whole file.
    Content,
}

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Opens the layout at `root`, creating it (and `root`) when absent. A directory
    /// that holds other files but no `oci-layout` is refused rather than written into.
    pub fn open_or_create(root: impl Into<PathBuf>) -> Result<Self, LayoutError> {
        let layout = Layout { root: root.into() };
        let create_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LayoutError::Create { path, source }
        };
        fs::create_dir_all(&layout.root).map_err(create_err(&layout.root))?;
        let marker = layout.root.join(OCI_LAYOUT_FILE);
        if marker.exists() {
            layout.check_marker()?;
        } else {
            layout.refuse_foreign_directory()?;
        }
        for dir in [
            layout.blobs_dir(Algorithm::Sha256),
            layout.tmp_dir(),
            layout.partial_dir(),
        ] {
            fs::create_dir_all(&dir).map_err(create_err(&dir))?;
        }
        if !marker.exists() {
            layout.replace_file(&marker, OCI_LAYOUT_CONTENT.as_bytes())?;
        }
        let _lock = LayoutLock::acquire(&layout.lock_path())?;
        if !layout.index_path().exists() {
            let empty = serde_json::to_vec_pretty(&index::empty_index()).expect("index serializes");
            layout.replace_file(&layout.index_path(), &empty)?;
        }
        Ok(layout)
    }

    /// Opens an existing layout without changing it.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, LayoutError> {
        let layout = Layout { root: root.into() };
        layout.check_marker()?;
        Ok(layout)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes an unprivileged process may still write on the layout's filesystem.
    pub fn free_space(&self) -> Option<u64> {
        let st = rustix::fs::statvfs(&self.root).ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }

    /// Bytes already on disk towards `digest` (a partial download).
    pub fn partial_len(&self, digest: &Digest) -> u64 {
        let path = self
            .partial_dir()
            .join(format!("{}-{}", digest.algorithm(), digest.hex()));
        use std::os::unix::fs::MetadataExt;
        // Ranges written out of order leave holes: count what is allocated.
        fs::metadata(path)
            .map(|m| m.len().min(m.blocks() * 512))
            .unwrap_or(0)
    }

    /// Where the blob with this digest lives (whether or not it is there).
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir(digest.algorithm()).join(digest.hex())
    }

    /// Is this blob present and whole? A file of the wrong size (or, with
    /// [`Check::Content`], the wrong hash) counts as absent so it gets replaced;
    /// one that cannot be read is an error.
    pub fn has_blob(&self, digest: &Digest, size: u64, check: Check) -> Result<bool, LayoutError> {
        let path = self.blob_path(digest);
        match fs::metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() == size => match check {
                Check::Size => Ok(true),
                // A wrong hash means "replace it"; a file that cannot be
                // read (EACCES, EIO) is not absent, and refetching it would
                // hide the real trouble.
                Check::Content => match self.verify_blob(digest, size) {
                    Ok(()) => Ok(true),
                    Err(LayoutError::Verify { .. }) => Ok(false),
                    Err(LayoutError::Read { source, .. })
                        if source.kind() == io::ErrorKind::NotFound =>
                    {
                        Ok(false)
                    }
                    Err(e) => Err(e),
                },
            },
            Ok(_) => Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(LayoutError::Read { path, source }),
        }
    }

    /// Re-hashes a stored blob against its digest and size.
    pub fn verify_blob(&self, digest: &Digest, size: u64) -> Result<(), LayoutError> {
        let path = self.blob_path(digest);
        let read_err = |source| LayoutError::Read {
            path: path.clone(),
            source,
        };
        let mut file = fs::File::open(&path).map_err(read_err)?;
        let mut writer = VerifyingSink(Verifier::new(digest, Some(size)), None);
        io::copy(&mut file, &mut writer).map_err(read_err)?;
        if let Some(source) = writer.1 {
            return Err(LayoutError::Verify {
                digest: digest.clone(),
                source,
            });
        }
        writer
            .0
            .verify()
            .map(drop)
            .map_err(|source| LayoutError::Verify {
                digest: digest.clone(),
                source,
            })
    }

    /// Reads a whole stored blob (manifests, configs), refusing more than `limit`
    /// bytes and content that does not match its digest.
    pub fn read_blob(&self, digest: &Digest, limit: u64) -> Result<Vec<u8>, LayoutError> {
        let bytes = index::read_capped(&self.blob_path(digest), limit)?;
        let mut v = Verifier::new(digest, None);
        v.update(&bytes);
        v.verify().map_err(|source| LayoutError::Verify {
            digest: digest.clone(),
            source,
        })?;
        Ok(bytes)
    }

    /// Starts (or resumes) writing the blob `digest` of `size` bytes, when known.
    /// Blocks while another process writes the same blob.
    pub fn blob_writer(
        &self,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<BlobWriter, LayoutError> {
        let writer = BlobWriter::open(
            &self.partial_dir(),
            self.blob_path(digest),
            digest,
            size,
            || Ok(false),
        )?;
        Ok(writer.expect("no presence check"))
    }

    /// Like `blob_writer`, but `None` when the blob is already present and whole,
    /// checked once the blob's lock is held: concurrent pulls fetch each blob once.
    pub fn claim_blob(
        &self,
        digest: &Digest,
        size: u64,
    ) -> Result<Option<BlobWriter>, LayoutError> {
        BlobWriter::open(
            &self.partial_dir(),
            self.blob_path(digest),
            digest,
            Some(size),
            || self.has_blob(digest, size, Check::Size),
        )
    }

    /// Stores small content held in memory (a manifest, a config) and returns its digest.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Digest, LayoutError> {
        let digest = Digest::sha256_of(bytes);
        if !self.has_blob(&digest, bytes.len() as u64, Check::Size)? {
            let mut w = self.blob_writer(&digest, Some(bytes.len() as u64))?;
            w.write_chunk(bytes)?;
            w.commit()?;
        }
        Ok(digest)
    }

    fn blobs_dir(&self, algorithm: Algorithm) -> PathBuf {
        self.root.join(BLOBS_DIR).join(algorithm.name())
    }

    fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_FILE)
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(WORK_DIR).join("tmp")
    }

    /// Blobs being downloaded, kept across runs so a transfer can resume.
    fn partial_dir(&self) -> PathBuf {
        self.root.join(WORK_DIR).join("partial")
    }

    fn gc_lock_path(&self) -> PathBuf {
        self.root.join(WORK_DIR).join("gc.lock")
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join(WORK_DIR).join("index.lock")
    }

    fn check_marker(&self) -> Result<(), LayoutError> {
        let path = self.root.join(OCI_LAYOUT_FILE);
        let not_layout = |reason: String| LayoutError::NotALayout {
            path: self.root.clone(),
            reason,
        };
        let bytes = fs::read(&path)
            .map_err(|e| not_layout(format!("cannot read {}: {e}", path.display())))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| not_layout(format!("{} is not JSON: {e}", path.display())))?;
        match value.get("imageLayoutVersion").and_then(|v| v.as_str()) {
            Some("1.0.0") => Ok(()),
            other => Err(not_layout(format!(
                "{} declares imageLayoutVersion {other:?}; regpull writes 1.0.0",
                path.display()
            ))),
        }
    }

    fn refuse_foreign_directory(&self) -> Result<(), LayoutError> {
        let entries = fs::read_dir(&self.root).map_err(|source| LayoutError::Read {
            path: self.root.clone(),
            source,
        })?;
        let ours = [OCI_LAYOUT_FILE, INDEX_FILE, BLOBS_DIR, WORK_DIR];
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !ours.iter().any(|o| name == *o) {
                return Err(LayoutError::NotALayout {
                    path: self.root.clone(),
                    reason: format!(
                        "it has no oci-layout file but holds {:?}; choose an empty or new directory",
                        name
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Feeds a verifier from `io::copy`, remembering the first verification failure.
struct VerifyingSink(Verifier, Option<crate::digest::VerifyError>);

impl io::Write for VerifyingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.1.is_none() {
            self.1 = self.0.update(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Makes a rename inside `dir` durable.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}
