//! Directories inside the root filesystem, found the way a chroot would find
//! them: symlinks are followed, but `/` means the root and `..` stops there.
//!
//! This is what keeps a hostile image inside OUTPUT. A layer may plant
//! `etc -> /etc` or `x -> ../../..` and then write `etc/passwd` or `x/y`: the
//! walk below resolves each component itself with `openat(O_NOFOLLOW)` and
//! reads every symlink it meets, re-rooting absolute targets at the root, so
//! no path it returns can leave it (umoci's SecureJoin and the kernel's
//! `openat2(RESOLVE_IN_ROOT)` do the same; the walk is used instead of the
//! latter so that the kernels of older HPC clusters work too). Only the
//! parent directory is resolved; every operation then names the last
//! component relative to it without following it.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// Symlinks followed while resolving one path before it counts as a loop
/// (Linux's own limit is 40).
const MAX_SYMLINKS: usize = 40;

/// Flags for a directory we resolve through and operate in.
fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Told of each directory a walk creates: the directory it was made in, and
/// its real path inside the root.
pub type OnCreate<'a> = &'a mut dyn FnMut(&OwnedFd, &[u8]);

/// Why a directory inside the root could not be had.
#[derive(Debug)]
pub enum ResolveError {
    /// A component is a file, device or the like.
    NotADirectory(Vec<u8>),
    /// A component is missing and creation was not asked for.
    Missing(Vec<u8>),
    /// More symlinks than [`MAX_SYMLINKS`].
    Loop,
    Io(std::io::Error),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |p: &[u8]| String::from_utf8_lossy(p).into_owned();
        match self {
            ResolveError::NotADirectory(p) => write!(f, "{:?} is not a directory", show(p)),
            ResolveError::Missing(p) => write!(f, "{:?} does not exist", show(p)),
            ResolveError::Loop => write!(f, "too many levels of symbolic links"),
            ResolveError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<Errno> for ResolveError {
    fn from(e: Errno) -> Self {
        ResolveError::Io(e.into())
    }
}

/// A directory inside the root, open, with its inode number (which names it
/// in the set of what the current layer added).
pub struct DirHandle {
    pub fd: OwnedFd,
    pub ino: u64,
}

/// The root filesystem being built, and the directory most recently resolved
/// (tar entries come grouped by directory, so most lookups hit it).
pub struct Root {
    fd: OwnedFd,
    last: Option<(Vec<u8>, Rc<DirHandle>)>,
}

impl Root {
    pub fn open(path: &Path) -> std::io::Result<Root> {
        let fd = rustix::fs::open(path, dir_flags(), Mode::empty())?;
        Ok(Root { fd, last: None })
    }

    /// Forgets the remembered directory. Called whenever anything is removed,
    /// since a removal may change what a path resolves to.
    pub fn forget(&mut self) {
        self.last = None;
    }

    /// The directory at the cleaned path `path`, following symlinks inside the
    /// root. Missing components are created (mode 0700, finished later by the
    /// caller) when `create` is given; it is told of each one, with the
    /// directory it was made in and its real path inside the root.
    pub fn dir(
        &mut self,
        path: &[u8],
        create: Option<OnCreate<'_>>,
    ) -> Result<Rc<DirHandle>, ResolveError> {
        if let Some((p, dir)) = &self.last
            && p == path
        {
            return Ok(dir.clone());
        }
        let fd = self.walk(path, create)?;
        let ino = rustix::fs::fstat(&fd)?.st_ino;
        let dir = Rc::new(DirHandle { fd, ino });
        self.last = Some((path.to_vec(), dir.clone()));
        Ok(dir)
    }

    fn reopen_root(&self) -> Result<OwnedFd, ResolveError> {
        Ok(rustix::fs::openat(
            &self.fd,
            ".",
            dir_flags(),
            Mode::empty(),
        )?)
    }

    fn walk(&self, path: &[u8], mut create: Option<OnCreate<'_>>) -> Result<OwnedFd, ResolveError> {
        // Components still to walk, last first; a symlink pushes its target's.
        let mut todo: Vec<Vec<u8>> = components(path).rev().map(<[u8]>::to_vec).collect();
        // The directories walked so far, so that `..` can step back, and
        // their names (the real path, symlinks resolved).
        let mut stack: Vec<OwnedFd> = vec![self.reopen_root()?];
        let mut names: Vec<Vec<u8>> = Vec::new();
        let real = |names: &[Vec<u8>], last: &[u8]| {
            let mut p = names.join(&b'/');
            p = super::paths::join(&p, last);
            p
        };
        let mut links = 0;
        while let Some(comp) = todo.pop() {
            if comp == b".." {
                if stack.len() > 1 {
                    stack.pop();
                    names.pop();
                }
                continue;
            }
            let cur = stack.last().expect("the root is never popped");
            match rustix::fs::openat(cur, comp.as_slice(), dir_flags(), Mode::empty()) {
                Ok(fd) => {
                    stack.push(fd);
                    names.push(comp);
                    continue;
                }
                Err(Errno::NOENT) => {
                    let Some(on_create) = create.as_deref_mut() else {
                        return Err(ResolveError::Missing(real(&names, &comp)));
                    };
                    match rustix::fs::mkdirat(cur, comp.as_slice(), Mode::from_raw_mode(0o700)) {
                        Ok(()) => on_create(cur, &real(&names, &comp)),
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    let fd = rustix::fs::openat(cur, comp.as_slice(), dir_flags(), Mode::empty())?;
                    stack.push(fd);
                    names.push(comp);
                    continue;
                }
                Err(Errno::LOOP | Errno::NOTDIR) => {}
                Err(e) => return Err(e.into()),
            }
            // Not a directory: follow it if it is a symlink.
            let st = rustix::fs::statat(cur, comp.as_slice(), AtFlags::SYMLINK_NOFOLLOW)?;
            if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                return Err(ResolveError::NotADirectory(real(&names, &comp)));
            }
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(ResolveError::Loop);
            }
            let target = rustix::fs::readlinkat(cur, comp.as_slice(), Vec::new())?;
            let target = target.as_bytes();
            if target.first() == Some(&b'/') {
                stack.truncate(1);
                names.clear();
            }
            todo.extend(components(target).rev().map(<[u8]>::to_vec));
        }
        Ok(stack.pop().expect("the root is never popped"))
    }
}

/// The non-empty, non-`.` components of a path (`..` kept for the walk).
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(d: &DirHandle) -> Vec<String> {
        let dir = rustix::fs::Dir::read_from(&d.fd).unwrap();
        let mut v: Vec<String> = dir
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .collect();
        v.sort();
        v
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("real/inner")).unwrap();
        symlink("/", root.join("to-root")).unwrap();
        symlink("../../../..", root.join("real/up")).unwrap();
        symlink("/real", root.join("abs")).unwrap();
        let mut r = Root::open(&root).unwrap();
        assert_eq!(
            names(&r.dir(b"to-root", None).unwrap()),
            ["abs", "real", "to-root"]
        );
        assert_eq!(
            names(&r.dir(b"real/up", None).unwrap()),
            ["abs", "real", "to-root"]
        );
        assert_eq!(names(&r.dir(b"abs", None).unwrap()), ["inner", "up"]);
        assert_eq!(
            names(&r.dir(b"real/up/abs/inner/../..", None).unwrap()),
            ["abs", "real", "to-root"]
        );
    }

    #[test]
    fn loops_files_and_missing_dirs_are_errors() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        symlink("b", root.join("a")).unwrap();
        symlink("a", root.join("b")).unwrap();
        std::fs::write(root.join("file"), "").unwrap();
        let mut r = Root::open(root).unwrap();
        assert!(matches!(r.dir(b"a", None), Err(ResolveError::Loop)));
        assert!(
            matches!(r.dir(b"file/x", None), Err(ResolveError::NotADirectory(p)) if p == b"file")
        );
        assert!(matches!(r.dir(b"new/x", None), Err(ResolveError::Missing(p)) if p == b"new"));
        let mut made = Vec::new();
        r.dir(
            b"new/x",
            Some(&mut |_: &OwnedFd, n: &[u8]| made.push(n.to_vec())),
        )
        .unwrap();
        assert_eq!(made, [b"new".to_vec(), b"new/x".to_vec()]);
        assert!(root.join("new/x").is_dir());
    }
}
