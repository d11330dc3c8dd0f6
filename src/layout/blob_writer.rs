//! Writes one blob so that no reader can ever see it half-written or wrong.
//!
//! Bytes go to a temporary file under `.regpull/tmp/` inside the layout (same
//! filesystem, so the final rename is atomic, and outside `blobs/`, so no OCI reader
//! mistakes it for content). They are hashed and counted as they arrive; `commit`
//! checks size and digest, fsyncs, and only then renames the file into
//! `blobs/<alg>/<hex>`. Dropping the writer, or any error, deletes the temporary file.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use tempfile::NamedTempFile;

use super::{LayoutError, fsync_dir};
use crate::digest::{Digest, Verifier};

/// Buffer big enough that a fast network read turns into few write syscalls.
const WRITE_BUFFER: usize = 1 << 20;

pub struct BlobWriter {
    file: BufWriter<NamedTempFile>,
    verifier: Verifier,
    digest: Digest,
    expected_size: Option<u64>,
    dest: PathBuf,
}

impl BlobWriter {
    pub(super) fn new(
        tmp_dir: PathBuf,
        dest: PathBuf,
        digest: &Digest,
        size: Option<u64>,
    ) -> Result<Self, LayoutError> {
        let file = tempfile::Builder::new()
            .prefix(&format!("{}-", digest.hex()))
            .suffix(".tmp")
            .tempfile_in(&tmp_dir)
            .map_err(|source| LayoutError::Create {
                path: tmp_dir.clone(),
                source,
            })?;
        Ok(BlobWriter {
            file: BufWriter::with_capacity(WRITE_BUFFER, file),
            verifier: Verifier::new(digest, size),
            digest: digest.clone(),
            expected_size: size,
            dest,
        })
    }

    /// Appends bytes, refusing them once they exceed the expected size.
    pub fn write_chunk(&mut self, bytes: &[u8]) -> Result<(), LayoutError> {
        if let Some(source) = self.verifier.update(bytes) {
            return Err(LayoutError::Verify {
                digest: self.digest.clone(),
                source,
            });
        }
        self.file
            .write_all(bytes)
            .map_err(|source| self.write_error(source))
    }

    /// Bytes accepted so far.
    pub fn written(&self) -> u64 {
        self.verifier.count()
    }

    /// Throws away what was written and starts over (a server that ignored a
    /// Range request and sent the whole blob again).
    pub fn restart(&mut self) -> Result<(), LayoutError> {
        use std::io::Seek;
        let dest = self.dest.clone();
        let write_err = |source| LayoutError::Write {
            path: dest.clone(),
            source,
        };
        self.file.flush().map_err(write_err)?;
        let file = self.file.get_mut().as_file_mut();
        file.set_len(0).map_err(write_err)?;
        file.rewind().map_err(write_err)?;
        self.verifier = Verifier::new(&self.digest, self.expected_size);
        Ok(())
    }

    /// Verifies size and digest, makes the data durable, and moves it into place.
    pub fn commit(self) -> Result<PathBuf, LayoutError> {
        let BlobWriter {
            file,
            verifier,
            digest,
            dest,
            ..
        } = self;
        verifier.verify().map_err(|source| LayoutError::Verify {
            digest: digest.clone(),
            source,
        })?;
        let tmp = file.into_inner().map_err(|e| LayoutError::Write {
            path: dest.clone(),
            source: e.into_error(),
        })?;
        let write_err = |source| LayoutError::Write {
            path: dest.clone(),
            source,
        };
        tmp.as_file().sync_all().map_err(write_err)?;
        // Another process may have committed the same blob meanwhile; the content
        // is identical by construction, so replacing it is harmless.
        tmp.persist(&dest).map_err(|e| write_err(e.error))?;
        if let Some(dir) = dest.parent() {
            fsync_dir(dir).map_err(write_err)?;
        }
        Ok(dest)
    }

    fn write_error(&self, source: io::Error) -> LayoutError {
        LayoutError::Write {
            path: self.dest.clone(),
            source,
        }
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_chunk(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
