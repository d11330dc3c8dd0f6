//! Files an export adds to a finished root filesystem (the runtime files),
//! written with the same care as the layers: paths resolved inside the root,
//! the last component never followed (an image whose `/etc/rc` is a symlink
//! to `/usr/bin/x` gets a new `/etc/rc`, and `/usr/bin/x` stays as it was),
//! and the directories written into keep their times.

use std::io::Write;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};

use super::paths::{clean, split_last};
use super::remove::{kind_at, remove_all};
use super::root::Root;

/// One thing to put into the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// A directory (with its parents), made only where nothing is.
    Dir { path: String, mode: u32 },
    /// A file: `replace` says whether to replace what is there, or to make it
    /// only where nothing is.
    File {
        path: String,
        contents: Vec<u8>,
        mode: u32,
        replace: bool,
    },
    /// A symlink, replacing what is there.
    Symlink { path: String, target: String },
}

/// Adds `extras` to the root filesystem at `dest`, stamping what it makes
/// with `time` (seconds since the epoch).
pub fn add_extras(dest: &Path, extras: &[Extra], time: i64) -> std::io::Result<()> {
    let mut root = Root::open(dest)?;
    let stamp = Timespec {
        tv_sec: time,
        tv_nsec: 0,
    };
    let times = Timestamps {
        last_access: stamp,
        last_modification: stamp,
    };
    for extra in extras {
        let path = match extra {
            Extra::Dir { path, .. } | Extra::File { path, .. } | Extra::Symlink { path, .. } => {
                clean(path.as_bytes())
            }
        };
        let (parent, name) = split_last(&path);
        if name.is_empty() {
            continue;
        }
        let mut made: Vec<Vec<u8>> = Vec::new();
        let dir = root
            .dir(parent, Some(&mut |_, p: &[u8]| made.push(p.to_vec())))
            .map_err(|e| {
                std::io::Error::other(format!("{}: {e}", String::from_utf8_lossy(parent)))
            })?;
        // Parents made here get 0755 and the stamp; the directory written
        // into keeps the times it had.
        for p in &made {
            let d = root
                .dir(p, None)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            rustix::fs::fchmod(&d.fd, Mode::from_raw_mode(0o755))?;
            rustix::fs::futimens(&d.fd, &times)?;
        }
        let st = rustix::fs::fstat(&dir.fd)?;
        let before = Timestamps {
            last_access: Timespec {
                tv_sec: st.st_atime,
                tv_nsec: st.st_atime_nsec as _,
            },
            last_modification: Timespec {
                tv_sec: st.st_mtime,
                tv_nsec: st.st_mtime_nsec as _,
            },
        };
        let existing = kind_at(&dir.fd, name)?.map(|(k, _)| k);
        let mut changed = false;
        match extra {
            Extra::Dir { mode, .. } => {
                if existing.is_none() {
                    rustix::fs::mkdirat(&dir.fd, name, Mode::from_raw_mode(0o700))?;
                    rustix::fs::chmodat(
                        &dir.fd,
                        name,
                        Mode::from_raw_mode(*mode),
                        AtFlags::empty(),
                    )?;
                    stamp_at(&dir.fd, name, &times)?;
                    changed = true;
                }
            }
            Extra::File {
                contents,
                mode,
                replace,
                ..
            } => {
                if existing.is_none() || *replace {
                    clear(&mut root, &dir.fd, name, existing)?;
                    let flags = OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC;
                    let fd = rustix::fs::openat(&dir.fd, name, flags, Mode::from_raw_mode(0o600))?;
                    let mut file = std::fs::File::from(fd);
                    file.write_all(contents)?;
                    rustix::fs::fchmod(&file, Mode::from_raw_mode(*mode))?;
                    rustix::fs::futimens(&file, &times)?;
                    changed = true;
                }
            }
            Extra::Symlink { target, .. } => {
                clear(&mut root, &dir.fd, name, existing)?;
                rustix::fs::symlinkat(target.as_str(), &dir.fd, name)?;
                stamp_at(&dir.fd, name, &times)?;
                changed = true;
            }
        }
        if changed && made.is_empty() {
            rustix::fs::futimens(&dir.fd, &before)?;
        }
    }
    Ok(())
}

/// Removes what is at `name` (never following it), so that something new
/// can be made there.
fn clear(
    root: &mut Root,
    dir: &std::os::fd::OwnedFd,
    name: &[u8],
    existing: Option<FileType>,
) -> std::io::Result<()> {
    if existing.is_some() {
        remove_all(dir, name)?;
    }
    if matches!(existing, Some(FileType::Directory | FileType::Symlink)) {
        // It may have been on a remembered path.
        root.forget();
    }
    Ok(())
}

fn stamp_at(dir: &std::os::fd::OwnedFd, name: &[u8], times: &Timestamps) -> std::io::Result<()> {
    rustix::fs::utimensat(dir, name, times, AtFlags::SYMLINK_NOFOLLOW)?;
    Ok(())
}
