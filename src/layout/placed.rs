//! Writes at offsets into a blob's partial file, from several transfers at
//! once (the parallel ranges of one blob). Each write is recorded
//! (`range_record.rs`) after its bytes are in the file, so a killed pull
//! leaves behind exactly what the next one can keep. The bytes are not
//! hashed here: [`super::BlobWriter::absorb`] hashes the run from byte 0 as it
//! grows, and only the digest of the whole decides whether the blob is kept.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::LayoutError;
use super::range_record::RangeRecord;
use super::spans::Spans;
use crate::digest::{Digest, VerifyError};

/// A handle for positional writes; clones share the file and the record.
#[derive(Clone)]
pub struct PlacedWriter {
    inner: Arc<Inner>,
}

struct Inner {
    file: File,
    record: RangeRecord,
    spans: Mutex<Spans>,
    digest: Digest,
    size: u64,
    partial: PathBuf,
}

impl PlacedWriter {
    pub(super) fn new(
        file: File,
        record: RangeRecord,
        spans: Spans,
        digest: Digest,
        size: u64,
        partial: PathBuf,
    ) -> Self {
        PlacedWriter {
            inner: Arc::new(Inner {
                file,
                record,
                spans: Mutex::new(spans),
                digest,
                size,
                partial,
            }),
        }
    }

    /// Writes `bytes` at `offset` and records them. Bytes past the blob's
    /// size are refused: a server cannot make us write more than the
    /// descriptor says.
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), LayoutError> {
        let i = &self.inner;
        let end = offset.saturating_add(bytes.len() as u64);
        if end > i.size {
            return Err(LayoutError::Verify {
                digest: i.digest.clone(),
                source: VerifyError::SizeMismatch {
                    expected: i.size,
                    actual: end,
                },
            });
        }
        let write_err = |source| LayoutError::Write {
            path: i.partial.clone(),
            source,
        };
        i.file.write_all_at(bytes, offset).map_err(write_err)?;
        i.record
            .add(offset, end)
            .map_err(|source| LayoutError::Write {
                path: i.record.path().to_path_buf(),
                source,
            })?;
        i.spans.lock().expect("not poisoned").insert(offset, end);
        Ok(())
    }

    /// What the partial file holds so far.
    pub fn spans(&self) -> Spans {
        self.inner.spans.lock().expect("not poisoned").clone()
    }

    /// The blob's size.
    pub fn size(&self) -> u64 {
        self.inner.size
    }
}
