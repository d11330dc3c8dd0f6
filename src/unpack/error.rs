//! What can go wrong while unpacking: each error names the layer (its number
//! in the image and its digest) and, for a tar entry, the entry.

use std::io;
use std::path::PathBuf;

use crate::digest::Digest;
use crate::error_class::ErrorClass;

/// Which layer, for people: "layer 2 of 5 (sha256:...)".
#[derive(Debug, Clone)]
pub struct LayerName {
    pub number: usize,
    pub total: usize,
    pub digest: Digest,
}

impl std::fmt::Display for LayerName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "layer {} of {} ({})",
            self.number, self.total, self.digest
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("{layer} is not in the layout{}", if *.foreign { " (a foreign, non-distributable layer: registries do not serve it, so it must be put into the layout by hand)" } else { "" })]
    MissingLayer { layer: LayerName, foreign: bool },
    #[error("{layer} has {actual} bytes in the layout, but its manifest says {expected}")]
    LayerSize {
        layer: LayerName,
        expected: u64,
        actual: u64,
    },
    #[error("{layer} has media type {media_type}, which is not a filesystem layer")]
    NotALayer {
        layer: LayerName,
        media_type: String,
    },
    #[error("{layer} does not match the config's diff_id: expected {expected}, got {actual}")]
    DiffId {
        layer: LayerName,
        expected: Digest,
        actual: Digest,
    },
    #[error("{layer}, entry {entry:?}: {problem}")]
    Entry {
        layer: LayerName,
        entry: String,
        problem: String,
        /// The image is at fault (a malformed or hostile entry), not this machine.
        image_fault: bool,
        #[source]
        source: Option<io::Error>,
    },
    #[error("{layer} cannot be read as a tar stream")]
    Read {
        layer: LayerName,
        #[source]
        source: io::Error,
    },
    #[error("cannot open {path}")]
    Destination {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot finish the directories of {path}")]
    Finish {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl UnpackError {
    pub fn class(&self) -> ErrorClass {
        match self {
            UnpackError::MissingLayer { .. } => ErrorClass::NotFound,
            UnpackError::LayerSize { .. }
            | UnpackError::NotALayer { .. }
            | UnpackError::DiffId { .. }
            | UnpackError::Read { .. } => ErrorClass::Verification,
            UnpackError::Entry { image_fault, .. } if *image_fault => ErrorClass::Verification,
            UnpackError::Entry { .. }
            | UnpackError::Destination { .. }
            | UnpackError::Finish { .. } => ErrorClass::LocalIo,
        }
    }
}

/// A problem with one entry, before the layer and the entry's name are added.
#[derive(Debug)]
pub struct EntryError {
    pub problem: String,
    pub image_fault: bool,
    pub source: Option<io::Error>,
}

impl EntryError {
    /// The entry itself is wrong (the image's fault).
    pub fn image(problem: impl Into<String>) -> Self {
        EntryError {
            problem: problem.into(),
            image_fault: true,
            source: None,
        }
    }

    /// A system call failed while applying the entry.
    pub fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> EntryError {
        let problem = what.into();
        move |source| EntryError {
            // ENOTDIR, ELOOP and EEXIST come from what the image put there.
            image_fault: matches!(
                source.raw_os_error(),
                Some(
                    libc_errno::ENOTDIR
                        | libc_errno::ELOOP
                        | libc_errno::EEXIST
                        | libc_errno::EISDIR
                )
            ),
            problem,
            source: Some(source),
        }
    }

    pub fn into_unpack(self, layer: &LayerName, entry: &[u8]) -> UnpackError {
        UnpackError::Entry {
            layer: layer.clone(),
            entry: super::paths::show(entry),
            problem: self.problem,
            image_fault: self.image_fault,
            source: self.source,
        }
    }
}

impl From<rustix::io::Errno> for EntryError {
    fn from(e: rustix::io::Errno) -> Self {
        EntryError::io("a system call failed")(e.into())
    }
}

/// The errno values the classification above needs (Linux's numbers).
mod libc_errno {
    pub const EEXIST: i32 = rustix::io::Errno::EXIST.raw_os_error();
    pub const ENOTDIR: i32 = rustix::io::Errno::NOTDIR.raw_os_error();
    pub const EISDIR: i32 = rustix::io::Errno::ISDIR.raw_os_error();
    pub const ELOOP: i32 = rustix::io::Errno::LOOP.raw_os_error();
}
