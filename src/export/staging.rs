//! Outputs appear whole or not at all.
//!
//! Everything is built in `.NAME.regpull-tmp/` beside OUTPUT (same directory,
//! so same filesystem, so `rename` is atomic) and renamed into place only when
//! complete. The staging directory is `rwx------` (nobody else walks into a
//! half-built tree with setuid files in it) and is held under an exclusive
//! `flock` for the whole export: a second export to the same OUTPUT is refused
//! instead of interleaved, and leftovers of a killed export (whose lock the
//! kernel released) are cleared by the next one.

use std::fs::{self, File};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FlockOperation, RenameFlags};

use super::error::ExportError;

pub struct Staging {
    dir: PathBuf,
    output: PathBuf,
    _lock: File,
    done: bool,
}

impl Staging {
    /// Checks that OUTPUT may be written (absent, empty, or `force`) and
    /// prepares a clean staging directory beside it.
    pub fn begin(output: &Path, force: bool) -> Result<Staging, ExportError> {
        let name = output.file_name().ok_or_else(|| ExportError::Output {
            path: output.to_path_buf(),
            problem: "names no file or directory; give a path such as ./image.sqsh".into(),
        })?;
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !force && !is_empty(output) {
            return Err(ExportError::Output {
                path: output.to_path_buf(),
                problem: "exists and is not empty; pass --force to replace it".into(),
            });
        }
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(".regpull-tmp");
        if !parent.is_dir() {
            return Err(ExportError::Output {
                path: output.to_path_buf(),
                problem: format!("cannot be made: {} is not a directory", parent.display()),
            });
        }
        let dir = parent.join(tmp_name);
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(ExportError::io("cannot create the staging directory", &dir)(e)),
        }
        let lock = File::open(&dir).map_err(ExportError::io("cannot open", &dir))?;
        match rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                return Err(ExportError::Output {
                    path: output.to_path_buf(),
                    problem: "is being written by another regpull export right now".into(),
                });
            }
            Err(e) => return Err(ExportError::io("cannot lock", &dir)(e.into())),
        }
        let staging = Staging {
            dir,
            output: output.to_path_buf(),
            _lock: lock,
            done: false,
        };
        staging.clear()?;
        tracing::info!("building {} in {}", output.display(), staging.dir.display());
        Ok(staging)
    }

    /// A path inside the staging directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Renames `built` (inside the staging directory) to OUTPUT, replacing
    /// what is there; a directory is swapped in with one `renameat2` exchange
    /// so OUTPUT never goes missing.
    pub fn commit(mut self, built: &Path) -> Result<(), ExportError> {
        let rename_err = ExportError::io("cannot rename the result to", &self.output);
        let existing = fs::symlink_metadata(&self.output).ok();
        match existing {
            None => fs::rename(built, &self.output).map_err(rename_err)?,
            Some(meta)
                if meta.is_dir() && fs::symlink_metadata(built).is_ok_and(|m| m.is_dir()) =>
            {
                rustix::fs::renameat_with(
                    rustix::fs::CWD,
                    built,
                    rustix::fs::CWD,
                    &self.output,
                    RenameFlags::EXCHANGE,
                )
                .map_err(|e| rename_err(e.into()))?;
            }
            Some(meta)
                if meta.is_dir() != fs::symlink_metadata(built).is_ok_and(|m| m.is_dir()) =>
            {
                // A directory cannot replace a file in one step, nor a file a
                // directory: the old one is moved aside first.
                let old = self.path("old");
                fs::rename(&self.output, &old)
                    .map_err(ExportError::io("cannot move aside", &self.output))?;
                fs::rename(built, &self.output).map_err(rename_err)?;
            }
            Some(_) => fs::rename(built, &self.output).map_err(rename_err)?,
        }
        if let Some(parent) = self.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = File::open(parent).and_then(|d| d.sync_all());
        }
        self.done = true;
        self.remove();
        Ok(())
    }

    fn clear(&self) -> Result<(), ExportError> {
        for entry in fs::read_dir(&self.dir).map_err(ExportError::io("cannot read", &self.dir))? {
            let entry = entry.map_err(ExportError::io("cannot read", &self.dir))?;
            remove_tree(&entry.path())
                .map_err(ExportError::io("cannot remove the leftover", entry.path()))?;
        }
        Ok(())
    }

    fn remove(&self) {
        let _ = remove_tree(&self.dir);
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            self.remove();
        }
    }
}

/// Removes a file or a whole tree (however deep, whatever its modes).
fn remove_tree(path: &Path) -> std::io::Result<()> {
    crate::unpack::remove_path(path)
}

/// Whether `path` is absent, an empty file or an empty directory.
fn is_empty(path: &Path) -> bool {
    match fs::symlink_metadata(path) {
        Err(_) => true,
        Ok(m) if m.is_dir() => fs::read_dir(path).is_ok_and(|mut d| d.next().is_none()),
        Ok(m) => m.is_file() && m.len() == 0,
    }
}
