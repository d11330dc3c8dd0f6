//! OCI whiteouts (image-spec `layer.md`): `.wh.NAME` deletes NAME as lower
//! layers left it; `.wh..wh..opq` in a directory deletes everything lower
//! layers put there. Neither touches what the same layer adds, before or
//! after the marker (the spec: whiteouts apply to lower layers only; umoci
//! keeps same-layer content the same way). Neither marker appears in the
//! result.
//!
//! The second rule needs to know, for each name, whether the current layer
//! made it. [`LayerSet`] remembers that as a hash of (directory inode, name),
//! 8 bytes an entry, which is immune to the same directory being reached by
//! two spellings through symlinks. A directory the layer declares that lower
//! layers had already made is "reused": an opaque marker above it keeps it but
//! empties it of its lower content in turn.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::os::fd::OwnedFd;

use rustix::fs::{Mode, OFlags};

use super::apply::Applier;
use super::error::EntryError;
use super::paths::join;
use super::remove::{empty_matching, remove_all};
use super::root::ResolveError;

const OPAQUE: &[u8] = b".wh..wh..opq";
const PREFIX: &[u8] = b".wh.";
/// aufs's own bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`), never content.
const META_PREFIX: &[u8] = b".wh..wh.";

/// Whether a name is a whiteout marker of any kind.
pub fn is_whiteout(name: &[u8]) -> bool {
    name.starts_with(PREFIX)
}

/// What the current layer made (`added`) or declared over lower content (`reused`).
#[derive(Default)]
pub struct LayerSet {
    hasher: RandomState,
    added: HashSet<u64>,
    reused: HashSet<u64>,
}

impl LayerSet {
    fn key(&self, dir_ino: u64, name: &[u8]) -> u64 {
        self.hasher.hash_one((dir_ino, name))
    }

    pub fn added(&mut self, dir_ino: u64, name: &[u8]) {
        let k = self.key(dir_ino, name);
        self.added.insert(k);
    }

    /// A directory lower layers made (if this layer made it, it stays its own).
    pub fn reused(&mut self, dir_ino: u64, name: &[u8]) {
        let k = self.key(dir_ino, name);
        if !self.added.contains(&k) {
            self.reused.insert(k);
        }
    }

    /// A new layer begins: nothing is its own yet.
    pub fn clear(&mut self) {
        self.added.clear();
        self.reused.clear();
    }
}

impl Applier {
    /// Applies the whiteout `name` found in the directory `parent`.
    pub(super) fn whiteout(&mut self, parent: &[u8], name: &[u8]) -> Result<(), EntryError> {
        self.stats.whiteouts += 1;
        let dir = match self.root.dir(parent, None) {
            Ok(d) => d,
            // Nothing below to hide.
            Err(ResolveError::Missing(_) | ResolveError::NotADirectory(_)) => return Ok(()),
            Err(e) => return Err(EntryError::image(format!("its directory: {e}"))),
        };
        if name == OPAQUE {
            return self.opaque(&dir.fd, dir.ino, parent);
        }
        if name.starts_with(META_PREFIX) {
            return Ok(());
        }
        let victim = &name[PREFIX.len()..];
        if victim.is_empty() || victim == b"." || victim == b".." || victim.contains(&b'/') {
            return Err(EntryError::image("a whiteout must name an entry"));
        }
        let k = self.layer.key(dir.ino, victim);
        if self.layer.added.contains(&k) {
            // This layer's own: a whiteout hides only what lies below.
            return Ok(());
        }
        if self.layer.reused.contains(&k) {
            // A lower directory this layer also declared: its lower content
            // goes, what this layer put in it stays.
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(&dir.fd, victim, flags, Mode::empty())?;
            let ino = rustix::fs::fstat(&fd)?.st_ino;
            return self.opaque(&fd, ino, &join(parent, victim));
        }
        remove_all(&dir.fd, victim).map_err(EntryError::io("removing what it hides"))?;
        self.root.forget();
        self.dirs.remove_tree(&join(parent, victim));
        Ok(())
    }

    /// Empties `fd` (the directory at `path`) of what lower layers put there.
    fn opaque(&mut self, fd: &OwnedFd, ino: u64, path: &[u8]) -> Result<(), EntryError> {
        let reopen = |fd: &OwnedFd, name: &[u8]| {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let child = rustix::fs::openat(fd, name, flags, Mode::empty())?;
            let ino = rustix::fs::fstat(&child)?.st_ino;
            Ok::<_, rustix::io::Errno>((child, ino))
        };
        let (first, _) = reopen(fd, b".")?;
        let mut work = vec![(first, ino, path.to_vec())];
        while let Some((dir, ino, path)) = work.pop() {
            let mut keep_below = Vec::new();
            let mut removed = Vec::new();
            let layer = &self.layer;
            empty_matching(&dir, &mut |name| {
                let k = layer.key(ino, name);
                if layer.added.contains(&k) {
                    false
                } else if layer.reused.contains(&k) {
                    keep_below.push(name.to_vec());
                    false
                } else {
                    removed.push(name.to_vec());
                    true
                }
            })
            .map_err(EntryError::io("emptying the opaque directory"))?;
            for name in removed {
                self.dirs.remove_tree(&join(&path, &name));
            }
            for name in keep_below {
                let (child, child_ino) = reopen(&dir, &name)?;
                work.push((child, child_ino, join(&path, &name)));
            }
        }
        self.root.forget();
        Ok(())
    }
}
