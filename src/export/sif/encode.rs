//! The SIF header and descriptors as bytes: apptainer/sif `pkg/sif` `header`
//! (`sif.go`) and `rawDescriptor` (`descriptor.go`), little-endian and packed.
//! Offsets below are the spec's field offsets, fixed by those struct layouts.

use super::DataType;

pub(super) const HEADER_LEN: usize = 128;
pub(super) const DESCRIPTOR_LEN: u64 = 585;
/// `descrNameLen`: a name may fill all 128 bytes, without a NUL.
pub(super) const NAME_LEN: usize = 128;

/// Apptainer's builds start every SIF with this, so that a SIF made
/// executable runs itself (`OptCreateWithLaunchScript`; at most 31 bytes).
const LAUNCH_SCRIPT: &[u8] = b"#!/usr/bin/env run-singularity\n";
const MAGIC: &[u8; 10] = b"SIF_MAGIC\0";
/// `CurrentVersion` as `"%02d"` plus NUL; a loader accepts only this.
const VERSION: &[u8; 3] = b"01\0";
/// `descrGroupMask`: set on every stored group id, so group 1 reads 0xf0000001.
const GROUP_MASK: u32 = 0xf000_0000;
/// `DefaultObjectGroup`: apptainer puts every object in group 1.
const GROUP: u32 = 1;
/// `FsSquash` and `PartPrimSys`: the partition apptainer mounts as the root.
const FS_SQUASH: i32 = 1;
const PART_PRIMSYS: i32 = 2;

/// The architecture codes of `arch.go`, keyed by Go's GOARCH; OCI image
/// configs name architectures with the same GOARCH values (image-spec
/// `config.md`), so an OCI name is looked up as is.
const ARCHES: [(&str, &[u8; 3]); 13] = [
    ("386", b"01\0"),
    ("amd64", b"02\0"),
    ("arm", b"03\0"),
    ("arm64", b"04\0"),
    ("ppc64", b"05\0"),
    ("ppc64le", b"06\0"),
    ("mips", b"07\0"),
    ("mipsle", b"08\0"),
    ("mips64", b"09\0"),
    ("mips64le", b"10\0"),
    ("s390x", b"11\0"),
    ("riscv64", b"12\0"),
    ("loong64", b"13\0"),
];

/// The 3-byte code of an OCI architecture, or None when SIF has none.
pub(super) fn arch_code(arch: &str) -> Option<[u8; 3]> {
    ARCHES
        .iter()
        .find(|(name, _)| *name == arch)
        .map(|(_, code)| **code)
}

/// A partition's `Extra`: `Fstype int32`, `Parttype int32`, `Arch [3]byte`.
pub(super) fn partition_extra(arch: [u8; 3]) -> [u8; 11] {
    let mut extra = [0u8; 11];
    extra[0..4].copy_from_slice(&FS_SQUASH.to_le_bytes());
    extra[4..8].copy_from_slice(&PART_PRIMSYS.to_le_bytes());
    extra[8..11].copy_from_slice(&arch);
    extra
}

/// The header fields regpull chooses; the rest are constants.
pub(super) struct Header {
    /// Copied from the primary partition, as `writeDataObject` does.
    pub arch: [u8; 3],
    pub id: [u8; 16],
    pub created: i64,
    pub descriptors_free: u64,
    pub descriptors_total: u64,
    pub descriptors_offset: u64,
    pub descriptors_size: u64,
    pub data_offset: u64,
    /// From `data_offset` to the end of the last object, padding included.
    pub data_size: u64,
}

impl Header {
    /// Fills `out`, 128 zeroed bytes.
    pub fn encode(&self, out: &mut [u8]) {
        out[0..LAUNCH_SCRIPT.len()].copy_from_slice(LAUNCH_SCRIPT);
        out[32..42].copy_from_slice(MAGIC);
        out[42..45].copy_from_slice(VERSION);
        out[45..48].copy_from_slice(&self.arch);
        out[48..64].copy_from_slice(&self.id);
        // Created, then modified: the same instant in a new image.
        put(out, 64, self.created.to_le_bytes());
        put(out, 72, self.created.to_le_bytes());
        put(out, 80, self.descriptors_free.to_le_bytes());
        put(out, 88, self.descriptors_total.to_le_bytes());
        put(out, 96, self.descriptors_offset.to_le_bytes());
        put(out, 104, self.descriptors_size.to_le_bytes());
        put(out, 112, self.data_offset.to_le_bytes());
        put(out, 120, self.data_size.to_le_bytes());
    }
}

/// One used descriptor. Sizes and offsets are at most `i64::MAX` (the caller
/// checks), so their unsigned bytes equal the signed ones the spec stores.
pub(super) struct Descriptor<'a> {
    pub data_type: DataType,
    pub offset: u64,
    pub size: u64,
    /// Alignment zeros in front of the object, counted in `SizeWithPadding`.
    pub padding: u64,
    pub name: &'a [u8],
    pub extra: &'a [u8],
}

impl Descriptor<'_> {
    /// Fills `out`, 585 zeroed bytes. UID, GID (deprecated) and the link
    /// (apptainer links only encryption keys) stay zero.
    pub fn encode(&self, id: u32, created: i64, out: &mut [u8]) {
        put(out, 0, (self.data_type as i32).to_le_bytes());
        out[4] = 1; // Used
        put(out, 5, id.to_le_bytes());
        put(out, 9, (GROUP | GROUP_MASK).to_le_bytes());
        put(out, 17, self.offset.to_le_bytes());
        put(out, 25, self.size.to_le_bytes());
        put(out, 33, (self.padding + self.size).to_le_bytes());
        put(out, 41, created.to_le_bytes());
        put(out, 49, created.to_le_bytes());
        out[73..73 + self.name.len()].copy_from_slice(self.name);
        out[201..201 + self.extra.len()].copy_from_slice(self.extra);
    }
}

fn put<const N: usize>(out: &mut [u8], at: usize, bytes: [u8; N]) {
    out[at..at + N].copy_from_slice(&bytes);
}
