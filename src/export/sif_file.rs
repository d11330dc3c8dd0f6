//! `--format sif`: the squashfs of the root filesystem as the primary system
//! partition of a SIF (`sif`), with the objects `apptainer build` records
//! beside it: the definition file it would have been built from, the
//! image's run config (`oci-config.json`) and its labels.
//!
//! The squashfs is written by `mksquashfs -o` straight into the output file
//! at the partition's offset, and the SIF head filled in afterwards: one
//! write of a possibly large filesystem instead of a second copy.

use std::path::Path;

use serde_json::Value;

use super::error::ExportError;
use super::image::Image;
use super::sif::{self, DataType, Object};
use super::{ExportOptions, runtime, squashfs};
use crate::digest::Digest;

/// Packs the root filesystem `rootfs` into the SIF file `out`.
pub fn build(
    rootfs: &Path,
    out: &Path,
    image: &Image,
    opts: &ExportOptions,
) -> Result<(), ExportError> {
    let config: Value = serde_json::from_slice(&image.config_bytes).unwrap_or(Value::Null);
    let run_config =
        serde_json::to_vec(config.get("config").unwrap_or(&Value::Null)).expect("JSON serializes");
    let labels = std::fs::read(rootfs.join(".singularity.d/labels.json")).map_err(
        ExportError::io("cannot read", rootfs.join(".singularity.d/labels.json")),
    )?;
    let objects = vec![
        Object {
            data_type: DataType::Deffile,
            name: String::new(),
            data: runtime::deffile(image).into_bytes(),
        },
        Object {
            data_type: DataType::GenericJson,
            name: "oci-config.json".into(),
            data: run_config,
        },
        Object {
            data_type: DataType::Labels,
            name: "labels.json".into(),
            data: labels,
        },
    ];
    let arch = image.run.arch();
    let plan = sif::plan(objects, arch).map_err(|e| ExportError::Config {
        name: image.name.clone(),
        reason: e.to_string(),
    })?;
    squashfs::build(rootfs, out, plan.partition_offset(), opts)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(out)
        .map_err(ExportError::io("cannot open", out))?;
    let len = file
        .metadata()
        .map_err(ExportError::io("cannot read", out))?
        .len();
    let partition = len.saturating_sub(plan.partition_offset());
    let (created, id) = match opts.source_date_epoch {
        // Reproducible: the time given, and an ID that depends only on the image.
        Some(t) => (
            t,
            uuid_from(&Digest::sha256_of(
                image.inspection.manifest_digest.to_string().as_bytes(),
            )),
        ),
        None => (super::runtime::now(), random_uuid()),
    };
    sif::write_head(&file, &plan, partition, created, id)
        .map_err(ExportError::io("cannot write the SIF header of", out))
}

/// An RFC 4122 version 4 UUID from the first bytes of `seed`.
fn uuid_from(seed: &Digest) -> [u8; 16] {
    let hex = seed.hex();
    let mut id = [0u8; 16];
    for (i, b) in id.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("a digest is hex");
    }
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    id
}

fn random_uuid() -> [u8; 16] {
    let mut id = [0u8; 16];
    id.iter_mut().for_each(|b| *b = fastrand::u8(..));
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    id
}
