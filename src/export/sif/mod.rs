//! The Singularity Image Format (SIF): the single file Apptainer (and
//! SingularityCE) runs. A global header, a fixed table of object descriptors,
//! the small objects (definition file, JSON metadata), and last the root
//! filesystem as a squashfs "primary system partition".
//!
//! Written from the specification as its reference implementation lays it
//! out, apptainer/sif `pkg/sif` (identical to sylabs/sif on every field used
//! here): `sif.go` (`header`, the data, filesystem and partition type codes),
//! `descriptor.go` (`rawDescriptor`), `create.go` (`writeHeader`,
//! `writeDescriptors`, `writeDataObjectAt`), `descriptor_input.go` (group 1 by
//! default; partitions aligned to 4096, other objects not aligned) and
//! `arch.go` (architecture codes). Go's `binary.Write` with `LittleEndian`
//! writes those structs packed: no padding, a `bool` is one byte.
//!
//! ```text
//! offset   what
//! 0        header, 128 bytes; zeros up to 4096
//! 4096     48 descriptors of 585 bytes, the capacity apptainer's builds reserve
//! 32176    the objects, back to back, in the order given (apptainer: definition
//!          file first, then the JSON objects sorted by name)
//! 4096*k   the squashfs, to the end of the file; the gap before it is zeros
//! ```
//!
//! regpull has `mksquashfs -o OFFSET` write the squashfs straight into the
//! output file (one copy of a possibly large filesystem instead of two). So
//! [`plan`] places everything before the squashfs exists, and [`write_head`]
//! fills in the leading bytes afterwards with positional writes that never
//! truncate the file.

mod encode;
#[cfg(test)]
mod read;
#[cfg(test)]
mod tests;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use encode::{Descriptor, Header};

/// Where the descriptor table starts (`CreateContainer`'s default).
const DESCRIPTORS_OFFSET: u64 = 4096;
/// Slots in the table: apptainer's default capacity. The partition takes one.
const DESCRIPTOR_CAPACITY: u64 = 48;
/// The first object starts right after the table: 4096 + 48 * 585.
const DATA_OFFSET: u64 = DESCRIPTORS_OFFSET + DESCRIPTOR_CAPACITY * encode::DESCRIPTOR_LEN;
/// The reference writer aligns partitions (absolute file offsets) to 4096.
const PARTITION_ALIGNMENT: u64 = 4096;

/// What a data object holds; the numbers are the on-disk `DataType` codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// The definition file the image was built from (`DataDeffile`).
    Deffile = 0x4001,
    /// Labels (`DataLabels`); apptainer itself keeps them inside the squashfs.
    Labels = 0x4003,
    /// The file system itself (`DataPartition`); described by [`write_head`],
    /// never passed as an [`Object`].
    Partition = 0x4004,
    /// Named JSON metadata, e.g. `oci-config.json` (`DataGenericJSON`).
    GenericJson = 0x4006,
}

/// One object stored before the partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub data_type: DataType,
    /// At most 128 bytes; empty for apptainer's definition file.
    pub name: String,
    pub data: Vec<u8>,
}

/// Where each object and the partition go, decided before the squashfs is built.
#[derive(Debug)]
pub struct Plan {
    /// The objects with their absolute offsets, in table order.
    objects: Vec<(Object, u64)>,
    /// Where the last object ends; the partition's padding starts here.
    objects_end: u64,
    partition_offset: u64,
    arch: [u8; 3],
}

impl Plan {
    /// Where the squashfs must start: `mksquashfs -o` takes this value.
    pub fn partition_offset(&self) -> u64 {
        self.partition_offset
    }
}

/// Lays out `objects` after the descriptor table, in order, unaligned, then
/// the primary system partition at the next multiple of 4096, for OCI
/// architecture `arch` ("amd64", "arm64", ...).
///
/// Everything a SIF can refuse is refused here, before the squashfs is built:
/// too many objects, a name over 128 bytes, a partition passed as an object,
/// or an architecture SIF has no code for.
/// Whether SIF has a code for the OCI architecture `arch` (checked before
/// any work is done for a SIF that could not be written).
pub fn knows_arch(arch: &str) -> bool {
    encode::arch_code(arch).is_some()
}

pub fn plan(objects: Vec<Object>, arch: &str) -> io::Result<Plan> {
    let arch = encode::arch_code(arch).ok_or_else(|| {
        // The reference writer refuses a partition of unknown architecture
        // (`OptPartitionMetadata`: "unknown architecture"), so no SIF it makes
        // carries code "00" there. Apptainer's runtime would skip its
        // compatibility check for "00" and start the image on any host, so a
        // default would turn a wrong-CPU image into a confusing exec failure.
        invalid(format!(
            "SIF has no code for the architecture `{arch}`; apptainer/sif refuses it"
        ))
    })?;
    // The partition needs a slot too.
    if objects.len() as u64 >= DESCRIPTOR_CAPACITY {
        return Err(invalid(format!(
            "{} SIF objects and the partition do not fit the {DESCRIPTOR_CAPACITY} descriptors",
            objects.len()
        )));
    }
    let mut placed = Vec::with_capacity(objects.len());
    let mut end = DATA_OFFSET;
    for object in objects {
        if object.data_type == DataType::Partition {
            return Err(invalid(format!(
                "the SIF object `{}` is a partition; the squashfs is the only partition",
                object.name
            )));
        }
        if object.name.len() > encode::NAME_LEN {
            return Err(invalid(format!(
                "the SIF object name `{}` is {} bytes; descriptors hold {}",
                object.name,
                object.name.len(),
                encode::NAME_LEN
            )));
        }
        let offset = end;
        end = end
            .checked_add(object.data.len() as u64)
            .ok_or_else(|| invalid(format!("the SIF object `{}` is too large", object.name)))?;
        placed.push((object, offset));
    }
    let partition_offset = end.next_multiple_of(PARTITION_ALIGNMENT);
    Ok(Plan {
        objects: placed,
        objects_end: end,
        partition_offset,
        arch,
    })
}

/// Writes the header, the descriptor table and the objects into the first
/// `plan.partition_offset()` bytes of `file`, describing the squashfs of
/// `partition_size` bytes already written at that offset. `created` (unix
/// seconds) stamps the header and every descriptor; `id` is the image's UUID
/// (apptainer: random, or all zeros for a reproducible build).
///
/// Positional writes: the file is neither truncated nor read, and its
/// position is left alone.
pub fn write_head(
    file: &File,
    plan: &Plan,
    partition_size: u64,
    created: i64,
    id: [u8; 16],
) -> io::Result<()> {
    let offset = plan.partition_offset;
    // Offsets and sizes are signed 64-bit on disk.
    let end = offset
        .checked_add(partition_size)
        .filter(|&end| i64::try_from(end).is_ok())
        .ok_or_else(|| {
            invalid(format!(
                "a SIF partition of {partition_size} bytes is too large"
            ))
        })?;
    let len = file.metadata()?.len();
    if len < end {
        return Err(invalid(format!(
            "the SIF file holds {len} bytes, too few for a {partition_size}-byte partition at {offset}"
        )));
    }
    let used = plan.objects.len() as u64 + 1;
    let mut head = vec![0u8; to_usize(offset)?];
    let header = Header {
        arch: plan.arch,
        id,
        created,
        descriptors_free: DESCRIPTOR_CAPACITY - used,
        descriptors_total: DESCRIPTOR_CAPACITY,
        descriptors_offset: DESCRIPTORS_OFFSET,
        descriptors_size: DESCRIPTOR_CAPACITY * encode::DESCRIPTOR_LEN,
        data_offset: DATA_OFFSET,
        data_size: end - DATA_OFFSET,
    };
    header.encode(&mut head[..encode::HEADER_LEN]);

    let partition_extra = encode::partition_extra(plan.arch);
    let objects = plan.objects.iter().map(|(o, at)| Descriptor {
        data_type: o.data_type,
        offset: *at,
        size: o.data.len() as u64,
        padding: 0,
        name: o.name.as_bytes(),
        extra: &[],
    });
    let partition = Descriptor {
        data_type: DataType::Partition,
        offset,
        size: partition_size,
        padding: offset - plan.objects_end,
        name: &[],
        extra: &partition_extra,
    };
    // IDs are slot index + 1, the slots filled from the first.
    for (slot, d) in objects.chain([partition]).enumerate() {
        let start = to_usize(DESCRIPTORS_OFFSET + slot as u64 * encode::DESCRIPTOR_LEN)?;
        let len = to_usize(encode::DESCRIPTOR_LEN)?;
        d.encode(slot as u32 + 1, created, &mut head[start..start + len]);
    }
    for (object, at) in &plan.objects {
        let at = to_usize(*at)?;
        head[at..at + object.data.len()].copy_from_slice(&object.data);
    }
    file.write_all_at(&head, 0)
}

fn to_usize(n: u64) -> io::Result<usize> {
    usize::try_from(n)
        .map_err(|_| invalid(format!("the SIF head of {n} bytes does not fit memory")))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
