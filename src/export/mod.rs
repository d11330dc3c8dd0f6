//! An image from the layout -> what people run: a root filesystem directory,
//! a squashfs for Enroot and Apptainer, a SIF, a docker-archive or an
//! oci-archive. One file per format; `staging` makes every output appear
//! whole or not at all; `runtime` writes the files Enroot and Apptainer read
//! to start a container.
//!
//! Uses `unpack` and `layout`; the image is read through `pull::inspect`'s
//! local reader, which chooses the platform exactly as a pull does.

mod archive;
mod docker_archive;
mod error;
mod image;
mod layer_copy;
mod oci_archive;
mod rootfs;
mod runtime;
pub mod sif;
mod sif_file;
mod squashfs;
mod staging;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use error::ExportError;
pub use image::{Image, RunConfig};

use crate::layout::Layout;
use crate::platform::Platform;
use crate::reference::ImageRef;
use crate::unpack::{Ownership, UnpackProgress, UnpackStats};
use staging::Staging;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Rootfs,
    Squashfs,
    Sif,
    DockerArchive,
    OciArchive,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Rootfs,
        Format::Squashfs,
        Format::Sif,
        Format::DockerArchive,
        Format::OciArchive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::Rootfs => "rootfs",
            Format::Squashfs => "squashfs",
            Format::Sif => "sif",
            Format::DockerArchive => "docker-archive",
            Format::OciArchive => "oci-archive",
        }
    }

    /// The format OUTPUT's name implies: `.sqsh`/`.squashfs`/`.sqfs`, `.sif`,
    /// `.tar` (a docker-archive, what `docker load` takes), `-` (standard
    /// output, a docker-archive too).
    pub fn infer(output: &Path) -> Option<Format> {
        if output.as_os_str() == "-" {
            return Some(Format::DockerArchive);
        }
        let ext = output.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "sqsh" | "squashfs" | "sqfs" => Some(Format::Squashfs),
            "sif" => Some(Format::Sif),
            "tar" => Some(Format::DockerArchive),
            _ => None,
        }
    }

    /// Whether the format is a tar stream (and may go to standard output).
    pub fn is_archive(self) -> bool {
        matches!(self, Format::DockerArchive | Format::OciArchive)
    }
}

/// Where the result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Path(PathBuf),
    /// Standard output (archives only); the caller passes the writer.
    Stdout,
}

/// squashfs compressors every squashfs-tools build can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SquashfsComp {
    Gzip,
    Lzo,
    Xz,
    Zstd,
}

impl SquashfsComp {
    pub fn name(self) -> &'static str {
        match self {
            SquashfsComp::Gzip => "gzip",
            SquashfsComp::Lzo => "lzo",
            SquashfsComp::Xz => "xz",
            SquashfsComp::Zstd => "zstd",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    pub output: Output,
    /// The platform was asked for, not this machine's by default: a lone
    /// manifest in the layout for another platform is refused, not exported.
    pub strict_platform: bool,
    /// Replace an OUTPUT that exists and is not empty.
    pub force: bool,
    /// Root: the image's owners and devices; otherwise the caller's.
    pub ownership: Ownership,
    pub squashfs_comp: SquashfsComp,
    /// The `mksquashfs` to run (a name looked up in PATH, or a path).
    pub mksquashfs: PathBuf,
    /// `SOURCE_DATE_EPOCH`: the time stamped on everything the export itself
    /// makes, for reproducible outputs.
    pub source_date_epoch: Option<i64>,
}

/// What an export made.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub name: String,
    pub manifest_digest: crate::Digest,
    pub platform: Option<String>,
    pub format: Format,
    /// The output path; `None` for standard output.
    pub output: Option<PathBuf>,
    /// What unpacking made, for the formats that hold a root filesystem.
    pub unpacked: Option<UnpackStats>,
    /// Bytes of the output file (archives, squashfs, SIF).
    pub bytes: Option<u64>,
}

/// Told how the export goes.
pub trait ExportProgress: UnpackProgress {
    /// A step that is not a layer: "building the squashfs", ...
    fn step(&self, _what: &str) {}
}

impl ExportProgress for () {}

/// Exports the image `reference` (platform `platform`) from `layout`.
/// `stdout` receives archives when the output is [`Output::Stdout`].
pub fn export(
    layout: &Layout,
    reference: &ImageRef,
    platform: &Platform,
    opts: &ExportOptions,
    progress: &dyn ExportProgress,
    stdout: &mut dyn Write,
) -> Result<ExportReport, ExportError> {
    let image = Image::load(layout, reference, platform, opts.strict_platform)?;
    let mut report = ExportReport {
        name: image.name.clone(),
        manifest_digest: image.inspection.manifest_digest.clone(),
        platform: image.inspection.platform.clone(),
        format: opts.format,
        output: match &opts.output {
            Output::Path(p) => Some(p.clone()),
            Output::Stdout => None,
        },
        unpacked: None,
        bytes: None,
    };
    if opts.format.is_archive() {
        report.bytes = Some(export_archive(layout, &image, opts, stdout)?);
        return Ok(report);
    }
    let path = match &opts.output {
        Output::Path(p) => p,
        Output::Stdout => {
            return Err(ExportError::Output {
                path: "-".into(),
                problem: format!(
                    "(standard output) takes only the archive formats, not {}",
                    opts.format.name()
                ),
            });
        }
    };
    // What would fail after the unpack fails before it.
    if matches!(opts.format, Format::Squashfs | Format::Sif) {
        squashfs::check_tool(opts)?;
    }
    let arch = image.run.arch();
    if opts.format == Format::Sif && !sif::knows_arch(arch) {
        return Err(ExportError::Unsupported {
            name: image.name.clone(),
            reason: format!(
                "SIF has no code for its architecture `{arch}`, so Apptainer could not run it"
            ),
        });
    }
    // rootfs, squashfs and sif all start from the unpacked root filesystem.
    let staging = Staging::begin(path, opts.force)?;
    let dir = staging.path("rootfs");
    report.unpacked = Some(rootfs::build(layout, &image, &dir, opts, progress)?);
    let built = match opts.format {
        Format::Squashfs => {
            progress.step("packing it with mksquashfs");
            let file = staging.path("image.sqsh");
            squashfs::build(&dir, &file, 0, opts)?;
            file
        }
        Format::Sif => {
            progress.step("packing it with mksquashfs into a SIF");
            let file = staging.path("image.sif");
            sif_file::build(&dir, &file, &image, opts)?;
            file
        }
        _ => dir,
    };
    if opts.format == Format::Rootfs {
        // Every file of the tree on disk before the name appears: one
        // syncfs, since fsyncing each of a hundred thousand files is slower.
        let root = std::fs::File::open(&built).map_err(ExportError::io("cannot open", &built))?;
        rustix::fs::syncfs(&root).map_err(|e| ExportError::io("cannot flush", &built)(e.into()))?;
    } else {
        report.bytes = Some(finish_file(&built)?);
    }
    progress.step("renaming the result into place");
    staging.commit(&built)?;
    Ok(report)
}

/// Writes a docker-archive or oci-archive to standard output, or to a file
/// that appears whole; returns its size.
fn export_archive(
    layout: &Layout,
    image: &Image,
    opts: &ExportOptions,
    stdout: &mut dyn Write,
) -> Result<u64, ExportError> {
    let write = match opts.format {
        Format::DockerArchive => docker_archive::write,
        _ => oci_archive::write,
    };
    let path = match &opts.output {
        Output::Stdout => {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout);
            let bytes = write(layout, image, &mut out)?;
            out.flush().map_err(ExportError::Write)?;
            return Ok(bytes);
        }
        Output::Path(p) => p,
    };
    let staging = Staging::begin(path, opts.force)?;
    let tmp = staging.path("archive.tar");
    let file = std::fs::File::create(&tmp).map_err(ExportError::io("cannot create", &tmp))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    write(layout, image, &mut out)?;
    out.into_inner()
        .map_err(|e| ExportError::Write(e.into_error()))?;
    let bytes = finish_file(&tmp)?;
    staging.commit(&tmp)?;
    Ok(bytes)
}

/// Flushes a finished output file to disk before it is renamed into place,
/// and returns its size.
fn finish_file(path: &Path) -> Result<u64, ExportError> {
    let file = std::fs::File::open(path).map_err(ExportError::io("cannot open", path))?;
    file.sync_all()
        .map_err(ExportError::io("cannot flush", path))?;
    Ok(file
        .metadata()
        .map_err(ExportError::io("cannot read", path))?
        .len())
}
