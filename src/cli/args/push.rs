//! Arguments of `regpull push`.

use std::path::PathBuf;

use clap::Args;

use super::{CredentialArgs, LayoutDir, TransportArgs};

pub const PUSH_EXAMPLES: &str = "\
Examples:
  regpull push -l ./oci alpine:3.20 reg.internal:5000/base/alpine:3.20
  regpull push -l /shared/oci --to reg.internal:5000/mirror -f images.txt
      docker.io/library/ubuntu:24.04 goes to reg.internal:5000/mirror/library/ubuntu:24.04
  regpull push -l /shared/oci --to reg.internal:5000/mirror --all --json";

#[derive(Debug, Args)]
pub struct PushArgs {
    /// `SRC DEST`: the image named SRC in the layout (as `regpull list` shows
    /// it, or as it was pulled: `alpine:3.20`) goes to the reference DEST
    /// (DEST without a tag takes SRC's). With --to: the images to push.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,

    /// Push each image to REGISTRY[/PREFIX] under its own repository path,
    /// without its source registry: docker.io/library/ubuntu:24.04 with
    /// --to reg.internal:5000/mirror goes to
    /// reg.internal:5000/mirror/library/ubuntu:24.04, keeping its tag.
    #[arg(long, value_name = "REGISTRY[/PREFIX]")]
    pub to: Option<String>,

    /// With --to: also push the images listed in LIST (`-` for stdin), a
    /// list as `regpull pull -f` reads it (platform options are ignored);
    /// may be repeated.
    #[arg(short = 'f', long = "file", value_name = "LIST", requires = "to")]
    pub file: Vec<PathBuf>,

    /// With --to: push every named image in the layout.
    #[arg(long, requires = "to")]
    pub all: bool,

    #[command(flatten)]
    pub layout: LayoutDir,

    /// How many blobs to upload at once.
    #[arg(
        short,
        long,
        env = "REGPULL_JOBS",
        default_value_t = 4,
        value_name = "N"
    )]
    pub jobs: usize,

    /// Attempts after the first for each request and each blob, on transient
    /// failures; a broken chunked upload resumes where the registry says it
    /// stands.
    #[arg(long, env = "REGPULL_RETRIES", default_value_t = 5, value_name = "N")]
    pub retries: u32,

    /// Print only the result lines.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print JSON lines on stdout instead (docs/json.md): each blob (uploaded,
    /// already there, mounted), each manifest, each image and a summary.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,
}
