//! Arguments of `regpull export`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{CredentialArgs, LayoutDir, SourceArgs, TransportArgs};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The image, as `pull` names it: `alpine:3.20`,
    /// `nvcr.io/nvidia/pytorch:24.01-py3`, `localhost:5000/app@sha256:...`.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Where to write it: a file (squashfs, sif, archives), a directory
    /// (rootfs), or `-` for standard output (archives, e.g. `| docker load`).
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: PathBuf,

    /// What to write. Default: from OUTPUT's name (.sqsh/.squashfs/.sqfs:
    /// squashfs; .sif: sif; .tar or `-`: docker-archive).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<FormatArg>,

    #[command(flatten)]
    pub layout: LayoutDir,

    /// Whether to pull the image into the layout first: `missing` only when
    /// the layout lacks it (or its platform); `always` checks the registry as
    /// `pull` does; `never` only reads the layout (no network, no writes).
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing, value_name = "WHEN")]
    pub pull: PullPolicy,

    /// Replace OUTPUT if it exists and is not empty.
    #[arg(long)]
    pub force: bool,

    /// The squashfs compressor (squashfs and sif). gzip is in every
    /// squashfs-tools build; zstd and xz make smaller images, lzo faster ones.
    #[arg(long, value_enum, default_value_t = CompArg::Gzip, value_name = "COMP")]
    pub squashfs_comp: CompArg,

    /// The platform to export from a multi-platform image (default: this
    /// machine's; also read from DOCKER_DEFAULT_PLATFORM, as docker does).
    #[arg(
        long,
        env = "DOCKER_DEFAULT_PLATFORM",
        value_name = "OS/ARCH[/VARIANT]"
    )]
    pub platform: Option<String>,

    /// How many blobs to download at once, when pulling.
    #[arg(
        short,
        long,
        env = "REGPULL_JOBS",
        default_value_t = 4,
        value_name = "N"
    )]
    pub jobs: usize,

    /// Attempts after the first for each request and each blob, when pulling.
    #[arg(long, env = "REGPULL_RETRIES", default_value_t = 5, value_name = "N")]
    pub retries: u32,

    /// Print only the result line (on stderr: stdout may carry the archive).
    #[arg(short, long)]
    pub quiet: bool,

    /// Print JSON lines on stdout (docs/json.md): each layer unpacked and what
    /// was exported. Not with `-o -`, whose stdout is the archive.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,

    #[command(flatten)]
    pub sources: SourceArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// A directory holding the root filesystem (for chroot, apptainer sandboxes).
    Rootfs,
    /// A squashfs image for `enroot create` and `apptainer exec`.
    Squashfs,
    /// A Singularity Image Format file for `apptainer run/exec`.
    Sif,
    /// A tar for `docker load` and `skopeo copy docker-archive:`.
    DockerArchive,
    /// A tar of an OCI layout for `skopeo copy oci-archive:`.
    OciArchive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompArg {
    Gzip,
    Lzo,
    Xz,
    Zstd,
}
