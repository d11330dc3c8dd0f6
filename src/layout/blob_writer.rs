//! Writes one blob so that no reader can ever see it half-written or wrong, and
//! so that a transfer cut short, even by SIGKILL, can continue where it stopped.
//!
//! Bytes go to `.regpull/partial/<alg>-<hex>` inside the layout (same filesystem,
//! so the final rename is atomic; outside `blobs/`, so no OCI reader mistakes it
//! for content), while the writer holds an exclusive lock on `<…>.lock`: a second
//! regpull process wanting the same blob waits, then finds it present. A writer
//! opened on an existing partial file re-hashes what is there and carries on from
//! its end. Bytes are hashed and counted as they arrive; `commit` checks size and
//! digest, fsyncs, and only then renames the file into `blobs/<alg>/<hex>`;
//! writeback of what is written starts while the transfer goes on (`writeback.rs`).
//! Content that proved wrong (too long, or the wrong digest) is deleted; a writer
//! dropped mid-way keeps its verified-so-far prefix for the next attempt.
//!
//! A large blob may instead be written at offsets, by parallel ranges
//! ([`BlobWriter::placed`]); then a record beside the partial file says which
//! spans it holds (`range_record.rs`), the run from byte 0 is hashed as it
//! grows ([`BlobWriter::absorb`]), and a resumed writer keeps every recorded
//! span, hashing only the run from 0.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::placed::PlacedWriter;
use super::range_record::{self, RangeRecord};
use super::spans::Spans;
use super::writeback::Writeback;
use super::{LayoutError, LayoutLock, fsync_dir};
use crate::digest::{Digest, Verifier};

/// Chunk size for re-hashing a partial file.
const READ_BUFFER: usize = 1 << 20;

/// Chunk size for hashing placed bytes as they land: a quarter of the above,
/// since several blobs' hashers run at once.
const ABSORB_BUFFER: usize = 256 << 10;

pub struct BlobWriter {
    /// Written without a user-space buffer: every accepted byte is in the page
    /// cache at once, so even SIGKILL keeps it for the next run to resume from.
    file: Option<File>,
    partial: PathBuf,
    verifier: Verifier,
    digest: Digest,
    expected_size: Option<u64>,
    dest: PathBuf,
    resumed_from: u64,
    /// Starts writing out what is written while the transfer goes on.
    writeback: Writeback,
    /// Set once the content proved wrong: drop deletes the partial file.
    discard: bool,
    /// Writes at offsets, once the blob is written out of order.
    placed: Option<PlacedWriter>,
    _lock: LayoutLock,
}

impl BlobWriter {
    /// Opens (or resumes) the partial file for `digest`, waiting for any other
    /// process writing the same blob. `None` when, once the lock is ours, the
    /// blob turns out to be in place already (another process finished it).
    pub(super) fn open(
        partial_dir: &Path,
        dest: PathBuf,
        digest: &Digest,
        size: Option<u64>,
        present: impl Fn() -> Result<bool, LayoutError>,
    ) -> Result<Option<Self>, LayoutError> {
        let name = format!("{}-{}", digest.algorithm(), digest.hex());
        let partial = partial_dir.join(&name);
        let create_err = |source| LayoutError::Create {
            path: partial.clone(),
            source,
        };
        std::fs::create_dir_all(partial_dir).map_err(create_err)?;
        let lock = LayoutLock::acquire(&partial_dir.join(format!("{name}.lock")))?;
        if present()? {
            return Ok(None);
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&partial)
            .map_err(create_err)?;
        let mut verifier = Verifier::new(digest, size);
        let existing = file.metadata().map_err(create_err)?.len();
        let recorded = range_record::load(&partial).map_err(create_err)?;
        let mut placed = None;
        let resumed_from = if size.is_some_and(|s| existing > s) {
            file.set_len(0).map_err(create_err)?;
            range_record::remove(&partial);
            0
        } else if let (Some(mut spans), Some(size)) = (recorded, size) {
            // Written out of order: keep what the record claims and the file
            // holds; only the run from byte 0 can be hashed now.
            spans.clamp(existing.min(size));
            let prefix = spans.prefix();
            file.rewind().map_err(create_err)?;
            rehash(&mut (&file).take(prefix), &mut verifier).map_err(create_err)?;
            let record = RangeRecord::create(&partial, &spans).map_err(create_err)?;
            let handle = file.try_clone().map_err(create_err)?;
            placed = Some(PlacedWriter::new(
                handle,
                record,
                spans,
                digest.clone(),
                size,
                partial.clone(),
            ));
            prefix
        } else {
            range_record::remove(&partial);
            file.rewind().map_err(create_err)?;
            rehash(&mut file, &mut verifier).map_err(create_err)?
        };
        file.seek(io::SeekFrom::Start(resumed_from))
            .map_err(create_err)?;
        if resumed_from > 0 {
            tracing::info!("blob {digest}: resuming from {resumed_from} bytes already on disk");
        }
        Ok(Some(BlobWriter {
            file: Some(file),
            partial,
            verifier,
            digest: digest.clone(),
            expected_size: size,
            dest,
            resumed_from,
            writeback: Writeback::from(resumed_from),
            discard: false,
            placed,
            _lock: lock,
        }))
    }

    /// Appends bytes, refusing them once they exceed the expected size.
    pub fn write_chunk(&mut self, bytes: &[u8]) -> Result<(), LayoutError> {
        if let Some(source) = self.verifier.update(bytes) {
            self.discard = true;
            return Err(LayoutError::Verify {
                digest: self.digest.clone(),
                source,
            });
        }
        let file = self.file.as_mut().expect("open until commit");
        match &self.placed {
            // The record must hear of these bytes too, or a later run would
            // take the file's holes for data.
            Some(placed) => placed.write_at(self.verifier.count() - bytes.len() as u64, bytes)?,
            None => file.write_all(bytes).map_err(|source| LayoutError::Write {
                path: self.partial.clone(),
                source,
            })?,
        }
        self.writeback.advance(file, self.verifier.count());
        Ok(())
    }

    /// A handle for writing at offsets from several transfers at once; from
    /// here on the partial file is recorded span by span. Needs the size.
    pub fn placed(&mut self) -> Result<PlacedWriter, LayoutError> {
        if let Some(p) = &self.placed {
            return Ok(p.clone());
        }
        let size = self
            .expected_size
            .expect("placed writes need the blob's size");
        let create_err = |source| LayoutError::Create {
            path: self.partial.clone(),
            source,
        };
        let mut spans = Spans::default();
        spans.insert(0, self.written());
        let record = RangeRecord::create(&self.partial, &spans).map_err(create_err)?;
        let file = self.file.as_ref().expect("open until commit");
        let handle = file.try_clone().map_err(create_err)?;
        let placed = PlacedWriter::new(
            handle,
            record,
            spans,
            self.digest.clone(),
            size,
            self.partial.clone(),
        );
        self.placed = Some(placed.clone());
        Ok(placed)
    }

    /// Hashes the run of placed bytes from where hashing stands to where the
    /// run from byte 0 now ends, reading it back from the file (the page
    /// cache, as a rule). Blocking: hashing a gigabyte takes seconds.
    pub fn absorb(&mut self) -> Result<u64, LayoutError> {
        let Some(placed) = &self.placed else {
            return Ok(self.written());
        };
        let target = placed.spans().prefix();
        let file = self.file.as_ref().expect("open until commit");
        let mut buf = vec![0u8; ABSORB_BUFFER.min((target - self.verifier.count()) as usize)];
        while self.verifier.count() < target {
            let at = self.verifier.count();
            let n = buf.len().min((target - at) as usize);
            file.read_exact_at(&mut buf[..n], at)
                .map_err(|source| LayoutError::Read {
                    path: self.partial.clone(),
                    source,
                })?;
            if let Some(source) = self.verifier.update(&buf[..n]) {
                self.discard = true;
                return Err(LayoutError::Verify {
                    digest: self.digest.clone(),
                    source,
                });
            }
            self.writeback.advance(file, self.verifier.count());
        }
        Ok(target)
    }

    /// Bytes in the partial file that count as fetched: the run from 0 and,
    /// for a blob written at offsets, every recorded span beyond it.
    pub fn stored(&self) -> u64 {
        match &self.placed {
            Some(p) => p.spans().total().max(self.written()),
            None => self.written(),
        }
    }

    /// Spans of the blob not yet in the partial file.
    pub fn missing(&self) -> Vec<(u64, u64)> {
        let size = self.expected_size.unwrap_or(u64::MAX);
        match &self.placed {
            Some(p) => p.spans().missing(size),
            None if self.written() < size => vec![(self.written(), size)],
            None => Vec::new(),
        }
    }

    /// Bytes accepted so far, including a resumed prefix.
    pub fn written(&self) -> u64 {
        self.verifier.count()
    }

    /// Whether what was written so far hashes to the expected digest.
    pub fn matches(&self) -> bool {
        self.verifier.clone().finish() == self.digest
    }

    /// How many bytes were already on disk when this writer was opened.
    pub fn resumed_from(&self) -> u64 {
        self.resumed_from
    }

    /// Throws away what was written and starts over (a server that ignored a
    /// Range request, or a resumed prefix that proved wrong).
    pub fn restart(&mut self) -> Result<(), LayoutError> {
        let write_err = |source| LayoutError::Write {
            path: self.partial.clone(),
            source,
        };
        let file = self.file.as_mut().expect("open until commit");
        file.set_len(0).map_err(write_err)?;
        file.rewind().map_err(write_err)?;
        self.placed = None;
        range_record::remove(&self.partial);
        self.verifier = Verifier::new(&self.digest, self.expected_size);
        self.resumed_from = 0;
        self.writeback = Writeback::default();
        Ok(())
    }

    /// Verifies size and digest, makes the data durable, and moves it into place.
    pub fn commit(mut self) -> Result<PathBuf, LayoutError> {
        let verifier = std::mem::replace(
            &mut self.verifier,
            Verifier::new(&self.digest, self.expected_size),
        );
        if let Err(source) = verifier.verify() {
            self.discard = true;
            return Err(LayoutError::Verify {
                digest: self.digest.clone(),
                source,
            });
        }
        let write_err = |source| LayoutError::Write {
            path: self.dest.clone(),
            source,
        };
        let file = self.file.take().expect("open until commit");
        file.sync_all().map_err(write_err)?;
        drop(file);
        // Another process may have committed the same blob meanwhile; the content
        // is identical by construction, so replacing it is harmless.
        std::fs::rename(&self.partial, &self.dest).map_err(write_err)?;
        self.placed = None;
        range_record::remove(&self.partial);
        if let Some(dir) = self.dest.parent() {
            fsync_dir(dir).map_err(write_err)?;
        }
        Ok(self.dest.clone())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        drop(self.file.take());
        if self.discard {
            let _ = std::fs::remove_file(&self.partial);
            range_record::remove(&self.partial);
        }
    }
}

/// Feeds what is left of `file` through the verifier; returns the count.
fn rehash(file: &mut impl Read, verifier: &mut Verifier) -> io::Result<u64> {
    let mut buf = vec![0u8; READ_BUFFER];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(verifier.count());
        }
        verifier.update(&buf[..n]);
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_chunk(buf).map_err(io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}
