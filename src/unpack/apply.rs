//! One tar entry applied to the root filesystem, by type.
//!
//! The rules are containerd's and umoci's: an entry replaces whatever is at
//! its path, except that a directory over a directory keeps it (and its
//! contents); parents missing from the archive are made; a hardlink names a
//! file already in the root, from this layer or a lower one. Every path is
//! resolved inside the root ([`Root`]) and the last component is never
//! followed, so no entry can write outside it.

use std::io::Read;
use std::os::fd::OwnedFd;

use rustix::fs::{FileType, Mode, Timespec};
use tar::EntryType;

use super::UnpackStats;
use super::error::EntryError;
use super::metadata::{DirMetas, Meta, Ownership};
use super::paths::{self, clean, split_last};
use super::remove::{kind_at, remove_all};
use super::root::{DirHandle, ResolveError, Root};
use super::whiteout::{LayerSet, is_whiteout};

/// The state of an unpack in progress.
pub struct Applier {
    pub(super) root: Root,
    pub(super) ownership: Ownership,
    pub(super) dirs: DirMetas,
    pub(super) layer: LayerSet,
    pub(super) stats: UnpackStats,
    pub(super) buf: Vec<u8>,
}

impl Applier {
    pub fn new(root: Root, ownership: Ownership) -> Self {
        let mut dirs = DirMetas::default();
        // The root's own mode, unless the image gives one (`./`).
        dirs.set(b"", implicit_dir());
        Applier {
            root,
            ownership,
            dirs,
            layer: LayerSet::default(),
            stats: UnpackStats::default(),
            buf: vec![0; 256 << 10],
        }
    }

    /// Applies one entry of the current layer.
    pub fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<(), EntryError> {
        let raw = entry.path_bytes().into_owned();
        let path = clean(&raw);
        let mut kind = entry.header().entry_type();
        // Pre-POSIX archives mark directories only by a trailing slash.
        if kind == EntryType::Regular && raw.ends_with(b"/") {
            kind = EntryType::Directory;
        }
        if kind.is_pax_global_extensions() || kind == EntryType::new(b'V') {
            return Ok(());
        }
        self.stats.entries += 1;
        let (parent, name) = split_last(&path);
        if is_whiteout(name) {
            return self.whiteout(parent, name);
        }
        let meta = read_meta(entry).map_err(EntryError::io("reading its header"))?;
        if path.is_empty() {
            if kind != EntryType::Directory {
                return Err(EntryError::image(
                    "the root of the image can only be a directory",
                ));
            }
            self.dirs.set(b"", meta);
            return Ok(());
        }
        let dir = self.parent(parent)?;
        match kind {
            EntryType::Directory => self.directory(&dir, &path, name, meta),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.replace(&dir, &path, name)?;
                self.file(&dir, name, &meta, entry)
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| EntryError::image("a symlink without a target"))?
                    .into_owned();
                self.replace(&dir, &path, name)?;
                rustix::fs::symlinkat(target.as_slice(), &dir.fd, name)
                    .map_err(|e| EntryError::io("creating the symlink")(e.into()))?;
                meta.apply_at(&dir.fd, name, self.ownership)
                    .map_err(EntryError::io("setting the symlink's owner and times"))?;
                self.layer.added(dir.ino, name);
                self.stats.symlinks += 1;
                Ok(())
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| EntryError::image("a hardlink without a target"))?;
                let raw_target = target.into_owned();
                self.hardlink(&dir, &path, name, &raw_target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (major, minor) = device_numbers(entry)?;
                self.node(&dir, &path, name, kind, &meta, major, minor)
            }
            other => Err(EntryError::image(format!(
                "tar entry type {:?} is not a file, directory, link or device",
                other.as_byte() as char
            ))),
        }
    }

    /// The directory an entry goes in; missing parents are made `0755`, owned
    /// by the caller (root when unpacking as root), as containerd does.
    fn parent(&mut self, parent: &[u8]) -> Result<std::rc::Rc<DirHandle>, EntryError> {
        let Applier {
            root, dirs, layer, ..
        } = self;
        let mut made = |at: &OwnedFd, path: &[u8]| {
            if let Ok(st) = rustix::fs::fstat(at) {
                layer.added(st.st_ino, split_last(path).1);
            }
            dirs.set(path, implicit_dir());
        };
        root.dir(parent, Some(&mut made)).map_err(|e| match e {
            ResolveError::Io(source) => EntryError::io("opening its directory")(source),
            other => EntryError::image(format!("its directory cannot be used: {other}")),
        })
    }

    /// Clears the way for an entry that is not a directory: whatever is there
    /// goes, a directory with its contents.
    fn replace(&mut self, dir: &DirHandle, path: &[u8], name: &[u8]) -> Result<(), EntryError> {
        let removed =
            remove_all(&dir.fd, name).map_err(EntryError::io("removing what it replaces"))?;
        if matches!(removed, Some(FileType::Directory | FileType::Symlink)) {
            // A removed directory or symlink may be on a remembered path.
            self.root.forget();
            self.dirs.remove_tree(path);
        }
        Ok(())
    }

    fn directory(
        &mut self,
        dir: &DirHandle,
        path: &[u8],
        name: &[u8],
        meta: Meta,
    ) -> Result<(), EntryError> {
        match kind_at(&dir.fd, name).map_err(EntryError::io("looking at its path"))? {
            Some((FileType::Directory, _)) => self.layer.reused(dir.ino, name),
            existing => {
                if existing.is_some() {
                    self.replace(dir, path, name)?;
                }
                rustix::fs::mkdirat(&dir.fd, name, Mode::from_raw_mode(0o700))
                    .map_err(|e| EntryError::io("creating the directory")(e.into()))?;
                self.layer.added(dir.ino, name);
            }
        }
        if self.ownership == Ownership::Keep {
            meta.apply_at(&dir.fd, name, self.ownership)
                .map_err(EntryError::io("setting the directory's owner"))?;
        }
        self.dirs.set(path, meta);
        self.stats.dirs += 1;
        Ok(())
    }

    fn hardlink(
        &mut self,
        dir: &std::rc::Rc<DirHandle>,
        path: &[u8],
        name: &[u8],
        raw_target: &[u8],
    ) -> Result<(), EntryError> {
        let target = &clean(raw_target)[..];
        if target == path {
            return Ok(());
        }
        let (tparent, tname) = split_last(target);
        let missing = || {
            EntryError::image(format!(
                "its hardlink target {:?} is not in the image (a link may only name a file of this or a lower layer; \
                 a name outside the image means the image's own)",
                paths::show(raw_target)
            ))
        };
        if tname.is_empty() {
            return Err(missing());
        }
        let tdir = self.root.dir(tparent, None).map_err(|_| missing())?;
        let (tkind, tino) = kind_at(&tdir.fd, tname)
            .map_err(EntryError::io("looking at its hardlink target"))?
            .ok_or_else(missing)?;
        if tkind == FileType::Directory {
            return Err(EntryError::image(format!(
                "its hardlink target {:?} is a directory",
                paths::show(target)
            )));
        }
        if let Some((_, ino)) =
            kind_at(&dir.fd, name).map_err(EntryError::io("looking at its path"))?
        {
            if ino == tino {
                return Ok(());
            }
            self.replace(dir, path, name)?;
        }
        rustix::fs::linkat(&tdir.fd, tname, &dir.fd, name, rustix::fs::AtFlags::empty())
            .map_err(|e| EntryError::io("creating the hardlink")(e.into()))?;
        self.layer.added(dir.ino, name);
        self.stats.hardlinks += 1;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        dir: &DirHandle,
        path: &[u8],
        name: &[u8],
        kind: EntryType,
        meta: &Meta,
        major: u32,
        minor: u32,
    ) -> Result<(), EntryError> {
        if self.ownership == Ownership::Caller && kind != EntryType::Fifo {
            // Only root may make device nodes. (umoci --rootless puts an
            // empty file in their place; a file where /dev/null should be
            // is worse than nothing, so regpull leaves them out.) FIFOs need
            // no privilege and are made, as umoci makes them.
            self.stats.devices_skipped += 1;
            return Ok(());
        }
        let file_type = match kind {
            EntryType::Char => FileType::CharacterDevice,
            EntryType::Block => FileType::BlockDevice,
            _ => FileType::Fifo,
        };
        self.replace(dir, path, name)?;
        let mode = Mode::from_raw_mode(meta.mode);
        rustix::fs::mknodat(
            &dir.fd,
            name,
            file_type,
            mode,
            rustix::fs::makedev(major, minor),
        )
        .map_err(|e| EntryError::io("creating the device node")(e.into()))?;
        meta.apply_at(&dir.fd, name, self.ownership)
            .map_err(EntryError::io("setting the device's owner and times"))?;
        // mknod's mode passed through the umask, and chown may clear bits.
        rustix::fs::chmodat(&dir.fd, name, mode, rustix::fs::AtFlags::empty())
            .map_err(|e| EntryError::io("setting the device's mode")(e.into()))?;
        self.layer.added(dir.ino, name);
        self.stats.devices += 1;
        Ok(())
    }

    /// A layer ended: what it made is now "lower" for the next one.
    pub fn end_layer(&mut self) {
        self.layer.clear();
    }

    /// Gives every directory its mode and times; returns the totals.
    pub fn finish(mut self) -> std::io::Result<UnpackStats> {
        let dirs = std::mem::take(&mut self.dirs);
        self.stats.xattrs_skipped += dirs.apply(&mut self.root, self.ownership)?;
        Ok(self.stats)
    }
}

/// A directory the archive did not list but a deeper entry needs.
fn implicit_dir() -> Meta {
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: rustix::fs::UTIME_NOW,
    };
    Meta {
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: now,
        atime: now,
        xattrs: Vec::new(),
    }
}

fn device_numbers<R: Read>(entry: &tar::Entry<R>) -> Result<(u32, u32), EntryError> {
    let h = entry.header();
    let get = |v: std::io::Result<Option<u32>>, field| {
        numeric(h, field, v.map(Option::unwrap_or_default))
    };
    match (
        get(h.device_major(), 329..337),
        get(h.device_minor(), 337..345),
    ) {
        (Ok(major), Ok(minor)) => Ok((major, minor)),
        _ => Err(EntryError::image("its device numbers are not numbers")),
    }
}

/// A numeric header field. An empty one (NULs or spaces), as some writers
/// leave device numbers of FIFOs or the owner of every entry, is 0, the way
/// Go's archive/tar and GNU tar read it; tar-rs refuses it.
fn numeric<T: Default>(
    h: &tar::Header,
    field: std::ops::Range<usize>,
    value: std::io::Result<T>,
) -> std::io::Result<T> {
    match value {
        Err(_) if h.as_bytes()[field].iter().all(|&b| b == 0 || b == b' ') => Ok(T::default()),
        v => v,
    }
}

/// Mode, owner, times and extended attributes from the header and its PAX records.
fn read_meta<R: Read>(entry: &mut tar::Entry<R>) -> std::io::Result<Meta> {
    let h = entry.header();
    let mtime = Timespec {
        tv_sec: h.mtime().unwrap_or(0).min(i64::MAX as u64) as i64,
        tv_nsec: 0,
    };
    let mut meta = Meta {
        mode: numeric(h, 100..108, h.mode())? & 0o7777,
        uid: numeric(h, 108..116, h.uid())?,
        gid: numeric(h, 116..124, h.gid())?,
        mtime,
        atime: mtime,
        xattrs: Vec::new(),
    };
    let mut atime = None;
    if let Some(records) = entry.pax_extensions()? {
        for record in records {
            let record = record?;
            let key = record.key_bytes();
            if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                meta.xattrs
                    .push((name.to_vec(), record.value_bytes().to_vec()));
            } else if key == b"mtime" {
                meta.mtime = pax_time(record.value_bytes()).unwrap_or(meta.mtime);
            } else if key == b"atime" {
                atime = pax_time(record.value_bytes());
            }
        }
    }
    meta.atime = atime.unwrap_or(meta.mtime);
    Ok(meta)
}

/// A PAX time: decimal seconds with an optional fraction (`1700000000.5`).
fn pax_time(v: &[u8]) -> Option<Timespec> {
    let s = std::str::from_utf8(v).ok()?;
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let tv_sec: i64 = sec.parse().ok()?;
    let digits: String = frac.chars().take(9).collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let tv_nsec = if digits.is_empty() {
        0
    } else {
        format!("{digits:0<9}").parse().ok()?
    };
    // "-1.5" is 1.5 s before the epoch.
    let (tv_sec, tv_nsec) = if sec.starts_with('-') && tv_nsec > 0 {
        (tv_sec - 1, 1_000_000_000 - tv_nsec)
    } else {
        (tv_sec, tv_nsec)
    };
    Some(Timespec { tv_sec, tv_nsec })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_times_keep_their_fraction() {
        let t = |s: &str| pax_time(s.as_bytes()).map(|t| (t.tv_sec, t.tv_nsec));
        assert_eq!(t("1700000000"), Some((1_700_000_000, 0)));
        assert_eq!(t("1700000000.5"), Some((1_700_000_000, 500_000_000)));
        assert_eq!(t("1.123456789123"), Some((1, 123_456_789)));
        assert_eq!(t("-1.5"), Some((-2, 500_000_000)));
        assert_eq!(t("x"), None);
    }
}
