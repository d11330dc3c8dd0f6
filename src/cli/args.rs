//! The command-line grammar. Doc comments here are the `--help` text.

use clap::{Args, Parser, Subcommand};

/// Pull container images from private registries into a local OCI image layout.
#[derive(Debug, Parser)]
#[command(name = "regpull", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show how regpull reads image references (registry, repository, tag, digest).
    ///
    /// Exits 0 when every name is valid, 2 when any is not.
    #[command(name = "ref")]
    Ref(RefArgs),
}

#[derive(Debug, Args)]
pub struct RefArgs {
    /// Image references, e.g. `ubuntu`, `nvcr.io/nvidia/tensorflow:18.08-py3`,
    /// `localhost:5000/app@sha256:...`
    #[arg(required = true, value_name = "NAME")]
    pub names: Vec<String>,

    /// Print one JSON object per name on stdout, for scripts.
    #[arg(long)]
    pub json: bool,
}
