//! Arguments of the commands that manage a layout: list, verify, rm, inspect.

use std::path::PathBuf;

use clap::Args;

use super::{CredentialArgs, TransportArgs};

/// `-l/--layout DIR`, for every command that works on an existing layout.
#[derive(Debug, Args)]
pub struct LayoutDir {
    /// The OCI layout directory.
    #[arg(
        short = 'l',
        long = "layout",
        env = "REGPULL_OUTPUT",
        default_value = "oci",
        value_name = "DIR"
    )]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub layout: LayoutDir,

    /// Print one JSON object per image on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check only these images, e.g. `alpine:3.20`; without any, every image and
    /// every blob file.
    #[arg(value_name = "REF")]
    pub references: Vec<String>,

    #[command(flatten)]
    pub layout: LayoutDir,

    /// Delete damaged blobs, pull the affected images again by their names into
    /// the layout (each as it was pulled: its platform or all of them, Docker
    /// media types kept or not), and verify again.
    #[arg(long)]
    pub repair: bool,

    /// Attempts after the first for each request and each blob, when repairing.
    #[arg(long, env = "REGPULL_RETRIES", default_value_t = 5, value_name = "N")]
    pub retries: u32,

    /// Print JSON lines on stdout (one per problem, then a summary), for scripts.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Images to remove, e.g. `alpine:3.20` or `nvcr.io/nvidia/tensorflow:18.08-py3`.
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,

    #[command(flatten)]
    pub layout: LayoutDir,

    /// Print one JSON object per removed image on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image, e.g. `alpine:3.20` or `localhost:5000/app@sha256:...`.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Read the image from this OCI layout instead of the registry (no network).
    #[arg(short, long = "layout", value_name = "DIR")]
    pub layout: Option<PathBuf>,

    /// The platform to describe from a multi-platform image (default: this
    /// machine's; also read from DOCKER_DEFAULT_PLATFORM, as docker does).
    #[arg(
        long,
        env = "DOCKER_DEFAULT_PLATFORM",
        value_name = "OS/ARCH[/VARIANT]"
    )]
    pub platform: Option<String>,

    /// Print one JSON object on stdout, for scripts.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,
}
