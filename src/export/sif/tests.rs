use std::os::unix::fs::FileExt;

use super::read;
use super::*;

const DEFFILE: &[u8] = b"bootstrap: docker\nfrom: alpine\n\n";
const CONFIG: &[u8] = br#"{"Env":["PATH=/usr/bin"]}"#;

fn object(data_type: DataType, name: &str, data: &[u8]) -> Object {
    Object {
        data_type,
        name: name.to_string(),
        data: data.to_vec(),
    }
}

fn apptainer_like() -> Vec<Object> {
    vec![
        object(DataType::Deffile, "", DEFFILE),
        object(DataType::GenericJson, "oci-config.json", CONFIG),
    ]
}

/// The SIF `plan` and `write_head` make around `partition`, as bytes.
fn sif(objects: Vec<Object>, arch: &str, partition: &[u8], created: i64, id: [u8; 16]) -> Vec<u8> {
    let plan = plan(objects, arch).unwrap();
    let file = tempfile::tempfile().unwrap();
    file.write_all_at(partition, plan.partition_offset())
        .unwrap();
    write_head(&file, &plan, partition.len() as u64, created, id).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut &file, &mut bytes).unwrap();
    bytes
}

fn i64_at(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

const ID: [u8; 16] = *b"0123456789abcdef";

#[test]
fn header_fields_sit_at_the_documented_offsets() {
    let part = vec![0x5a; 8192];
    let b = sif(apptainer_like(), "amd64", &part, 1_700_000_000, ID);
    let objects_end = 32176 + DEFFILE.len() + CONFIG.len();
    let partition_at = objects_end.next_multiple_of(4096);
    assert_eq!(b.len(), partition_at + part.len());

    assert_eq!(&b[0..32], b"#!/usr/bin/env run-singularity\n\0");
    assert_eq!(&b[32..42], b"SIF_MAGIC\0");
    assert_eq!(&b[42..45], b"01\0");
    assert_eq!(&b[45..48], b"02\0", "amd64");
    assert_eq!(&b[48..64], &ID);
    assert_eq!(i64_at(&b, 64), 1_700_000_000, "created");
    assert_eq!(i64_at(&b, 72), 1_700_000_000, "modified");
    assert_eq!(
        i64_at(&b, 80),
        45,
        "free: 48 minus 2 objects and the partition"
    );
    assert_eq!(i64_at(&b, 88), 48, "total");
    assert_eq!(i64_at(&b, 96), 4096, "descriptors offset");
    assert_eq!(i64_at(&b, 104), 48 * 585, "descriptors size");
    assert_eq!(i64_at(&b, 112), 32176, "data offset");
    assert_eq!(i64_at(&b, 120), (b.len() - 32176) as i64, "data size");
    assert!(b[128..4096].iter().all(|&x| x == 0));

    // The tests' reader sees the same header.
    let h = read::header(&b);
    assert_eq!(&h.launch_script[..31], b"#!/usr/bin/env run-singularity\n");
    assert_eq!(
        (&h.magic, &h.version, &h.arch),
        (b"SIF_MAGIC\0", b"01\0", b"02\0")
    );
    assert_eq!(h.id, ID);
    assert_eq!((h.created, h.modified), (1_700_000_000, 1_700_000_000));
    let table = (
        h.descriptors_free,
        h.descriptors_total,
        h.descriptors_offset,
    );
    assert_eq!(table, (45, 48, 4096));
    assert_eq!((h.descriptors_size, h.data_offset), (28080, 32176));
    assert_eq!(h.data_size, (b.len() - 32176) as i64);
}

#[test]
fn descriptors_describe_the_objects_then_the_partition() {
    let part = vec![0x5a; 12288];
    let b = sif(apptainer_like(), "arm64", &part, -5, ID);
    let ds = read::descriptors(&b);
    assert_eq!(ds.len(), 48);
    let def_at = 32176;
    let cfg_at = def_at + DEFFILE.len();
    let objects_end = cfg_at + CONFIG.len();
    let part_at = objects_end.next_multiple_of(4096);
    let expected = [
        (0x4001, "", def_at, DEFFILE.len(), DEFFILE.len()),
        (
            0x4006,
            "oci-config.json",
            cfg_at,
            CONFIG.len(),
            CONFIG.len(),
        ),
        (
            0x4004,
            "",
            part_at,
            part.len(),
            part_at - objects_end + part.len(),
        ),
    ];
    for (i, (d, (kind, name, offset, size, padded))) in ds.iter().zip(expected).enumerate() {
        assert_eq!(d.data_type, kind, "slot {i}");
        assert!(d.used, "slot {i}");
        assert_eq!(d.id, i as u32 + 1, "IDs start at 1");
        assert_eq!(d.group_id, 0xf000_0001, "group 1 under the mask");
        assert_eq!(d.group_id & !0xf000_0000, 1);
        assert_eq!(d.linked_id, 0);
        assert_eq!(d.offset, offset as i64, "slot {i}");
        assert_eq!(d.size, size as i64, "slot {i}");
        assert_eq!(d.size_with_padding, padded as i64, "slot {i}");
        assert_eq!((d.created, d.modified, d.uid, d.gid), (-5, -5, 0, 0));
        assert_eq!(d.name(), name);
        assert!(d.name[name.len()..].iter().all(|&x| x == 0));
    }
    assert!(ds[0].extra.iter().chain(&ds[1].extra).all(|&x| x == 0));
    assert_eq!(
        ds[2].partition(),
        (1, 2, *b"04\0"),
        "squashfs, primary, arm64"
    );
    assert!(ds[2].extra[11..].iter().all(|&x| x == 0));
    assert_eq!(
        &b[45..48],
        b"04\0",
        "the header repeats the partition's arch"
    );
    for (i, d) in ds.iter().enumerate().skip(3) {
        assert!(d.raw.iter().all(|&x| x == 0), "unused slot {i} is not zero");
    }
    assert_eq!(&b[def_at..cfg_at], DEFFILE);
    assert_eq!(&b[cfg_at..objects_end], CONFIG);
    assert!(
        b[4096 + 48 * 585..32176].is_empty(),
        "the data follows the table"
    );
    assert!(b[objects_end..part_at].iter().all(|&x| x == 0), "padding");
    assert_eq!(&b[part_at..], &part[..], "the partition is left as it was");
}

#[test]
fn the_partition_starts_at_the_next_multiple_of_4096() {
    // 32176 = 7 * 4096 + 3504: 592 bytes of objects end exactly on 32768.
    for (sizes, expected) in [
        (vec![], 32768),
        (vec![592], 32768),
        (vec![591, 1], 32768),
        (vec![593], 36864),
        (vec![100, 4000, 9000], 49152),
    ] {
        let objects = sizes
            .iter()
            .map(|&n| object(DataType::Labels, "x", &vec![1; n]))
            .collect();
        let p = plan(objects, "riscv64").unwrap();
        assert_eq!(p.partition_offset(), expected, "objects of {sizes:?}");
    }
    let b = sif(
        vec![object(DataType::Labels, "", &[7; 592])],
        "s390x",
        &[9; 4096],
        0,
        ID,
    );
    let part = &read::descriptors(&b)[1];
    assert_eq!(
        (part.offset, part.size_with_padding),
        (32768, 4096),
        "no padding needed"
    );
    assert_eq!(read::header(&b).data_size, 592 + 4096);
}

#[test]
fn every_go_architecture_has_its_code_and_others_are_refused() {
    let codes = [
        ("386", "01"),
        ("amd64", "02"),
        ("arm", "03"),
        ("arm64", "04"),
        ("ppc64", "05"),
        ("ppc64le", "06"),
        ("mips", "07"),
        ("mipsle", "08"),
        ("mips64", "09"),
        ("mips64le", "10"),
        ("s390x", "11"),
        ("riscv64", "12"),
        ("loong64", "13"),
    ];
    for (arch, code) in codes {
        let b = sif(vec![], arch, &[0; 4096], 0, ID);
        let expected = format!("{code}\0");
        assert_eq!(&b[45..48], expected.as_bytes(), "{arch}");
        assert_eq!(read::descriptors(&b)[0].partition().2, b[45..48], "{arch}");
    }
    for arch in ["wasm", "x86_64", "aarch64", "AMD64", ""] {
        let err = plan(vec![], arch).unwrap_err();
        assert!(err.to_string().contains(&format!("`{arch}`")), "{err}");
    }
}

#[test]
fn plan_refuses_what_a_sif_cannot_hold() {
    let name = |n| object(DataType::GenericJson, &"n".repeat(n), b"{}");
    assert!(plan(vec![name(128)], "amd64").is_ok());
    let err = plan(vec![name(129)], "amd64").unwrap_err();
    assert!(err.to_string().contains("129 bytes"), "{err}");

    assert!(plan(vec![name(1); 47], "amd64").is_ok());
    let err = plan(vec![name(1); 48], "amd64").unwrap_err();
    assert!(err.to_string().contains("48 SIF objects"), "{err}");

    let err = plan(vec![object(DataType::Partition, "root", b"")], "amd64").unwrap_err();
    assert!(err.to_string().contains("`root`"), "{err}");
}

#[test]
fn a_full_name_fills_the_field_without_a_nul() {
    let name = "n".repeat(128);
    let b = sif(
        vec![object(DataType::Labels, &name, b"{}")],
        "arm",
        &[0; 4096],
        0,
        ID,
    );
    assert_eq!(read::descriptors(&b)[0].name(), name);
}

#[test]
fn write_head_never_truncates_and_refuses_a_short_file() {
    let p = plan(apptainer_like(), "amd64").unwrap();
    let file = tempfile::tempfile().unwrap();
    let end = p.partition_offset() + 4096;
    file.set_len(end + 100).unwrap();
    write_head(&file, &p, 4096, 0, ID).unwrap();
    assert_eq!(file.metadata().unwrap().len(), end + 100);

    let err = write_head(&file, &p, 8192, 0, ID).unwrap_err();
    assert!(err.to_string().contains("8192-byte partition"), "{err}");
    let err = write_head(&file, &p, u64::MAX - 10, 0, ID).unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}

/// apptainer/sif's own `pkg/sif/testdata/TestCreateContainer/TwoDescriptors.golden`
/// (commit 2e3f71ff): a 2-byte Generic object (0xface), then a 2-byte PrimSys
/// squashfs partition (0xfeed) for "386", with `OptCreateDeterministic` (nil
/// UUID, time -62135596800). Transcribed as its non-zero runs; the file is
/// 32770 bytes.
const GOLDEN: &[(usize, &str)] = &[
    (0x20, "5349465f4d41474943003031003031"),
    (0x41, "096e88f1ffffff00096e88f1ffffff2e"),
    (0x58, "30"),
    (0x61, "10"),
    (0x68, "b06d"),
    (0x70, "b07d"),
    (0x78, "5202"),
    (0x1000, "0740"),
    (0x1004, "0101"),
    (0x1009, "01"),
    (0x100c, "f0"),
    (0x1011, "b07d"),
    (0x1019, "02"),
    (0x1021, "02"),
    (0x102a, "096e88f1ffffff00096e88f1ffffff"),
    (0x1249, "0440"),
    (0x124d, "0102"),
    (0x1252, "01"),
    (0x1255, "f0"),
    (0x125b, "80"),
    (0x1262, "02"),
    (0x126a, "5002"),
    (0x1273, "096e88f1ffffff00096e88f1ffffff"),
    (0x1312, "01"),
    (0x1316, "02"),
    (0x131a, "3031"),
    (0x7db0, "face"),
    (0x8000, "feed"),
];

#[test]
fn matches_the_reference_implementations_golden_file() {
    let mut golden = vec![0u8; 32770];
    for (at, hex) in GOLDEN {
        for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).unwrap();
            golden[at + i] = u8::from_str_radix(pair, 16).unwrap();
        }
    }
    let objects = vec![object(DataType::GenericJson, "", &[0xfa, 0xce])];
    let mut ours = sif(objects, "386", &[0xfe, 0xed], -62_135_596_800, [0; 16]);
    // The two differences are deliberate: regpull writes apptainer's launch
    // script (the golden has none), and stores JSON (0x4006), not Generic (0x4007).
    assert_eq!(&ours[..32], b"#!/usr/bin/env run-singularity\n\0");
    ours[..32].fill(0);
    assert_eq!(ours[0x1000], 0x06);
    ours[0x1000] = 0x07;
    assert_eq!(ours.len(), golden.len());
    let differ: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != golden[i]).collect();
    assert!(
        differ.is_empty(),
        "bytes differ from the golden file at {differ:x?}"
    );
}
