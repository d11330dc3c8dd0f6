//! What the two archive formats share: a tar stream that is the same bytes
//! every time for the same image, and the names an image goes by.
//!
//! Determinism: every entry has mtime 0, uid/gid 0, no user or group names,
//! mode 0444 (files) or 0755 (directories), and the writers add entries in a
//! fixed order. mtime 0 rather than the config's `created` time because 0 is
//! what skopeo writes and needs no parsing of a date the image supplies.
//! Headers are GNU ones: a layer over 8 GiB needs the GNU base-256 size
//! field, which Go's archive/tar (docker, skopeo, containerd) reads.

use std::io::{self, Read, Write};

use oci_spec::image::ImageManifest;

use super::error::ExportError;
use super::image::Image;
use crate::reference::Target;

const FILE_MODE: u32 = 0o444;
const DIR_MODE: u32 = 0o755;

/// A deterministic tar stream over the caller's writer.
///
/// Dropping it unfinished (an error part-way) leaves the stream without tar's
/// two end blocks: the `tar` crate would otherwise add them on drop, and a
/// truncated archive on standard output could then pass for a whole one.
pub struct TarOut<'a> {
    tar: tar::Builder<Counting<'a>>,
    finished: bool,
}

impl<'a> TarOut<'a> {
    pub fn new(out: &'a mut dyn Write) -> TarOut<'a> {
        TarOut {
            tar: tar::Builder::new(Counting {
                out,
                bytes: 0,
                abandoned: false,
            }),
            finished: false,
        }
    }

    /// A directory entry (`path` ends with `/`).
    pub fn dir(&mut self, path: &str) -> Result<(), ExportError> {
        let mut h = header(tar::EntryType::Directory, DIR_MODE, 0);
        self.tar
            .append_data(&mut h, path, io::empty())
            .map_err(ExportError::Write)
    }

    /// A file whose bytes are in memory (JSON documents).
    pub fn file(&mut self, path: &str, data: &[u8]) -> Result<(), ExportError> {
        self.entry(path, data.len() as u64, &mut &data[..])
            .map_err(ExportError::Write)
    }

    /// A file of `size` bytes streamed from `data`. The caller makes sure
    /// `data` yields exactly `size` bytes (or fails): the `tar` crate pads to
    /// what it copied, not to the header's size. Errors are left to the
    /// caller, which knows whether its reader or this writer failed.
    pub fn entry(&mut self, path: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut h = header(tar::EntryType::Regular, FILE_MODE, size);
        self.tar.append_data(&mut h, path, data)
    }

    /// Writes tar's end blocks; returns the bytes of the whole archive.
    pub fn finish(mut self) -> Result<u64, ExportError> {
        self.tar.finish().map_err(ExportError::Write)?;
        self.finished = true;
        Ok(self.tar.get_ref().bytes)
    }
}

impl Drop for TarOut<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.tar.get_mut().abandoned = true;
        }
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    h
}

/// Counts what reaches the output; refuses everything once abandoned.
struct Counting<'a> {
    out: &'a mut dyn Write,
    bytes: u64,
    abandoned: bool,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.abandoned {
            return Err(io::Error::other("the archive was abandoned"));
        }
        let n = self.out.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The tag the image goes by, or `None` when a digest pins it. As
/// `docker save` does (moby `tarexport` skips `reference.Canonical` refs), a
/// reference with a digest counts as untagged even if it also names a tag:
/// the layout records it by digest alone, so its tag was never checked.
pub fn tag(image: &Image) -> Option<&str> {
    match image.reference.target() {
        Target::Tag(tag) => Some(tag),
        Target::Digest(_) => None,
    }
}

/// The config's size as the manifest declares it, checked against the config
/// bytes (their digest was checked when the image was read, their size not):
/// both archives repeat the manifest's sizes, and readers check them.
pub fn checked_config_size(image: &Image) -> Result<u64, ExportError> {
    let bad = |reason: String| ExportError::Config {
        name: image.name.clone(),
        reason,
    };
    let manifest: ImageManifest = serde_json::from_slice(&image.manifest)
        .map_err(|e| bad(format!("its manifest cannot be read: {e}")))?;
    let declared = manifest.config().size();
    let actual = image.config_bytes.len() as u64;
    if declared != actual {
        return Err(bad(format!(
            "it has {actual} bytes, but the manifest says {declared}"
        )));
    }
    Ok(declared)
}
