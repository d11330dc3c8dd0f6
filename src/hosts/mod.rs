//! Where to fetch an image from: mirrors and pull-through caches named in
//! the files users already have (containers' `registries.conf`, containerd's
//! `hosts.toml`) and on the command line (`--mirror`), as an ordered list of
//! sources per reference, the upstream last. Parsing and resolving only: no
//! HTTP (`pull` walks the list, `registry` talks to one source at a time).
//!
//! docs/mirrors.md says which files are read, in which order, and which
//! fields are honoured; each file below explains its own format.

mod conf_files;
mod error;
mod hosts_dir;
mod hosts_toml;
mod mirror_flag;
mod prefix;
mod registries_conf;
mod resolve;
mod source;
mod toml_file;
mod url;

use std::path::PathBuf;

pub use error::HostsError;
pub use mirror_flag::parse_mirror_flag;
pub use source::Source;

use hosts_dir::HostsDir;
use mirror_flag::FlagMirror;
use registries_conf::RegistryTable;

/// containers' system-wide registries.conf.
pub const DEFAULT_SYSTEM_CONF: &str = "/etc/containers/registries.conf";
/// containerd's default hosts directory (its `config_path`).
pub const DEFAULT_HOSTS_DIR: &str = "/etc/containerd/certs.d";

/// Where the configuration is; the CLI fills it from flags and environment
/// (the library reads no environment variables).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// An explicit registries.conf (`--registries-conf`,
    /// `REGPULL_REGISTRIES_CONF` or `CONTAINERS_REGISTRIES_CONF`; the CLI
    /// picks): then only this file is read (no drop-ins), and it must exist.
    pub registries_conf: Option<PathBuf>,
    /// The user's home: `HOME/.config/containers/registries.conf` and
    /// `HOME/.config/containers/registries.conf.d/*.conf` are read.
    pub home: Option<PathBuf>,
    /// The system file, normally `/etc/containers/registries.conf`; its
    /// drop-in directory is the sibling `registries.conf.d/`.
    pub system_conf: PathBuf,
    /// containerd's hosts directory (`--hosts-dir`, default
    /// `/etc/containerd/certs.d`); `None` reads none.
    pub hosts_dir: Option<PathBuf>,
    /// Whether `hosts_dir` was asked for explicitly: then a missing
    /// directory is an error rather than "no hosts configured".
    pub hosts_dir_explicit: bool,
    /// `--mirror REGISTRY=MIRROR`, repeatable, in order.
    pub mirrors: Vec<(String, String)>,
}

impl Default for LoadOptions {
    /// The system locations, no home, no flags.
    fn default() -> Self {
        LoadOptions {
            registries_conf: None,
            home: None,
            system_conf: DEFAULT_SYSTEM_CONF.into(),
            hosts_dir: Some(DEFAULT_HOSTS_DIR.into()),
            hosts_dir_explicit: false,
            mirrors: Vec::new(),
        }
    }
}

/// Everything read, ready to answer [`HostsConfig::sources`] for any
/// reference. `Default` is "nothing configured": the upstream only.
#[derive(Debug, Clone, Default)]
pub struct HostsConfig {
    flag_mirrors: Vec<FlagMirror>,
    registries: Vec<RegistryTable>,
    hosts: Option<HostsDir>,
    notes: Vec<String>,
}

impl HostsConfig {
    /// Reads the flags, registries.conf files and the hosts directory.
    /// Malformed files, invalid values and a missing explicit file are
    /// errors naming the file and line; a malformed `hosts.toml` waits until
    /// a reference on its registry asks (see `hosts_dir.rs`).
    pub fn load(opts: &LoadOptions) -> Result<HostsConfig, HostsError> {
        let mut notes = Vec::new();
        let flag_mirrors = opts
            .mirrors
            .iter()
            .map(|(registry, mirror)| FlagMirror::new(registry, mirror))
            .collect::<Result<_, _>>()?;
        let registries = conf_files::load(
            opts.registries_conf.as_deref(),
            opts.home.as_deref(),
            &opts.system_conf,
            &mut notes,
        )?;
        let hosts = match &opts.hosts_dir {
            Some(dir) => HostsDir::load(dir, opts.hosts_dir_explicit, &mut notes)?,
            None => None,
        };
        Ok(HostsConfig {
            flag_mirrors,
            registries,
            hosts,
            notes,
        })
    }

    /// What `-v` may show: files read, fields ignored (with file and line),
    /// settings regpull understands but does not use.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}
