//! Where to fetch from: registries.conf, containerd's hosts.toml and
//! `--mirror`, read from real files in a temporary directory and resolved
//! into ordered sources.

mod cli;
mod files;
mod hosts_toml;
mod order;
mod registries_conf;

use std::path::{Path, PathBuf};

use regpull::ImageRef;
use regpull::hosts::{HostsConfig, HostsError, LoadOptions, Source};

/// A temporary machine: `home/`, `etc/containers/`, `certs.d/`.
struct Machine {
    dir: tempfile::TempDir,
    mirrors: Vec<(String, String)>,
    explicit_conf: Option<PathBuf>,
}

impl Machine {
    fn new() -> Machine {
        Machine {
            dir: tempfile::tempdir().unwrap(),
            mirrors: Vec::new(),
            explicit_conf: None,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `text` at `rel` (parents created) and returns the full path.
    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn system_conf(&self, text: &str) -> PathBuf {
        self.write("etc/containers/registries.conf", text)
    }

    fn user_conf(&self, text: &str) -> PathBuf {
        self.write("home/.config/containers/registries.conf", text)
    }

    fn hosts_toml(&self, registry_dir: &str, text: &str) -> PathBuf {
        self.write(&format!("certs.d/{registry_dir}/hosts.toml"), text)
    }

    fn mirror(mut self, registry: &str, mirror: &str) -> Machine {
        self.mirrors.push((registry.into(), mirror.into()));
        self
    }

    fn options(&self) -> LoadOptions {
        LoadOptions {
            registries_conf: self.explicit_conf.clone(),
            home: Some(self.path("home")),
            system_conf: self.path("etc/containers/registries.conf"),
            hosts_dir: Some(self.path("certs.d")),
            hosts_dir_explicit: false,
            mirrors: self.mirrors.clone(),
        }
    }

    fn try_load(&self) -> Result<HostsConfig, HostsError> {
        HostsConfig::load(&self.options())
    }

    fn load(&self) -> HostsConfig {
        self.try_load().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `host/repository` of each source for `reference`, in order.
    fn places(&self, reference: &str) -> Vec<String> {
        places(&sources(&self.load(), reference))
    }
}

fn sources(config: &HostsConfig, reference: &str) -> Vec<Source> {
    let image = ImageRef::parse(reference).unwrap();
    config.sources(&image).unwrap_or_else(|e| panic!("{e}"))
}

fn places(sources: &[Source]) -> Vec<String> {
    sources
        .iter()
        .map(|s| format!("{}/{}", s.host, s.repository))
        .collect()
}

/// The path as the messages print it.
fn shown(path: &Path) -> String {
    path.display().to_string()
}
