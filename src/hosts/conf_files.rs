//! Which registries.conf files are read, in which order, and how drop-ins
//! change what came before, as containers/image does it:
//!
//! - an explicit file (`--registries-conf`, an environment variable) is the
//!   only file read, no drop-ins, and it must exist;
//! - otherwise `$HOME/.config/containers/registries.conf` when it exists,
//!   then the drop-ins of `$HOME/.config/containers/registries.conf.d/`
//!   only (the user has taken over from the system);
//! - otherwise the system file (missing is fine), then the drop-ins of its
//!   sibling `registries.conf.d/`, then the user's drop-in directory.
//!
//! Drop-ins are the `*.conf` files of a directory in name order. A drop-in's
//! `[[registry]]` replaces an earlier table with the same prefix, whole.

use std::path::{Path, PathBuf};

use super::error::HostsError;
use super::registries_conf::{self, RegistryTable};
use super::toml_file::TomlFile;

const USER_FILE: &str = ".config/containers/registries.conf";
const USER_DROP_INS: &str = ".config/containers/registries.conf.d";
const DROP_IN_DIR: &str = "registries.conf.d";

/// The merged `[[registry]]` tables of every file read.
pub(crate) fn load(
    explicit: Option<&Path>,
    home: Option<&Path>,
    system: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<RegistryTable>, HostsError> {
    if let Some(path) = explicit {
        let text = std::fs::read_to_string(path).map_err(|e| HostsError::read(path, e))?;
        notes.push(format!("read {}", path.display()));
        return registries_conf::parse(&TomlFile::new(path, text), false, notes);
    }
    let user_file = home.map(|h| h.join(USER_FILE));
    let user_drop_ins = home.map(|h| h.join(USER_DROP_INS));
    let mut tables = Vec::new();
    let mut drop_in_dirs = Vec::new();
    match user_file
        .as_deref()
        .map(TomlFile::read_if_exists)
        .transpose()?
    {
        Some(Some(file)) => {
            notes.push(format!("read {}", file.path.display()));
            tables = registries_conf::parse(&file, false, notes)?;
        }
        _ => {
            match TomlFile::read_if_exists(system)? {
                Some(file) => {
                    notes.push(format!("read {}", file.path.display()));
                    tables = registries_conf::parse(&file, false, notes)?;
                }
                None => notes.push(format!("{} does not exist", system.display())),
            }
            drop_in_dirs.push(system.with_file_name(DROP_IN_DIR));
        }
    }
    drop_in_dirs.extend(user_drop_ins);
    for dir in drop_in_dirs {
        for path in drop_ins(&dir)? {
            // A file removed since the listing is not an error.
            let Some(file) = TomlFile::read_if_exists(&path)? else {
                continue;
            };
            notes.push(format!("read {}", path.display()));
            for table in registries_conf::parse(&file, true, notes)? {
                merge(&mut tables, table, notes);
            }
        }
    }
    Ok(tables)
}

/// The `*.conf` files directly in `dir`, by name; none when it is missing.
fn drop_ins(dir: &Path) -> Result<Vec<PathBuf>, HostsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HostsError::read(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| HostsError::read(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "conf") && !path.is_dir() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn merge(tables: &mut Vec<RegistryTable>, table: RegistryTable, notes: &mut Vec<String>) {
    match tables.iter_mut().find(|t| t.prefix == table.prefix) {
        Some(old) => {
            notes.push(format!(
                "{}: prefix {:?} replaces the table at {}",
                table.origin,
                table.prefix.as_written(),
                old.origin
            ));
            *old = table;
        }
        None => tables.push(table),
    }
}
