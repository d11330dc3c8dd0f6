//! containerd's hosts directory (`/etc/containerd/certs.d`): one directory
//! per registry, named for its domain, each with a `hosts.toml`.
//!
//! For a registry `host:port` containerd looks for the directory
//! `host_port_` (a name every filesystem accepts), then `host:port`, then
//! `_default`, and uses the first that exists. A directory without a
//! `hosts.toml` is read the way Docker reads `certs.d`: its `*.crt` files are
//! CAs for the registry itself (client `*.cert`/`*.key` pairs get a note).
//!
//! Every directory is read when the configuration loads, so `-v` can list
//! what was found. A broken file is kept as its error and returned only to a
//! reference on that registry: a typo for one registry does not stop pulls
//! from the others (containerd, too, reads a registry's file when it is used).

use std::collections::BTreeMap;
use std::path::Path;

use super::error::HostsError;
use super::hosts_toml::{self, HostEntry, HostsFile};
use super::toml_file::TomlFile;

const DEFAULT_DIR: &str = "_default";

#[derive(Debug, Clone, Default)]
pub(crate) struct HostsDir {
    /// Each registry directory by its name, read or failed.
    dirs: BTreeMap<String, Result<HostsFile, HostsError>>,
}

impl HostsDir {
    /// Reads `root`. `None` when it does not exist and was not asked for.
    pub fn load(
        root: &Path,
        explicit: bool,
        notes: &mut Vec<String>,
    ) -> Result<Option<HostsDir>, HostsError> {
        let entries = match std::fs::read_dir(root) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                notes.push(format!("{} does not exist", root.display()));
                return Ok(None);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(HostsError::HostsDirMissing { path: root.into() });
            }
            Err(e) => return Err(HostsError::read(root, e)),
        };
        let mut dirs = BTreeMap::new();
        for entry in entries {
            let path = entry.map_err(|e| HostsError::read(root, e))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if path.is_dir() {
                let mut file_notes = Vec::new();
                let read = read_registry_dir(&path, &mut file_notes);
                match &read {
                    Ok(_) => notes.append(&mut file_notes),
                    Err(e) => notes.push(format!("{e} (an error for the registry {name} only)")),
                }
                dirs.insert(name.to_string(), read);
            }
        }
        Ok(Some(HostsDir { dirs }))
    }

    /// What the hosts directory says about registry `domain`, if anything.
    pub fn for_domain(&self, domain: &str) -> Option<Result<&HostsFile, HostsError>> {
        let candidates = [dir_name(domain), domain.to_string(), DEFAULT_DIR.into()];
        let found = candidates.iter().find_map(|c| self.dirs.get(c))?;
        Some(found.as_ref().map_err(Clone::clone))
    }
}

/// containerd's directory name for `host:port`: `host_port_`.
fn dir_name(domain: &str) -> String {
    match domain.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => format!("{host}_{port}_"),
        _ => domain.to_string(),
    }
}

fn read_registry_dir(dir: &Path, notes: &mut Vec<String>) -> Result<HostsFile, HostsError> {
    let path = dir.join("hosts.toml");
    if let Some(file) = TomlFile::read_if_exists(&path)? {
        notes.push(format!("read {}", path.display()));
        return hosts_toml::parse(&file, notes);
    }
    let (mut cas, mut clients) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir).map_err(|e| HostsError::read(dir, e))? {
        let path = entry.map_err(|e| HostsError::read(dir, e))?.path();
        match path.extension().and_then(|x| x.to_str()) {
            Some("crt") => cas.push(path),
            Some("cert" | "key") => clients.push(path),
            _ => {}
        }
    }
    cas.sort();
    clients.sort();
    for c in &clients {
        notes.push(format!(
            "{}: client certificates are not supported by regpull yet; ignored",
            c.display()
        ));
    }
    Ok(HostsFile {
        server: HostEntry {
            url: None,
            api_path: "/v2/".into(),
            skip_verify: false,
            ca_certs: cas,
            pull: true,
            resolve: true,
            origin: dir.display().to_string(),
        },
        hosts: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_use_containerd_directory_names() {
        assert_eq!(dir_name("localhost:5000"), "localhost_5000_");
        assert_eq!(dir_name("docker.io"), "docker.io");
    }

    #[test]
    fn the_first_existing_directory_wins() {
        let tmp = tempfile::tempdir().unwrap();
        for d in ["_default", "r.example:5000", "r.example_5000_", "plain"] {
            std::fs::create_dir(tmp.path().join(d)).unwrap();
        }
        std::fs::write(tmp.path().join("plain/ca.crt"), "pem").unwrap();
        let dir = HostsDir::load(tmp.path(), true, &mut Vec::new())
            .unwrap()
            .unwrap();
        let origin = |d: &str| dir.for_domain(d).unwrap().unwrap().server.origin.clone();
        assert!(origin("r.example:5000").ends_with("r.example_5000_"));
        assert!(origin("other.example").ends_with("_default"));
        let plain = dir.for_domain("plain").unwrap().unwrap();
        assert_eq!(plain.server.ca_certs, [tmp.path().join("plain/ca.crt")]);
    }

    #[test]
    fn a_missing_directory_is_fine_unless_asked_for() {
        let missing = Path::new("/nonexistent/regpull/certs.d");
        assert!(
            HostsDir::load(missing, false, &mut Vec::new())
                .unwrap()
                .is_none()
        );
        let e = HostsDir::load(missing, true, &mut Vec::new()).unwrap_err();
        assert!(matches!(e, HostsError::HostsDirMissing { .. }));
    }
}
