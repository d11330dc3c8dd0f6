//! A SIF reader for the tests, written straight from the spec's field tables
//! (apptainer/sif `pkg/sif` `header` and `rawDescriptor`) with its own
//! offsets, so that a writer mistake is not mirrored back as a pass.

/// The global header: 128 bytes at offset 0.
#[derive(Debug)]
pub struct Header {
    pub launch_script: [u8; 32],
    pub magic: [u8; 10],
    pub version: [u8; 3],
    pub arch: [u8; 3],
    pub id: [u8; 16],
    pub created: i64,
    pub modified: i64,
    pub descriptors_free: i64,
    pub descriptors_total: i64,
    pub descriptors_offset: i64,
    pub descriptors_size: i64,
    pub data_offset: i64,
    pub data_size: i64,
}

/// One 585-byte descriptor.
#[derive(Debug)]
pub struct Descriptor {
    pub data_type: i32,
    pub used: bool,
    pub id: u32,
    pub group_id: u32,
    pub linked_id: u32,
    pub offset: i64,
    pub size: i64,
    pub size_with_padding: i64,
    pub created: i64,
    pub modified: i64,
    pub uid: i64,
    pub gid: i64,
    pub name: [u8; 128],
    pub extra: [u8; 384],
    /// The raw slot, to check unused ones are all zero.
    pub raw: Vec<u8>,
}

impl Descriptor {
    /// The name up to its first NUL.
    pub fn name(&self) -> &str {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(128);
        std::str::from_utf8(&self.name[..end]).unwrap()
    }

    /// A partition's Extra: (Fstype, Parttype, Arch).
    pub fn partition(&self) -> (i32, i32, [u8; 3]) {
        (
            i32_at(&self.extra, 0),
            i32_at(&self.extra, 4),
            arr(&self.extra, 8),
        )
    }
}

pub fn header(b: &[u8]) -> Header {
    Header {
        launch_script: arr(b, 0),
        magic: arr(b, 32),
        version: arr(b, 42),
        arch: arr(b, 45),
        id: arr(b, 48),
        created: i64_at(b, 64),
        modified: i64_at(b, 72),
        descriptors_free: i64_at(b, 80),
        descriptors_total: i64_at(b, 88),
        descriptors_offset: i64_at(b, 96),
        descriptors_size: i64_at(b, 104),
        data_offset: i64_at(b, 112),
        data_size: i64_at(b, 120),
    }
}

/// Every slot of the table the header points to, used or not.
pub fn descriptors(b: &[u8]) -> Vec<Descriptor> {
    let h = header(b);
    (0..h.descriptors_total as usize)
        .map(|i| descriptor(&b[h.descriptors_offset as usize + i * 585..][..585]))
        .collect()
}

fn descriptor(d: &[u8]) -> Descriptor {
    Descriptor {
        data_type: i32_at(d, 0),
        used: d[4] != 0,
        id: u32::from_le_bytes(arr(d, 5)),
        group_id: u32::from_le_bytes(arr(d, 9)),
        linked_id: u32::from_le_bytes(arr(d, 13)),
        offset: i64_at(d, 17),
        size: i64_at(d, 25),
        size_with_padding: i64_at(d, 33),
        created: i64_at(d, 41),
        modified: i64_at(d, 49),
        uid: i64_at(d, 57),
        gid: i64_at(d, 65),
        name: arr(d, 73),
        extra: arr(d, 201),
        raw: d.to_vec(),
    }
}

fn arr<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b[at..at + N].try_into().unwrap()
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(arr(b, at))
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(arr(b, at))
}
