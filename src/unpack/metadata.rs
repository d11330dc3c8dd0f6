//! What a tar header says about an entry beyond its name and type: mode,
//! owner, times and extended attributes, and how each is applied.
//!
//! Directories get theirs last: a directory's mode may forbid the writes that
//! fill it (a rootless unpack cannot write into `dr-xr-xr-x`), and every file
//! created in it changes its mtime. So directories are made `rwx------` while
//! the layers are applied and [`DirMetas::apply`] sets their real mode and
//! times at the very end, deepest first.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{AtFlags, Gid, Mode, Timespec, Timestamps, Uid};

use super::paths::is_within;
use super::root::Root;

/// Whose files the result holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// Each entry's uid and gid, as the image says (needs root). Devices are
    /// created and `security.capability` is kept.
    Keep,
    /// The caller's, as `umoci unpack --rootless` does; devices are left out.
    Caller,
}

/// The metadata of one entry.
#[derive(Debug, Clone)]
pub struct Meta {
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: Timespec,
    pub atime: Timespec,
    /// `SCHILY.xattr.*` records, names without the prefix.
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Meta {
    pub fn times(&self) -> Timestamps {
        Timestamps {
            last_access: self.atime,
            last_modification: self.mtime,
        }
    }

    /// Sets owner, mode, extended attributes and times on an open file, in the
    /// order that keeps each: chown clears setuid bits and capabilities, so it
    /// goes first. Returns how many extended attributes were left out.
    pub fn apply_to_file(&self, fd: impl AsFd, ownership: Ownership) -> io::Result<u64> {
        if ownership == Ownership::Keep {
            rustix::fs::fchown(&fd, Some(uid(self.uid)), Some(gid(self.gid)))?;
        }
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(self.mode))?;
        let skipped = self.set_xattrs(&fd, ownership)?;
        rustix::fs::futimens(&fd, &self.times())?;
        Ok(skipped)
    }

    /// Sets the extended attributes this ownership may carry; the others (and
    /// those the filesystem refuses) are counted, not fatal.
    pub fn set_xattrs(&self, fd: impl AsFd, ownership: Ownership) -> io::Result<u64> {
        let mut skipped = 0;
        for (name, value) in &self.xattrs {
            if !xattr_allowed(name, ownership) {
                skipped += 1;
                continue;
            }
            match rustix::fs::fsetxattr(
                &fd,
                name.as_slice(),
                value,
                rustix::fs::XattrFlags::empty(),
            ) {
                Ok(()) => {}
                Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::PERM) => skipped += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(skipped)
    }

    /// Owner and times of something that is not opened (symlinks, devices).
    pub fn apply_at(&self, dir: &OwnedFd, name: &[u8], ownership: Ownership) -> io::Result<()> {
        if ownership == Ownership::Keep {
            rustix::fs::chownat(
                dir,
                name,
                Some(uid(self.uid)),
                Some(gid(self.gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )?;
        }
        rustix::fs::utimensat(dir, name, &self.times(), AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(())
    }
}

/// Which extended attributes an unpack writes. `user.*` always;
/// `security.capability` only for a root-owned result (a capability on a file
/// the caller owns would be a privilege it never had); never `trusted.*`,
/// SELinux labels or anything else that belongs to the host.
pub fn xattr_allowed(name: &[u8], ownership: Ownership) -> bool {
    name.starts_with(b"user.") || (name == b"security.capability" && ownership == Ownership::Keep)
}

fn uid(id: u64) -> Uid {
    Uid::from_raw(id as u32)
}

fn gid(id: u64) -> Gid {
    Gid::from_raw(id as u32)
}

/// The mode and times each directory gets at the end, by cleaned path.
#[derive(Default)]
pub struct DirMetas(BTreeMap<Vec<u8>, Meta>);

impl DirMetas {
    pub fn set(&mut self, path: &[u8], meta: Meta) {
        self.0.insert(path.to_vec(), meta);
    }

    /// Forgets `path` and everything below it (it was removed).
    pub fn remove_tree(&mut self, path: &[u8]) {
        let doomed: Vec<Vec<u8>> = self
            .0
            .range(path.to_vec()..)
            .take_while(|(p, _)| p.starts_with(path))
            .filter(|(p, _)| is_within(p, path))
            .map(|(p, _)| p.clone())
            .collect();
        for p in doomed {
            self.0.remove(&p);
        }
    }

    /// Sets each directory's mode, extended attributes and times, children
    /// before parents (a path sorts after its ancestors), so that no parent's
    /// final mode can stand in the way. A path that is no longer a directory
    /// (a later layer replaced it) is passed over.
    pub fn apply(self, root: &mut Root, ownership: Ownership) -> io::Result<u64> {
        let mut skipped = 0;
        for (path, meta) in self.0.into_iter().rev() {
            let fd = match root.dir(&path, None) {
                Ok(fd) => fd,
                Err(_) => continue,
            };
            root.forget();
            rustix::fs::fchmod(&fd.fd, Mode::from_raw_mode(meta.mode))?;
            skipped += meta.set_xattrs(&fd.fd, ownership)?;
            rustix::fs::futimens(&fd.fd, &meta.times())?;
        }
        Ok(skipped)
    }
}
