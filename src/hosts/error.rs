//! What can go wrong while reading mirror configuration or choosing sources.
//!
//! Every error about a file names the file and, when the problem is in its
//! text, the line: people fix these files by hand and need to find the spot.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error_class::ErrorClass;

/// Why the mirror configuration could not be read, or why a reference may
/// not be pulled. `Clone` because a broken `hosts.toml` is kept until a
/// reference on its registry asks for it (see `hosts_dir.rs`); the I/O cause
/// is shared through an `Arc` for that reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HostsError {
    #[error("reading {}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file is not valid TOML.
    #[error("{}:{line}: not valid TOML: {message}", .path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Valid TOML, but a value regpull cannot honour.
    #[error("{}:{line}: {message}", .path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// An explicit `--hosts-dir` that is not there.
    #[error("the hosts directory {} does not exist", .path.display())]
    HostsDirMissing { path: PathBuf },
    /// registries.conf says `blocked = true` for this reference.
    #[error("pulling {reference} is blocked by {origin}")]
    Blocked { reference: String, origin: String },
    /// A prefix was matched but its location leaves no repository to pull.
    #[error("{origin}: rewriting {reference} gives {rewritten:?}, which names no repository")]
    Rewrite {
        reference: String,
        origin: String,
        rewritten: String,
    },
    /// A `--mirror REGISTRY=MIRROR` value that does not parse.
    #[error("--mirror {value:?}: {reason}")]
    MirrorFlag { value: String, reason: String },
}

impl HostsError {
    /// Unreadable files are local I/O failures; everything else is input the
    /// user has to fix (a file's content, a flag, a blocked registry).
    pub fn class(&self) -> ErrorClass {
        match self {
            HostsError::Read { .. } => ErrorClass::LocalIo,
            _ => ErrorClass::Usage,
        }
    }

    pub(crate) fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HostsError::Read {
            path: path.into(),
            source: Arc::new(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_line() {
        let e = HostsError::Invalid {
            path: "/etc/containers/registries.conf".into(),
            line: 7,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "/etc/containers/registries.conf:7: bad");
        assert_eq!(e.class(), ErrorClass::Usage);
        let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(HostsError::read("/x", io).class(), ErrorClass::LocalIo);
    }
}
