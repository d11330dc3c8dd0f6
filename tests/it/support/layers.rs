//! Layers with every kind of tar entry Docker images carry, written header by
//! header: files, directories, symlinks, hardlinks, devices, FIFOs, whiteouts,
//! PAX records (long names, xattrs, big ids), GNU long names, GNU sparse
//! files, non-UTF-8 names; and images made of them, gzip, zstd or plain.

use std::io::Write;

use regpull::Digest;
use serde_json::Value;

use super::image::{Blob, TestImage};

pub const MTIME: u64 = 1_700_000_000;

#[derive(Clone, Debug)]
pub enum Kind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Hardlink(Vec<u8>),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
    /// A GNU sparse file: (offset, data) segments and the real size.
    Sparse(Vec<(u64, Vec<u8>)>, u64),
    /// Any other type byte, with no data.
    Other(u8),
}

/// One tar entry.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: Kind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// Name the entry through a PAX `path` record instead of the header.
    pub pax_path: bool,
    /// Declare this size instead of the data's (a lie, for hostile layers).
    pub declared_size: Option<u64>,
}

fn entry(path: impl AsRef<[u8]>, kind: Kind, mode: u32) -> Entry {
    Entry {
        path: path.as_ref().to_vec(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        xattrs: Vec::new(),
        pax_path: false,
        declared_size: None,
    }
}

pub fn file(path: impl AsRef<[u8]>, data: impl AsRef<[u8]>) -> Entry {
    entry(path, Kind::File(data.as_ref().to_vec()), 0o644)
}
pub fn dir(path: impl AsRef<[u8]>) -> Entry {
    entry(path, Kind::Dir, 0o755)
}
pub fn symlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, Kind::Symlink(target.as_ref().to_vec()), 0o777)
}
pub fn hardlink(path: impl AsRef<[u8]>, target: impl AsRef<[u8]>) -> Entry {
    entry(path, Kind::Hardlink(target.as_ref().to_vec()), 0o644)
}
pub fn char_dev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, Kind::Char(major, minor), 0o666)
}
pub fn block_dev(path: impl AsRef<[u8]>, major: u32, minor: u32) -> Entry {
    entry(path, Kind::Block(major, minor), 0o660)
}
pub fn fifo(path: impl AsRef<[u8]>) -> Entry {
    entry(path, Kind::Fifo, 0o644)
}
pub fn sparse(path: impl AsRef<[u8]>, segments: Vec<(u64, Vec<u8>)>, size: u64) -> Entry {
    entry(path, Kind::Sparse(segments, size), 0o644)
}
/// `.wh.NAME` beside NAME.
pub fn whiteout(path: &str) -> Entry {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let wh = if dir.is_empty() {
        format!(".wh.{name}")
    } else {
        format!("{dir}/.wh.{name}")
    };
    file(wh, b"")
}
/// `DIR/.wh..wh..opq`.
pub fn opaque(dir: &str) -> Entry {
    file(format!("{dir}/.wh..wh..opq"), b"")
}

impl Entry {
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }
    pub fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
    pub fn xattr(mut self, name: &str, value: &[u8]) -> Self {
        self.xattrs.push((name.to_string(), value.to_vec()));
        self
    }
    pub fn pax_path(mut self) -> Self {
        self.pax_path = true;
        self
    }
    pub fn declared_size(mut self, size: u64) -> Self {
        self.declared_size = Some(size);
        self
    }
}

/// A PAX extended header's records.
fn pax_records(records: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in records {
        // "LEN key=value\n", LEN counting itself.
        let rest = k.len() + v.len() + 3;
        let mut len = rest + 1;
        while len.to_string().len() + rest != len {
            len += 1;
        }
        out.extend_from_slice(format!("{len} {k}=").as_bytes());
        out.extend_from_slice(v);
        out.push(b'\n');
    }
    out
}

/// The uncompressed tar stream of `entries`.
pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut records: Vec<(String, Vec<u8>)> = e
            .xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.clone()))
            .collect();
        if e.pax_path {
            records.push(("path".into(), e.path.clone()));
        }
        if e.uid > 0o7777777 {
            records.push(("uid".into(), e.uid.to_string().into_bytes()));
        }
        if !records.is_empty() {
            let data = pax_records(&records);
            let mut h = tar::Header::new_ustar();
            h.set_path("PaxHeaders/x").unwrap();
            h.set_entry_type(tar::EntryType::XHeader);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, data.as_slice()).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.mode);
        h.set_uid(e.uid.min(0o7777777));
        h.set_gid(e.gid);
        h.set_mtime(MTIME);
        let (ty, data): (tar::EntryType, Vec<u8>) = match &e.kind {
            Kind::File(d) => (tar::EntryType::Regular, d.clone()),
            Kind::Dir => (tar::EntryType::Directory, Vec::new()),
            Kind::Symlink(t) => {
                h.set_link_name_literal(t).unwrap();
                (tar::EntryType::Symlink, Vec::new())
            }
            Kind::Hardlink(t) => {
                h.set_link_name_literal(t).unwrap();
                (tar::EntryType::Link, Vec::new())
            }
            Kind::Char(ma, mi) | Kind::Block(ma, mi) => {
                h.set_device_major(*ma).unwrap();
                h.set_device_minor(*mi).unwrap();
                let ty = if matches!(e.kind, Kind::Char(..)) {
                    tar::EntryType::Char
                } else {
                    tar::EntryType::Block
                };
                (ty, Vec::new())
            }
            Kind::Fifo => (tar::EntryType::Fifo, Vec::new()),
            Kind::Sparse(segments, size) => {
                let gnu = h.as_gnu_mut().unwrap();
                // GNU tar ends a map whose file ends in a hole with (size, 0).
                let mut map: Vec<(u64, u64)> =
                    segments.iter().map(|(o, d)| (*o, d.len() as u64)).collect();
                if map.last().is_none_or(|(o, l)| o + l < *size) {
                    map.push((*size, 0));
                }
                assert!(
                    map.len() <= 4,
                    "the test kit writes at most 4 sparse segments"
                );
                for (slot, (off, len)) in gnu.sparse.iter_mut().zip(&map) {
                    octal(&mut slot.offset, *off);
                    octal(&mut slot.numbytes, *len);
                }
                octal(&mut gnu.realsize, *size);
                let data: Vec<u8> = segments.iter().flat_map(|(_, d)| d.clone()).collect();
                (tar::EntryType::GNUSparse, data)
            }
            Kind::Other(t) => (tar::EntryType::new(*t), Vec::new()),
        };
        h.set_entry_type(ty);
        h.set_size(e.declared_size.unwrap_or(data.len() as u64));
        if e.pax_path {
            // The header keeps a short stand-in; the PAX record wins.
            h.as_old_mut().name[..5].copy_from_slice(b"stand");
            h.set_cksum();
            b.append(&h, data.as_slice()).unwrap();
        } else if e.path.len() <= 100
            && (e.path.starts_with(b"/") || e.path.split(|&b| b == b'/').any(|c| c == b".."))
        {
            // The tar crate will not write such names; hostile layers have them.
            let name = &mut h.as_old_mut().name;
            name.fill(0);
            name[..e.path.len()].copy_from_slice(&e.path);
            h.set_cksum();
            b.append(&h, data.as_slice()).unwrap();
        } else {
            // Long names become GNU long-name entries.
            let path = std::ffi::OsStr::from_encoded_bytes_unchecked_safe(&e.path);
            b.append_data(&mut h, path, data.as_slice()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::path::Path;
}
impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(b: &[u8]) -> &std::path::Path {
        use std::os::unix::ffi::OsStrExt;
        std::path::Path::new(std::ffi::OsStr::from_bytes(b))
    }
}

fn octal(field: &mut [u8], value: u64) {
    let s = format!("{:0width$o}", value, width = field.len() - 1);
    field[..s.len()].copy_from_slice(s.as_bytes());
    field[s.len()..].fill(0);
}

/// How a layer is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";

/// A layer blob from a tar stream; returns it with the stream's diff_id.
pub fn layer_blob(tar: &[u8], c: Compression) -> (Blob, Digest) {
    let diff_id = Digest::sha256_of(tar);
    let blob = match c {
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(tar).unwrap();
            Blob::new(super::image::OCI_LAYER_GZIP, gz.finish().unwrap())
        }
        Compression::Zstd => Blob::new(OCI_LAYER_ZSTD, zstd::encode_all(tar, 3).unwrap()),
        Compression::None => Blob::new(OCI_LAYER, tar.to_vec()),
    };
    (blob, diff_id)
}

/// An image whose layers are `layers` (tar streams with their compression);
/// `run` is the config's `config` object.
pub fn image(layers: &[(Vec<u8>, Compression)], run: Value) -> TestImage {
    let (blobs, diff_ids): (Vec<Blob>, Vec<Digest>) =
        layers.iter().map(|(t, c)| layer_blob(t, *c)).unzip();
    image_of(blobs, &diff_ids, run)
}

/// A linux/amd64 image from ready blobs and the diff_ids its config should claim.
pub fn image_of(layers: Vec<Blob>, diff_ids: &[Digest], run: Value) -> TestImage {
    super::image::assemble("linux", "amd64", layers, diff_ids, run)
}
