//! A directory tree as a comparable listing: for each path, its type, mode,
//! owner, link target, contents (hashed), device numbers, chosen extended
//! attributes and hardlink group. Two unpackers agree when their listings do.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use regpull::Digest;

/// One path's facts, printable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Symlink target, file digest, or device numbers.
    pub detail: String,
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// The first path (in sorted order) sharing this file's inode, if any other does.
    pub link_group: Option<String>,
}

/// Every path below `root` (relative, lossy UTF-8 with `\xNN` for other bytes),
/// with `xattr_names` read where present.
pub fn listing(root: &Path, xattr_names: &[&str]) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    let mut inodes: HashMap<(u64, u64), Vec<String>> = HashMap::new();
    walk(root, root, xattr_names, &mut out, &mut inodes);
    for paths in inodes.values() {
        if paths.len() > 1 {
            let mut sorted = paths.clone();
            sorted.sort();
            for p in &sorted {
                out.get_mut(p).unwrap().link_group = Some(sorted[0].clone());
            }
        }
    }
    out
}

fn show(rel: &Path) -> String {
    let mut s = String::new();
    for chunk in rel.as_os_str().as_bytes().utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn walk(
    root: &Path,
    dir: &Path,
    xattr_names: &[&str],
    out: &mut BTreeMap<String, Node>,
    inodes: &mut HashMap<(u64, u64), Vec<String>>,
) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = show(path.strip_prefix(root).unwrap());
        let ft = meta.file_type();
        let (kind, detail) = if ft.is_dir() {
            ("dir", String::new())
        } else if ft.is_symlink() {
            let t = std::fs::read_link(&path).unwrap();
            ("symlink", show(&t))
        } else if ft.is_file() {
            let d = Digest::sha256_of(&std::fs::read(&path).unwrap());
            if meta.nlink() > 1 {
                inodes
                    .entry((meta.dev(), meta.ino()))
                    .or_default()
                    .push(rel.clone());
            }
            ("file", d.to_string())
        } else if ft.is_char_device() {
            (
                "char",
                format!(
                    "{}:{}",
                    rustix::fs::major(meta.rdev()),
                    rustix::fs::minor(meta.rdev())
                ),
            )
        } else if ft.is_block_device() {
            (
                "block",
                format!(
                    "{}:{}",
                    rustix::fs::major(meta.rdev()),
                    rustix::fs::minor(meta.rdev())
                ),
            )
        } else if ft.is_fifo() {
            ("fifo", String::new())
        } else {
            ("other", String::new())
        };
        let mut xattrs = Vec::new();
        if !ft.is_symlink() {
            for name in xattr_names {
                let mut buf = vec![0u8; 4096];
                if let Ok(n) = rustix::fs::lgetxattr(&path, *name, &mut buf) {
                    buf.truncate(n);
                    xattrs.push((name.to_string(), buf));
                }
            }
        }
        out.insert(
            rel,
            Node {
                kind,
                mode: meta.mode() & 0o7777,
                uid: meta.uid(),
                gid: meta.gid(),
                detail,
                xattrs,
                link_group: None,
            },
        );
        if ft.is_dir() {
            walk(root, &path, xattr_names, out, inodes);
        }
    }
}

/// The differences between two listings, one line each, empty when equal.
pub fn diff(left: &BTreeMap<String, Node>, right: &BTreeMap<String, Node>) -> Vec<String> {
    let mut out = Vec::new();
    for (p, l) in left {
        match right.get(p) {
            None => out.push(format!("only in the first: {p} {l:?}")),
            Some(r) if r != l => out.push(format!("{p}: {l:?} != {r:?}")),
            _ => {}
        }
    }
    for (p, r) in right {
        if !left.contains_key(p) {
            out.push(format!("only in the second: {p} {r:?}"));
        }
    }
    out
}
