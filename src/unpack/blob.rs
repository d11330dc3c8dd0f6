//! A layer's blob in the layout, checked before anything is read from it:
//! there, of the size its manifest says, and compressed how (from its first
//! bytes, as containerd decides: media types are often wrong about it). Both
//! the unpack and the archive writers start here.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::Layer;
use super::stream::Compression;
use crate::layout::Layout;

/// Why a layer's blob cannot be used.
#[derive(Debug)]
pub enum BlobProblem {
    /// Not in the layout.
    Missing,
    /// There, but not the size its manifest says.
    Size { actual: u64 },
    /// It could not be opened or read.
    Io(io::Error),
}

/// Opens `layer`'s blob (positioned at its start) and says how it is compressed.
pub fn open_layer(layout: &Layout, layer: &Layer) -> Result<(File, Compression), BlobProblem> {
    let file = File::open(layout.blob_path(&layer.digest)).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => BlobProblem::Missing,
        _ => BlobProblem::Io(e),
    })?;
    let actual = file.metadata().map_err(BlobProblem::Io)?.len();
    if actual != layer.size {
        return Err(BlobProblem::Size { actual });
    }
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < head.len() {
        match file.read_at(&mut head[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(BlobProblem::Io(e)),
        }
    }
    Ok((file, Compression::sniff(&head[..got])))
}

/// Layers registries do not serve (Windows base layers, by license).
pub fn is_foreign(media_type: &str) -> bool {
    media_type.contains("foreign") || media_type.contains("nondistributable")
}
