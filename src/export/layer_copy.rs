//! Layer blobs copied from the layout into an archive, checked on the way:
//! size and digest against the manifest, and (when a layer is decompressed)
//! the result against the config's diff_id. Blobs are streamed, never read
//! into memory.
//!
//! A layout's blobs were verified when they were written, but the archive is
//! what another machine will trust, so every byte copied is hashed again
//! (ggcr's `verify.ReadCloser`: the check happens at the end of the stream,
//! where no caller can forget it).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;

use super::error::ExportError;
use super::image::Image;
use crate::digest::{Verifier, VerifyError};
use crate::layout::Layout;
use crate::unpack::{BlobProblem, Compression, Layer, LayerName, is_foreign, open_layer};

/// Bytes read from a blob file at a time: `tar` copies in 8 KiB pieces,
/// which would otherwise each be a system call.
const READ_BUFFER: usize = 256 << 10;

/// Where the copied bytes go: a tar entry, or nowhere (to measure).
pub type Sink<'s> = &'s mut dyn FnMut(&mut dyn Read) -> io::Result<()>;

/// One layer, found in the layout before anything is written.
#[derive(Debug, Clone)]
pub struct LayerSource {
    pub name: LayerName,
    pub layer: Layer,
    pub path: PathBuf,
    /// From the blob's first bytes, as docker and containerd decide.
    pub compression: Compression,
}

/// Every layer of `image`: present in the layout, of the size its manifest
/// says, and how it is compressed. Runs before the first byte of output, so
/// that a missing layer fails an export to standard output before it starts.
pub fn find_layers(layout: &Layout, image: &Image) -> Result<Vec<LayerSource>, ExportError> {
    let total = image.layers.len();
    let mut found = Vec::with_capacity(total);
    for (i, layer) in image.layers.iter().enumerate() {
        let name = LayerName {
            number: i + 1,
            total,
            digest: layer.digest.clone(),
        };
        let path = layout.blob_path(&layer.digest);
        let (_, compression) = open_layer(layout, layer).map_err(|p| match p {
            BlobProblem::Missing => ExportError::MissingLayer {
                layer: name.clone(),
                foreign: is_foreign(&layer.media_type),
            },
            BlobProblem::Size { actual } => ExportError::LayerMismatch {
                layer: name.clone(),
                source: VerifyError::SizeMismatch {
                    expected: layer.size,
                    actual,
                },
            },
            BlobProblem::Io(source) => ExportError::Io {
                what: "cannot read",
                path: path.clone(),
                source,
            },
        })?;
        found.push(LayerSource {
            name,
            layer: layer.clone(),
            path,
            compression,
        });
    }
    Ok(found)
}

impl LayerSource {
    fn open(&self) -> Result<File, ExportError> {
        File::open(&self.path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ExportError::MissingLayer {
                layer: self.name.clone(),
                foreign: is_foreign(&self.layer.media_type),
            },
            _ => ExportError::Io {
                what: "cannot open",
                path: self.path.clone(),
                source: e,
            },
        })
    }

    /// Streams the blob as stored into `sink`, checking its size and digest.
    pub fn copy_stored(&self, sink: Sink<'_>) -> Result<(), ExportError> {
        let verifier = Verifier::new(&self.layer.digest, Some(self.layer.size));
        let file = BufReader::with_capacity(READ_BUFFER, self.open()?);
        let mut blob = Checked::new(file, verifier);
        let result = match sink(&mut blob) {
            Ok(()) => blob.finish(),
            Err(e) => Err(blob.failure.take().unwrap_or(Failure::Write(e))),
        };
        result.map(drop).map_err(|f| self.blob_failure(f))
    }

    /// Streams the blob's uncompressed tar (a zstd blob decompressed) into
    /// `sink`; returns its length. The blob is checked against its digest and
    /// the tar against the diff_id and, when given, `size` bytes.
    pub fn copy_decompressed(&self, size: Option<u64>, sink: Sink<'_>) -> Result<u64, ExportError> {
        let verifier = Verifier::new(&self.layer.digest, Some(self.layer.size));
        let blob = BufReader::with_capacity(READ_BUFFER, Checked::new(self.open()?, verifier));
        let decoder = zstd::stream::read::Decoder::with_buffer(blob).map_err(|source| {
            ExportError::Decompress {
                layer: self.name.clone(),
                source,
            }
        })?;
        let mut tar = Checked::new(decoder, Verifier::new(&self.layer.diff_id, size));
        let tar_result = match sink(&mut tar) {
            Ok(()) => tar.finish(),
            Err(e) => Err(tar.failure.take().unwrap_or(Failure::Write(e))),
        };
        let tar_result = match tar_result {
            Err(Failure::Write(e)) => return Err(ExportError::Write(e)),
            Err(Failure::Verify(source)) => Err(ExportError::DiffId {
                layer: self.name.clone(),
                source,
            }),
            Err(Failure::Read(source)) => Err(ExportError::Decompress {
                layer: self.name.clone(),
                source,
            }),
            Ok(n) => Ok(n),
        };
        // The blob is read to its end and checked before the tar's failure
        // is judged: a blob altered in the layout also fails to decompress,
        // and "it does not match its digest" is the truer account.
        let blob = tar.inner.get_mut().get_mut();
        blob.finish().map_err(|f| self.blob_failure(f))?;
        tar_result
    }

    fn blob_failure(&self, f: Failure) -> ExportError {
        match f {
            Failure::Read(source) => ExportError::Io {
                what: "cannot read",
                path: self.path.clone(),
                source,
            },
            Failure::Verify(source) => ExportError::LayerMismatch {
                layer: self.name.clone(),
                source,
            },
            Failure::Write(e) => ExportError::Write(e),
        }
    }
}

/// Why a checked copy stopped.
#[derive(Debug)]
enum Failure {
    /// The source could not be read (or, for a decoder, decoded).
    Read(io::Error),
    /// The bytes were not the ones expected.
    Verify(VerifyError),
    /// The sink failed on its own: the output could not be written.
    Write(io::Error),
}

/// Hashes and counts what passes through, and keeps the first reason it
/// failed, so the caller can tell the image's fault from the machine's after
/// a `tar` call that only returns an `io::Error`.
struct Checked<R> {
    inner: R,
    verifier: Verifier,
    failure: Option<Failure>,
}

impl<R: Read> Checked<R> {
    fn new(inner: R, verifier: Verifier) -> Self {
        Checked {
            inner,
            verifier,
            failure: None,
        }
    }

    /// Reads what is left (tar's end blocks, the blob after the last zstd
    /// frame), then checks the size and digest of everything read.
    fn finish(&mut self) -> Result<u64, Failure> {
        let drained = io::copy(self, &mut io::sink());
        if let Some(f) = self.failure.take() {
            return Err(f);
        }
        drained.map_err(Failure::Read)?;
        let count = self.verifier.count();
        self.verifier
            .clone()
            .verify()
            .map(|_| count)
            .map_err(Failure::Verify)
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.failure.is_some() {
            return Err(io::Error::other("the copy already failed"));
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let message = e.to_string();
                self.failure = Some(Failure::Read(e));
                return Err(io::Error::other(message));
            }
        };
        if let Some(e) = self.verifier.update(&buf[..n]) {
            let message = e.to_string();
            self.failure = Some(Failure::Verify(e));
            return Err(io::Error::other(message));
        }
        Ok(n)
    }
}
