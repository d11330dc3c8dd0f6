//! An exclusive, cross-process lock on a layout's `index.json`.
//!
//! It is an advisory `flock` on a file beside `index.json`; every regpull process
//! takes it before reading-modifying-writing the index, so concurrent pulls into one
//! layout never lose each other's entries. The kernel drops the lock when the holder
//! dies, so a killed process never leaves the layout locked.

use std::fs::{File, OpenOptions};
use std::path::Path;

use super::LayoutError;

/// Held while it lives; dropping it releases the lock.
#[derive(Debug)]
pub struct LayoutLock {
    _file: File,
}

impl LayoutLock {
    /// Blocks until the lock at `path` is ours alone.
    pub fn acquire(path: &Path) -> Result<Self, LayoutError> {
        Self::take(path, true)
    }

    /// The exclusive lock at `path` if nobody holds it now; `None` when taken.
    pub fn try_acquire(path: &Path) -> Result<Option<Self>, LayoutError> {
        let file = Self::open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(LayoutLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(LayoutError::Lock {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Blocks until the lock at `path` may be shared with other shared holders
    /// (pulls), excluding an exclusive holder (gc).
    pub fn acquire_shared(path: &Path) -> Result<Self, LayoutError> {
        Self::take(path, false)
    }

    fn open(path: &Path) -> Result<File, LayoutError> {
        // A layout another tool wrote (skopeo, umoci) has no `.regpull/` yet.
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| LayoutError::Lock {
                path: path.to_path_buf(),
                source,
            })?;
        }
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|source| LayoutError::Lock {
                path: path.to_path_buf(),
                source,
            })
    }

    fn take(path: &Path, exclusive: bool) -> Result<Self, LayoutError> {
        let lock_err = |source| LayoutError::Lock {
            path: path.to_path_buf(),
            source,
        };
        let file = Self::open(path)?;
        if exclusive {
            file.lock().map_err(lock_err)?;
        } else {
            file.lock_shared().map_err(lock_err)?;
        }
        Ok(LayoutLock { _file: file })
    }
}
