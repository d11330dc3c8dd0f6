//! Removing what a whiteout or a replacing entry names, relative to its
//! directory and never through a symlink.
//!
//! Trees are removed without recursion and with two descriptors open at a
//! time, so a hostile image nested thousands of levels deep can neither
//! overflow the stack nor exhaust file descriptors.

use std::os::fd::OwnedFd;

use rustix::fs::{AtFlags, Dir, FileType, Mode, OFlags};
use rustix::io::Errno;

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// What is at `name` in `dir`, without following a symlink; `None` when nothing.
pub fn kind_at(dir: &OwnedFd, name: &[u8]) -> std::io::Result<Option<(FileType, u64)>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some((FileType::from_raw_mode(st.st_mode), st.st_ino))),
        Err(Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Removes `name` from `dir`, whatever it is; a directory with everything in it.
/// Returns what was there (nothing is not an error).
pub fn remove_all(dir: &OwnedFd, name: &[u8]) -> std::io::Result<Option<FileType>> {
    let kind = kind_at(dir, name)?.map(|(k, _)| k);
    match kind {
        None => {}
        Some(FileType::Directory) => remove_all_below(dir, name)?,
        Some(_) => rustix::fs::unlinkat(dir, name, AtFlags::empty())?,
    }
    Ok(kind)
}

/// Removes the entries of the directory `d` for which `doomed(name)` holds,
/// each with everything below it.
pub fn empty_matching(d: &OwnedFd, doomed: &mut dyn FnMut(&[u8]) -> bool) -> std::io::Result<()> {
    let mut victims = Vec::new();
    for entry in Dir::read_from(d)? {
        let entry = entry?;
        let n = entry.file_name().to_bytes();
        if n != b"." && n != b".." && doomed(n) {
            victims.push(n.to_vec());
        }
    }
    for v in victims {
        remove_all_below(d, &v)?;
    }
    Ok(())
}

/// Opens the directory `name` in `dir` to empty it. A directory without
/// `rwx` for its owner (an unpacked `dr-xr-xr-x`, which only a rootless
/// caller meets) is given it first: it is about to go anyway.
fn open_to_empty(dir: &OwnedFd, name: &[u8]) -> std::io::Result<OwnedFd> {
    let fd = match rustix::fs::openat(dir, name, dir_flags(), Mode::empty()) {
        Err(Errno::ACCESS) => {
            rustix::fs::chmodat(dir, name, Mode::from_raw_mode(0o700), AtFlags::empty())?;
            rustix::fs::openat(dir, name, dir_flags(), Mode::empty())?
        }
        other => other?,
    };
    let mode = rustix::fs::fstat(&fd)?.st_mode;
    if mode & 0o700 != 0o700 {
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o700))?;
    }
    Ok(fd)
}

/// Removes the file or tree at `path` (a path of this machine, not of an
/// image), without following symlinks inside it.
pub fn remove_path(path: &std::path::Path) -> std::io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("no file name to remove"))?;
    let dir = rustix::fs::open(parent, dir_flags(), Mode::empty())?;
    remove_all(&dir, std::os::unix::ffi::OsStrExt::as_bytes(name)).map(drop)
}

/// `remove_all` for one entry of `top`, walking down with `openat` and back up
/// with `..` (safe: the tree is ours and nothing else changes it meanwhile).
fn remove_all_below(top: &OwnedFd, name: &[u8]) -> std::io::Result<()> {
    match kind_at(top, name)? {
        Some((FileType::Directory, _)) => {}
        Some(_) => return Ok(rustix::fs::unlinkat(top, name, AtFlags::empty())?),
        None => return Ok(()),
    }
    // Names of the directories we are inside, below `top`.
    let mut path: Vec<Vec<u8>> = vec![name.to_vec()];
    let mut cur = open_to_empty(top, name)?;
    loop {
        let mut descend = None;
        for entry in Dir::read_from(&cur)? {
            let entry = entry?;
            let n = entry.file_name().to_bytes();
            if n == b"." || n == b".." {
                continue;
            }
            let is_dir = match entry.file_type() {
                FileType::Unknown => {
                    matches!(kind_at(&cur, n)?, Some((FileType::Directory, _)))
                }
                t => t == FileType::Directory,
            };
            if is_dir {
                descend = Some(n.to_vec());
                break;
            }
            rustix::fs::unlinkat(&cur, n, AtFlags::empty())?;
        }
        if let Some(child) = descend {
            cur = open_to_empty(&cur, &child)?;
            path.push(child);
            continue;
        }
        // `cur` is empty: remove it from its parent and carry on there.
        let done = path.pop().expect("at least the starting directory");
        if path.is_empty() {
            rustix::fs::unlinkat(top, done.as_slice(), AtFlags::REMOVEDIR)?;
            return Ok(());
        }
        let parent = rustix::fs::openat(&cur, "..", dir_flags(), Mode::empty())?;
        rustix::fs::unlinkat(&parent, done.as_slice(), AtFlags::REMOVEDIR)?;
        cur = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(p: &std::path::Path) -> OwnedFd {
        rustix::fs::open(p, dir_flags(), Mode::empty()).unwrap()
    }

    #[test]
    fn removes_trees_deeper_than_path_max_without_following_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), "x").unwrap();
        std::fs::create_dir(t.path().join("root")).unwrap();
        let root = open(&t.path().join("root"));
        rustix::fs::mkdirat(&root, "victim", Mode::from_raw_mode(0o755)).unwrap();
        let mut cur = rustix::fs::openat(&root, "victim", dir_flags(), Mode::empty()).unwrap();
        for _ in 0..3000 {
            rustix::fs::mkdirat(&cur, "dd", Mode::from_raw_mode(0o755)).unwrap();
            rustix::fs::symlinkat(outside.as_path(), &cur, "link").unwrap();
            cur = rustix::fs::openat(&cur, "dd", dir_flags(), Mode::empty()).unwrap();
        }
        let flags = OFlags::CREATE | OFlags::WRONLY | OFlags::CLOEXEC;
        drop(rustix::fs::openat(&cur, "file", flags, Mode::from_raw_mode(0o644)).unwrap());
        remove_all(&root, b"victim").unwrap();
        assert!(!t.path().join("root/victim").exists());
        assert!(
            outside.join("keep").exists(),
            "a symlink's target is never entered"
        );
    }

    #[test]
    fn empty_matching_keeps_what_is_spared() {
        let t = tempfile::tempdir().unwrap();
        for n in ["d/a", "d/b/c"] {
            std::fs::create_dir_all(t.path().join(n)).unwrap();
        }
        std::fs::write(t.path().join("d/f"), "").unwrap();
        let d = open(&t.path().join("d"));
        empty_matching(&d, &mut |n| n != b"a").unwrap();
        let left: Vec<_> = std::fs::read_dir(t.path().join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["a"]);
    }
}
