//! SIF files read as the specification lays them out: the head regpull writes
//! in front of a real `mksquashfs -o` image, decoded here byte by byte at the
//! field offsets of apptainer/sif `pkg/sif` (`header` in `sif.go`,
//! `rawDescriptor` in `descriptor.go`; little-endian, packed), with none of
//! the writer's code, and the partition read back by `unsquashfs -o`.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use regpull::export::sif::{self, DataType, Object};

use crate::support::{self, tree};

const DEFFILE: &[u8] = b"bootstrap: docker\nfrom: alpine\n\n";
const CONFIG: &[u8] = br#"{"Cmd":["/bin/sh"],"Env":["PATH=/usr/bin:/bin"]}"#;
const CREATED: i64 = 1_712_345_678;
const ID: [u8; 16] = [
    0x6b, 0x1e, 0x4a, 0x0f, 0x3c, 0x22, 0x4d, 0x91, 0x8a, 0x55, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
];

fn le_i32(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn le_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// What apptainer stores before the partition: the definition file, then
/// the JSON objects by name.
fn apptainer_objects() -> Vec<Object> {
    vec![
        Object {
            data_type: DataType::Deffile,
            name: String::new(),
            data: DEFFILE.to_vec(),
        },
        Object {
            data_type: DataType::GenericJson,
            name: "oci-config.json".into(),
            data: CONFIG.to_vec(),
        },
    ]
}

/// A small root filesystem: nested dirs, an executable, a multi-block file,
/// an empty file, a symlink and a hardlink.
fn rootfs(dir: &Path) {
    fs::create_dir_all(dir.join("etc/deep/er")).unwrap();
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::write(dir.join("etc/os-release"), "ID=test\n").unwrap();
    fs::write(dir.join("etc/deep/er/empty"), "").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(dir.join("bin/big"), big).unwrap();
    fs::write(dir.join("bin/tool"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(dir.join("bin/tool"), fs::Permissions::from_mode(0o755)).unwrap();
    symlink("../etc/os-release", dir.join("bin/link")).unwrap();
    fs::hard_link(dir.join("etc/os-release"), dir.join("etc/hard")).unwrap();
}

/// `objects` and a squashfs of `src` as a SIF at `out`, the way regpull's
/// export builds it: the squashfs first at the planned offset, the head after.
/// Returns the partition offset.
fn build(src: &Path, out: &Path, objects: Vec<Object>, arch: &str) -> u64 {
    support::require_tool("mksquashfs", "squashfs-tools");
    let plan = sif::plan(objects, arch).unwrap();
    let offset = plan.partition_offset();
    support::run_ok(Command::new("mksquashfs").arg(src).arg(out).args([
        "-noappend",
        "-o",
        &offset.to_string(),
        "-quiet",
        "-no-progress",
    ]));
    let file = fs::OpenOptions::new().write(true).open(out).unwrap();
    let size = file.metadata().unwrap().len() - offset;
    sif::write_head(&file, &plan, size, CREATED, ID).unwrap();
    offset
}

fn extract(sif: &Path, offset: u64, dest: &Path) {
    support::require_tool("unsquashfs", "squashfs-tools");
    support::run_ok(
        Command::new("unsquashfs")
            .args(["-o", &offset.to_string(), "-no-progress", "-d"])
            .arg(dest)
            .arg(sif),
    );
}

struct Work {
    _dir: tempfile::TempDir,
    src: PathBuf,
    sif: PathBuf,
    out: PathBuf,
}

fn work() -> Work {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("rootfs");
    rootfs(&src);
    Work {
        src,
        sif: dir.path().join("image.sif"),
        out: dir.path().join("extracted"),
        _dir: dir,
    }
}

#[test]
fn a_sif_around_a_real_squashfs_reads_back_as_the_spec_lays_it_out() {
    let w = work();
    let offset = build(&w.src, &w.sif, apptainer_objects(), "arm64") as usize;
    let b = fs::read(&w.sif).unwrap();

    // Header: 128 bytes at 0, then zeros until the table at 4096.
    assert_eq!(
        &b[0..32],
        b"#!/usr/bin/env run-singularity\n\0",
        "launch script"
    );
    assert_eq!(&b[32..42], b"SIF_MAGIC\0", "magic");
    assert_eq!(&b[42..45], b"01\0", "version");
    assert_eq!(&b[45..48], b"04\0", "arch: arm64");
    assert_eq!(&b[48..64], &ID, "id");
    assert_eq!(le_i64(&b, 64), CREATED, "created");
    assert_eq!(le_i64(&b, 72), CREATED, "modified");
    assert_eq!(le_i64(&b, 80), 48 - 3, "descriptors free");
    assert_eq!(le_i64(&b, 88), 48, "descriptors total");
    assert_eq!(le_i64(&b, 96), 4096, "descriptors offset");
    assert_eq!(le_i64(&b, 104), 48 * 585, "descriptors size");
    assert_eq!(le_i64(&b, 112), 32176, "data offset");
    assert_eq!(
        le_i64(&b, 120),
        b.len() as i64 - 32176,
        "data size reaches the end"
    );
    assert!(b[128..4096].iter().all(|&x| x == 0), "after the header");

    // Descriptors: 585 bytes each from 4096.
    let deffile_at = 32176;
    let config_at = deffile_at + DEFFILE.len();
    let objects_end = config_at + CONFIG.len();
    assert_eq!(
        offset,
        objects_end.next_multiple_of(4096),
        "the partition is aligned"
    );
    let size = b.len() - offset;
    let expected: [(i32, usize, usize, usize, &[u8]); 3] = [
        (0x4001, deffile_at, DEFFILE.len(), DEFFILE.len(), b""),
        (
            0x4006,
            config_at,
            CONFIG.len(),
            CONFIG.len(),
            b"oci-config.json",
        ),
        (0x4004, offset, size, offset - objects_end + size, b""),
    ];
    for (slot, (kind, at, len, padded, name)) in expected.into_iter().enumerate() {
        let d = &b[4096 + slot * 585..][..585];
        assert_eq!(le_i32(d, 0), kind, "slot {slot} data type");
        assert_eq!(d[4], 1, "slot {slot} used");
        assert_eq!(le_u32(d, 5), slot as u32 + 1, "slot {slot} id");
        assert_eq!(le_u32(d, 9), 0xf000_0001, "slot {slot} group 1, masked");
        assert_eq!(le_u32(d, 13), 0, "slot {slot} link");
        assert_eq!(le_i64(d, 17), at as i64, "slot {slot} offset");
        assert_eq!(le_i64(d, 25), len as i64, "slot {slot} size");
        assert_eq!(
            le_i64(d, 33),
            padded as i64,
            "slot {slot} size with padding"
        );
        assert_eq!(
            (le_i64(d, 41), le_i64(d, 49)),
            (CREATED, CREATED),
            "slot {slot} times"
        );
        assert_eq!(
            (le_i64(d, 57), le_i64(d, 65)),
            (0, 0),
            "slot {slot} uid, gid"
        );
        assert_eq!(&d[73..73 + name.len()], name, "slot {slot} name");
        assert!(
            d[73 + name.len()..201].iter().all(|&x| x == 0),
            "slot {slot} name padding"
        );
        let extra = &d[201..585];
        if kind == 0x4004 {
            assert_eq!(le_i32(extra, 0), 1, "fstype squashfs");
            assert_eq!(le_i32(extra, 4), 2, "parttype primary system");
            assert_eq!(&extra[8..11], b"04\0", "partition arch: arm64");
            assert!(extra[11..].iter().all(|&x| x == 0));
        } else {
            assert!(extra.iter().all(|&x| x == 0), "slot {slot} extra");
        }
    }
    for slot in 3..48 {
        let d = &b[4096 + slot * 585..][..585];
        assert!(d.iter().all(|&x| x == 0), "unused slot {slot}");
    }

    // The objects, the zero padding, then the squashfs ("hsqs" superblock).
    assert_eq!(&b[deffile_at..config_at], DEFFILE);
    assert_eq!(&b[config_at..objects_end], CONFIG);
    assert!(
        b[objects_end..offset].iter().all(|&x| x == 0),
        "alignment padding"
    );
    assert_eq!(
        &b[offset..offset + 4],
        b"hsqs",
        "squashfs magic at the partition"
    );
    assert_eq!(b.len(), offset + size);

    extract(&w.sif, offset as u64, &w.out);
    let theirs = tree::listing(&w.src, &[]);
    assert!(theirs.contains_key("bin/big") && theirs.contains_key("etc/hard"));
    let differences = tree::diff(&tree::listing(&w.out, &[]), &theirs);
    assert!(
        differences.is_empty(),
        "unsquashfs disagrees:\n{}",
        differences.join("\n")
    );
}

#[test]
fn without_objects_the_partition_follows_the_table_at_32768() {
    let w = work();
    let offset = build(&w.src, &w.sif, vec![], "amd64");
    assert_eq!(offset, 32768);
    let b = fs::read(&w.sif).unwrap();
    assert_eq!(&b[45..48], b"02\0", "arch: amd64");
    assert_eq!(le_i64(&b, 80), 47, "one descriptor used");
    let d = &b[4096..4096 + 585];
    assert_eq!(
        (le_i32(d, 0), le_u32(d, 5)),
        (0x4004, 1),
        "the partition is object 1"
    );
    assert_eq!(le_i64(d, 17), 32768);
    assert_eq!(
        le_i64(d, 33),
        32768 - 32176 + le_i64(d, 25),
        "padding from the data offset"
    );
    assert_eq!(le_i64(&b, 120), b.len() as i64 - 32176);
    assert!(b[32176..32768].iter().all(|&x| x == 0));
    extract(&w.sif, offset, &w.out);
    assert!(tree::diff(&tree::listing(&w.out, &[]), &tree::listing(&w.src, &[])).is_empty());
}

fn siftool(args: &[&str], sif: &Path) -> Output {
    support::require_tool("siftool", "siftool");
    let out = Command::new("siftool")
        .args(args)
        .arg(sif)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "siftool {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The reference implementation's own tool (sylabs/sif's `siftool`) reads
/// every object back from the file regpull wrote.
#[test]
fn siftool_reads_what_regpull_writes() {
    let w = work();
    let offset = build(&w.src, &w.sif, apptainer_objects(), "arm64") as usize;
    let b = fs::read(&w.sif).unwrap();
    let header = String::from_utf8(siftool(&["header"], &w.sif).stdout).unwrap();
    assert!(header.contains("Primary Architecture: arm64"), "{header}");
    assert_eq!(siftool(&["dump", "1"], &w.sif).stdout, DEFFILE);
    assert_eq!(siftool(&["dump", "2"], &w.sif).stdout, CONFIG);
    assert_eq!(siftool(&["dump", "3"], &w.sif).stdout, &b[offset..]);
    let info = String::from_utf8(siftool(&["info", "3"], &w.sif).stdout).unwrap();
    for fact in ["Squashfs", "*System", "arm64", "Group ID:         1"] {
        assert!(info.contains(fact), "no {fact:?} in:\n{info}");
    }
}

/// `siftool new` + `siftool add` of the same objects and squashfs, in
/// apptainer's order and group, give the same bytes, apart from what differs
/// by design: the UUID, the times, and the launch script siftool leaves out.
#[test]
fn siftool_assembles_the_same_file() {
    let w = work();
    let offset = build(&w.src, &w.sif, apptainer_objects(), "amd64") as usize;
    let ours = fs::read(&w.sif).unwrap();
    let dir = w.sif.parent().unwrap();
    let (def, cfg, fs_img) = (dir.join("def"), dir.join("cfg"), dir.join("fs"));
    fs::write(&def, DEFFILE).unwrap();
    fs::write(&cfg, CONFIG).unwrap();
    fs::write(&fs_img, &ours[offset..]).unwrap();
    let theirs = dir.join("theirs.sif");
    siftool(&["new"], &theirs);
    let add = |object: &Path, flags: &[&str]| {
        let mut args = vec!["add", "--groupid", "1"];
        args.extend_from_slice(flags);
        support::run_ok(Command::new("siftool").args(&args).arg(&theirs).arg(object));
    };
    add(&def, &["--datatype", "1", "--filename", ""]);
    add(&cfg, &["--datatype", "6", "--filename", "oci-config.json"]);
    let partition = [
        "--datatype",
        "4",
        "--partfs",
        "1",
        "--parttype",
        "2",
        "--partarch",
        "2",
    ];
    add(&fs_img, &[&partition[..], &["--filename", ""]].concat());

    let mut theirs = fs::read(&theirs).unwrap();
    assert_eq!(theirs.len(), ours.len());
    // Copy over the fields that differ by design, then demand equality.
    let mut copy = |range: std::ops::Range<usize>| {
        theirs[range.clone()].copy_from_slice(&ours[range]);
    };
    copy(0..32); // launch script
    copy(48..80); // UUID, created, modified
    for slot in 0..3 {
        let d = 4096 + slot * 585;
        copy(d + 41..d + 57); // created, modified
    }
    let differ: Vec<usize> = (0..ours.len()).filter(|&i| ours[i] != theirs[i]).collect();
    assert!(
        differ.is_empty(),
        "differs from siftool's file at {differ:?}"
    );
}

/// `regpull export IMAGE -o x.sif`: siftool sees apptainer's objects and an
/// amd64 primary partition, and the partition unsquashes to the same tree
/// as the rootfs export, runtime files included.
#[test]
fn export_writes_a_sif_whose_partition_is_the_rootfs() {
    const NAME: &str = "docker.io/library/every:1";
    const XATTRS: &[&str] = &["user.comment", "security.capability"];
    let fx = super::Fixture::new(&[(NAME, &super::images::every_case(false))]);
    let (dir, file) = (fx.path("rootfs"), fx.path("every.sif"));
    super::ok(&fx.export(NAME, &["-o", dir.to_str().unwrap(), "--format", "rootfs"]));
    let said = super::ok(&fx.export(NAME, &["-o", file.to_str().unwrap()]));
    assert!(said.contains("as sif"), "{said}");
    let list = String::from_utf8(siftool(&["list"], &file).stdout).unwrap();
    for kind in [
        "Def.FILE",
        "JSON.Generic",
        "JSON.Labels",
        "FS (Squashfs/*System/amd64)",
    ] {
        assert!(list.contains(kind), "no {kind} in:\n{list}");
    }
    assert_eq!(
        siftool(&["dump", "1"], &file).stdout,
        b"bootstrap: docker\nfrom: docker.io/library/every:1\n\n"
    );
    let config: serde_json::Value =
        serde_json::from_slice(&siftool(&["dump", "2"], &file).stdout).unwrap();
    assert_eq!(config["Cmd"], serde_json::json!(["/bin/sh"]));
    let b = fs::read(&file).unwrap();
    let partition = le_i64(&b, 4096 + 3 * 585 + 17) as u64;
    assert_eq!(
        le_i32(&b, 4096 + 3 * 585),
        0x4004,
        "the fourth object is the partition"
    );
    let back = fx.path("extracted");
    extract(&file, partition, &back);
    let differences = tree::diff(&tree::listing(&dir, XATTRS), &tree::listing(&back, XATTRS));
    assert!(
        differences.is_empty(),
        "rootfs vs SIF partition:\n{}",
        differences.join("\n")
    );
}
