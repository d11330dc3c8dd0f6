//! A credential source that could not be read. Each names its file or helper.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is malformed: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("credential helper {helper} failed for {server}: {reason}")]
    Helper {
        helper: String,
        server: String,
        reason: String,
    },
    #[error("{what}: {reason}")]
    Invalid { what: String, reason: String },
}
