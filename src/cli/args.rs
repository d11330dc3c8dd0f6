//! The command-line grammar. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod export;
mod layout;
mod push;
mod sources;
mod transport;

pub use export::{CompArg, ExportArgs, FormatArg, PullPolicy};
pub use layout::{InspectArgs, LayoutDir, ListArgs, RmArgs, VerifyArgs};
pub use push::PushArgs;
pub use sources::SourceArgs;
pub use transport::TransportArgs;

const EXAMPLES: &str = "\
Examples:
  regpull pull alpine:3.20 -o ./oci                       Docker Hub, anonymous
  regpull pull nvcr.io/nvidia/tensorflow:18.08-py3 \\
      --username '$oauthtoken' --password-stdin < ngc-key.txt       NVIDIA NGC
  aws ecr get-login-password | regpull pull \\
      123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1 --username AWS --password-stdin
  regpull pull gcr.io/proj/app:1 --username _json_key --password-file key.json
  regpull pull harbor.example.com/team/app:2 --platform linux/arm64
  regpull auth nvcr.io/nvidia/pytorch:24.01-py3           which credentials, and do they work

Credential sources, exit codes and JSON output: see docs/ in the source tree.";

const PULL_EXAMPLES: &str = "\
Examples:
  regpull pull alpine:3.20 -o ./oci
  regpull pull nvcr.io/nvidia/tensorflow:18.08-py3 --username '$oauthtoken' --password-stdin < key.txt
  regpull pull --platform linux/arm64 ghcr.io/org/app:1.2 localhost:5000/app@sha256:<digest>
  regpull pull --all-platforms quay.io/org/app:3
  regpull pull -f images.txt -o /shared/oci --json       a prefetch list, for cron";

const EXPORT_EXAMPLES: &str = "\
Examples:
  regpull export nvcr.io/nvidia/pytorch:24.01-py3 -o pytorch.sqsh     for enroot create / pyxis
  regpull export alpine:3.20 -o alpine.sif                             for apptainer run
  regpull export alpine:3.20 -o ./rootfs --format rootfs               a sandbox directory
  regpull export alpine:3.20 -o - | docker load
  regpull export -l /shared/oci --pull never app:1 -o /tmp/app.sqsh    on a node without network";

const INSPECT_EXAMPLES: &str = "\
Examples:
  regpull inspect alpine:3.20                             from the registry
  regpull inspect --platform linux/arm64 ghcr.io/org/app:1.2
  regpull inspect --layout ./oci alpine:3.20              from a local layout";

/// Pull container images from private registries into a local OCI image layout.
#[derive(Debug, Parser)]
#[command(name = "regpull", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    /// Log what regpull does to stderr: -v for steps, -vv for every request.
    /// Secrets and pre-signed URL queries are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Pull images into a local OCI image layout.
    #[command(after_help = PULL_EXAMPLES)]
    Pull(PullArgs),
    /// Write an image from the layout as something to run: a root filesystem,
    /// a squashfs (Enroot, Apptainer), a SIF, a docker-archive or an oci-archive.
    ///
    /// Pulls the image first when the layout lacks it (--pull). Unpacking
    /// applies whiteouts, keeps every path inside OUTPUT and checks each layer
    /// against the config's diff_ids; OUTPUT appears whole or not at all.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Push images from the layout to a registry, or many to a mirror (--to).
    ///
    /// Blobs the registry holds are not sent again (HEAD), blobs in another
    /// repository pushed in the same run are mounted, big ones go in chunks;
    /// manifests follow their blobs and indexes their manifests, with their
    /// exact bytes, so digests stay the same.
    #[command(after_help = push::PUSH_EXAMPLES)]
    Push(PushArgs),
    /// Check authentication for an image without pulling it.
    ///
    /// Shows which credential source answered and why the earlier ones did not,
    /// the registry's challenge (realm, service), the scope, whether a token was
    /// obtained and for how long, and whether the manifest could be read. Never
    /// prints a secret.
    Auth(AuthArgs),
    /// Verify credentials for a registry and store them as `docker login` does.
    ///
    /// Writes docker's config.json ($DOCKER_CONFIG or ~/.docker/config.json; mode
    /// 0600) or --auth-file, or hands them to the credential helper it names.
    Login(LoginArgs),
    /// Remove stored credentials for a registry.
    Logout(LogoutArgs),
    /// Delete blobs no image in the layout needs, and stale partial downloads.
    ///
    /// Waits for running pulls into the same layout, which wait for it in turn.
    /// Partial downloads younger than a day are kept so that a re-run resumes.
    Gc(GcArgs),
    /// List the images in a layout: name, digest, platforms, size, when pulled.
    List(ListArgs),
    /// Re-hash the blobs in a layout and check that every image has all it needs.
    ///
    /// Reports each missing or damaged blob with the images it breaks. Exits 0
    /// when all is well, 7 when problems remain. Safe while other regpull
    /// processes pull into the same layout.
    Verify(VerifyArgs),
    /// Remove images from a layout; `regpull gc` then frees the blobs no image needs.
    ///
    /// Names are read as `pull` records them: `alpine:3.20` removes
    /// docker.io/library/alpine:3.20. Exits 4 when a name is not in the layout
    /// (the other names are still removed).
    Rm(RmArgs),
    /// Show an image's platforms, config and layers without downloading a layer.
    ///
    /// Asks the registry (only manifests and the small config blob are fetched),
    /// or, with --layout, reads the image from a local layout instead.
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Show how regpull reads image references (registry, repository, tag, digest).
    ///
    /// Exits 0 when every name is valid, 2 when any is not.
    #[command(name = "ref")]
    Ref(RefArgs),
    /// Print a shell completion script.
    ///
    /// bash: `regpull completions bash > /etc/bash_completion.d/regpull`;
    /// zsh: into a directory on $fpath as `_regpull`;
    /// fish: `regpull completions fish > ~/.config/fish/completions/regpull.fish`.
    Completions(CompletionsArgs),
    /// Print the manual page, or write one page per command into a directory.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write regpull.1 and regpull-COMMAND.1 into DIR instead of printing regpull(1).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

impl Command {
    /// Whether the command was asked for JSON lines, so that its failure is
    /// reported as an `error` event too.
    pub fn json(&self) -> bool {
        match self {
            Command::Pull(a) => a.json,
            Command::Export(a) => a.json,
            Command::Push(a) => a.json,
            Command::Auth(a) => a.json,
            Command::Ref(a) => a.json,
            Command::Gc(a) => a.json,
            Command::List(a) => a.json,
            Command::Verify(a) => a.json,
            Command::Rm(a) => a.json,
            Command::Inspect(a) => a.json,
            Command::Login(_) | Command::Logout(_) | Command::Completions(_) | Command::Man(_) => {
                false
            }
        }
    }
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

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Images to pull, e.g. `alpine:3.20` or `nvcr.io/nvidia/tensorflow:18.08-py3`.
    /// Several images share the layout and their common blobs.
    #[arg(value_name = "REF", required_unless_present = "file")]
    pub references: Vec<String>,

    /// Also pull the images listed in LIST (`-` for stdin): one reference per
    /// line, `#` comments, and optionally `--platform OS/ARCH` or
    /// `--all-platforms` after the reference. An image that fails does not stop
    /// the others; may be repeated.
    #[arg(short = 'f', long = "file", value_name = "LIST")]
    pub file: Vec<PathBuf>,

    /// The OCI layout directory to pull into; created when missing.
    #[arg(
        short,
        long,
        env = "REGPULL_OUTPUT",
        default_value = "oci",
        value_name = "DIR"
    )]
    pub output: PathBuf,

    /// The platform to pick from a multi-platform image (default: this machine's;
    /// also read from DOCKER_DEFAULT_PLATFORM, as docker does).
    #[arg(
        long,
        env = "DOCKER_DEFAULT_PLATFORM",
        value_name = "OS/ARCH[/VARIANT]"
    )]
    pub platform: Option<String>,

    /// Keep every platform of a multi-platform image (the whole index).
    #[arg(long)]
    pub all_platforms: bool,

    /// Store Docker-typed manifests exactly as the registry sent them instead of as
    /// their OCI equivalents. umoci and skopeo 1.9 cannot read such layouts.
    #[arg(long)]
    pub preserve_digests: bool,

    /// How many blobs to download at once.
    #[arg(
        short,
        long,
        env = "REGPULL_JOBS",
        default_value_t = 4,
        value_name = "N"
    )]
    pub jobs: usize,

    /// Attempts after the first for each request and each blob, on transient
    /// failures (connection errors, timeouts, 408, 429, 5xx); a broken blob
    /// transfer resumes where it stopped, and an attempt that advanced it
    /// does not count.
    #[arg(long, env = "REGPULL_RETRIES", default_value_t = 5, value_name = "N")]
    pub retries: u32,

    /// Print only the result lines.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print JSON lines on stdout instead (docs/json.md): what was resolved,
    /// each blob, retries, each image's outcome and a summary.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub sources: SourceArgs,

    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct CredentialArgs {
    /// Registry username (NGC: `$oauthtoken`, the default for nvcr.io; ECR: `AWS`;
    /// GCR: `_json_key`). Without flags, credentials come from the environment,
    /// auth files and docker's config (see docs/credentials.md).
    #[arg(short, long)]
    pub username: Option<String>,

    /// Registry password, API key or token. Prefer --password-stdin or
    /// --password-file: arguments are visible to other users of the machine.
    #[arg(short, long)]
    pub password: Option<String>,

    /// Read the password from standard input (one trailing newline is removed).
    #[arg(long, conflicts_with_all = ["password", "password_file"])]
    pub password_stdin: bool,

    /// Read the password from FILE (one trailing newline is removed), e.g. a GCR
    /// service-account key with `--username _json_key`.
    #[arg(long, value_name = "FILE", conflicts_with = "password")]
    pub password_file: Option<PathBuf>,

    /// A docker/podman-style auth file to read first (`config.json`, `auth.json`,
    /// or a Kubernetes docker-registry secret's `.dockerconfigjson`).
    #[arg(long, env = "REGPULL_AUTH_FILE", value_name = "FILE")]
    pub auth_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuthArgs {
    /// The image to check access to, e.g. `nvcr.io/nvidia/tensorflow:18.08-py3`.
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Print one JSON object on stdout, for scripts.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,

    #[command(flatten)]
    pub sources: SourceArgs,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry, e.g. `nvcr.io`, `localhost:5000`; Docker Hub when omitted.
    #[arg(value_name = "REGISTRY", default_value = "docker.io")]
    pub registry: String,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    #[command(flatten)]
    pub transport: TransportArgs,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry; Docker Hub when omitted.
    #[arg(value_name = "REGISTRY", default_value = "docker.io")]
    pub registry: String,

    /// The auth file to edit instead of docker's config.json.
    #[arg(long, value_name = "FILE")]
    pub auth_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub layout: LayoutDir,

    /// Print one `gc` JSON event on stdout (docs/json.md).
    #[arg(long)]
    pub json: bool,
}
