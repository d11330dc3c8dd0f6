//! Where images may come from besides their registry: mirrors and
//! pull-through caches, from the files users already have and the command
//! line (docs/mirrors.md).

use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Args, Default)]
pub struct SourceArgs {
    /// Read mirrors from this containers registries.conf only (v2 TOML:
    /// [[registry]] and [[registry.mirror]]); also $CONTAINERS_REGISTRIES_CONF.
    /// Default: ~/.config/containers/registries.conf, else
    /// /etc/containers/registries.conf, and their registries.conf.d/.
    #[arg(long, env = "REGPULL_REGISTRIES_CONF", value_name = "FILE")]
    pub registries_conf: Option<PathBuf>,

    /// containerd's per-registry hosts.toml files: DIR/HOST[:PORT]/hosts.toml,
    /// else DIR/_default/hosts.toml [default: /etc/containerd/certs.d].
    #[arg(long, env = "REGPULL_HOSTS_DIR", value_name = "DIR")]
    pub hosts_dir: Option<PathBuf>,

    /// Try MIRROR (HOST[:PORT][/PREFIX], http:// for plain HTTP) before
    /// REGISTRY (e.g. docker.io=mirror.internal:5000); may be repeated, tried
    /// in order, before the configuration files' mirrors.
    #[arg(long, value_name = "REGISTRY=MIRROR", value_parser = regpull::hosts::parse_mirror_flag)]
    pub mirror: Vec<(String, String)>,
}
