//! What can go wrong on the layout's side: each error names the operation and the path.

use std::io;
use std::path::PathBuf;

use crate::digest::{Digest, VerifyError};

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("cannot create {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot lock {path}")]
    Lock {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not an OCI image layout: {reason}")]
    NotALayout { path: PathBuf, reason: String },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("blob {digest} does not match its descriptor")]
    Verify {
        digest: Digest,
        #[source]
        source: VerifyError,
    },
    #[error("{path} has {available} bytes free, but the pull needs {needed} more")]
    NoSpace {
        path: PathBuf,
        needed: u64,
        available: u64,
    },
    #[error("refusing to record {digest} in index.json: the blob is not in the layout")]
    MissingBlob { digest: Digest },
    #[error("blob {digest} is {size} bytes, more than the {limit} bytes allowed for it here")]
    TooLarge {
        digest: Digest,
        size: u64,
        limit: u64,
    },
}

impl LayoutError {
    /// The underlying I/O error, if any (used to tell a full disk from other failures).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            LayoutError::Create { source, .. }
            | LayoutError::Read { source, .. }
            | LayoutError::Write { source, .. }
            | LayoutError::Lock { source, .. } => Some(source),
            _ => None,
        }
    }
}
