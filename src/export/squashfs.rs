//! `--format squashfs`: the root filesystem (with its runtime files) packed by
//! `mksquashfs` from squashfs-tools, which is what Enroot and Apptainer
//! themselves use and require, so every squashfs they can read, regpull makes.
//!
//! As root, mksquashfs records owners, devices and extended attributes as
//! the unpack left them. Unprivileged, the tree belongs to the caller and has
//! no devices; the image is then made `-all-root`, as `enroot import` makes
//! it. Two more things matter only then: mksquashfs stores a file it cannot
//! read as empty (and skips a directory it cannot list) with exit code 0, so
//! such entries are opened up for it and their real modes handed over as
//! pseudo-file definitions (`-pf`); and `-exit-on-error` turns any read
//! failure left into an error instead of a silently wrong image.
//!
//! With SOURCE_DATE_EPOCH set, mksquashfs stamps the superblock with it and
//! clamps newer times to it (squashfs-tools 4.4+), and its output does not
//! depend on the number of processors, so the same image gives the same bytes.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};

use super::error::ExportError;
use super::{ExportOptions, SquashfsComp};
use crate::unpack::Ownership;

/// The package that has `mksquashfs`, for the error when it is missing.
const PACKAGE: &str = "squashfs-tools";

/// Checks that `mksquashfs` runs, before any layer is unpacked for it.
pub fn check_tool(opts: &ExportOptions) -> Result<(), ExportError> {
    Command::new(&opts.mksquashfs)
        .arg("-version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(drop)
        .map_err(|e| spawn_error(e, opts))
}

fn spawn_error(e: std::io::Error, opts: &ExportOptions) -> ExportError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ExportError::ToolMissing {
            tool: "mksquashfs",
            package: PACKAGE,
        },
        _ => ExportError::io("cannot run", &opts.mksquashfs)(e),
    }
}

/// Packs the directory `rootfs` into `out`, at byte `offset` of the file
/// (0 for a plain squashfs; the SIF writer puts its header in front).
pub fn build(
    rootfs: &Path,
    out: &Path,
    offset: u64,
    opts: &ExportOptions,
) -> Result<(), ExportError> {
    let mut cmd = Command::new(&opts.mksquashfs);
    cmd.arg(rootfs)
        .arg(out)
        .args(["-noappend", "-no-progress", "-quiet", "-exit-on-error"])
        .args(["-comp", opts.squashfs_comp.name()]);
    if offset > 0 {
        cmd.args(["-o", &offset.to_string()]);
    }
    if opts.ownership == Ownership::Caller {
        cmd.arg("-all-root");
        let pseudo = rootfs.with_extension("pseudo");
        let lines =
            open_up_unreadable(rootfs).map_err(ExportError::io("cannot prepare", rootfs))?;
        if !lines.is_empty() {
            std::fs::write(&pseudo, lines).map_err(ExportError::io("cannot write", &pseudo))?;
            cmd.arg("-pf").arg(&pseudo);
        }
    }
    match opts.source_date_epoch {
        Some(t) => cmd.env("SOURCE_DATE_EPOCH", t.to_string()),
        None => cmd.env_remove("SOURCE_DATE_EPOCH"),
    };
    tracing::info!("running {cmd:?}");
    let output = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| spawn_error(e, opts))?;
    if !output.status.success() {
        let mut said = String::from_utf8_lossy(&output.stderr).into_owned();
        said.push_str(&String::from_utf8_lossy(&output.stdout));
        let tail: Vec<&str> = said.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(5)..].join(" / ");
        return Err(ExportError::ToolFailed {
            tool: "mksquashfs",
            status: output.status.to_string(),
            stderr: if opts.squashfs_comp != SquashfsComp::Gzip && tail.contains("ompressor") {
                format!(
                    "{tail} (this mksquashfs may lack {}; gzip is in every build)",
                    opts.squashfs_comp.name()
                )
            } else {
                tail
            },
        });
    }
    Ok(())
}

/// Gives the caller read access to files and directories the image made
/// unreadable (mode 000 `/etc/shadow`, `d-wx------` directories), and returns
/// the pseudo-file lines (`PATH m MODE 0 0`) that restore their modes in the
/// squashfs. Only a rootless tree needs this: root reads everything.
fn open_up_unreadable(rootfs: &Path) -> std::io::Result<Vec<u8>> {
    let mut lines = Vec::new();
    let mut todo = vec![rootfs.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let meta = std::fs::symlink_metadata(entry.path())?;
            let mode = meta.mode() & 0o7777;
            let need = if meta.is_dir() {
                0o500
            } else if meta.is_file() {
                0o400
            } else {
                0
            };
            if mode & need != need {
                let rel = entry
                    .path()
                    .strip_prefix(rootfs)
                    .expect("below the root")
                    .to_path_buf();
                if let Some(name) = pseudo_name(rel.as_os_str().as_bytes()) {
                    std::fs::set_permissions(
                        entry.path(),
                        std::fs::Permissions::from_mode(mode | need),
                    )?;
                    lines.write_all(&name)?;
                    writeln!(lines, " m {mode:o} 0 0")?;
                }
            }
            if meta.is_dir() {
                todo.push(entry.path());
            }
        }
    }
    Ok(lines)
}

/// A path as a pseudo-file definition names it: every byte that is not a
/// letter, digit, `/`, `.`, `-` or `_` escaped with `\`. A newline cannot be
/// written in a pseudo file at all (`None`: the entry keeps its opened-up mode).
fn pseudo_name(path: &[u8]) -> Option<Vec<u8>> {
    if path.contains(&b'\n') {
        return None;
    }
    let mut out = Vec::with_capacity(path.len() + 8);
    for &b in path {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_')) {
            out.push(b'\\');
        }
        out.push(b);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_names_escape_what_the_parser_would_split_on() {
        assert_eq!(pseudo_name(b"etc/shadow").unwrap(), b"etc/shadow");
        assert_eq!(pseudo_name(b"a b/\"q\"\\").unwrap(), b"a\\ b/\\\"q\\\"\\\\");
        assert_eq!(pseudo_name(b"x\xff").unwrap(), b"x\\\xff");
        assert_eq!(pseudo_name(b"new\nline"), None);
    }
}
