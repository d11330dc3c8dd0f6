//! `regpull export`: unpacking judged against umoci, the runnable formats
//! judged by the tools that read them (chroot, unsquashfs, skopeo), hostile
//! layers, unprivileged exports, and failures that must leave nothing behind.
//! A module per concern, sharing the fixture below.

use crate::support;

mod archives;
mod failures;
mod hostile;
mod images;
mod pull;
mod rootless;
mod runtime;
mod sif;
mod squashfs;
mod unpack;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::image::TestImage;

/// A layout in a fresh temporary directory holding `images` by name.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub layout: PathBuf,
}

impl Fixture {
    pub fn new(images: &[(&str, &TestImage)]) -> Fixture {
        Fixture::new_in(&std::env::temp_dir(), images)
    }

    /// A fixture under `parent` (e.g. [`fast_tmp`]).
    pub fn new_in(parent: &Path, images: &[(&str, &TestImage)]) -> Fixture {
        let dir = tempfile::tempdir_in(parent).unwrap();
        let layout = dir.path().join("oci");
        let l = regpull::Layout::open_or_create(&layout).unwrap();
        for (name, img) in images {
            support::image::store(&l, name, img);
        }
        Fixture { dir, layout }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The arguments of `regpull export REF -l LAYOUT --pull never EXTRA...`.
    pub fn export_args(&self, reference: &str, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["export", reference, "-l"].map(String::from).to_vec();
        args.push(self.layout.display().to_string());
        args.extend(["--pull", "never"].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    /// The isolated regpull command for `export_args`.
    pub fn export_command(&self, reference: &str, extra: &[&str]) -> std::process::Command {
        support::regpull_command(&self.export_args(reference, extra))
    }

    /// Runs `export_command`, with `env` set.
    pub fn export_env(&self, reference: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.export_command(reference, extra);
        cmd.envs(env.iter().copied())
            .stdin(std::process::Stdio::null());
        cmd.output().unwrap()
    }

    /// `regpull export REF -l LAYOUT --pull never EXTRA...`.
    pub fn export(&self, reference: &str, extra: &[&str]) -> Output {
        self.export_env(reference, extra, &[])
    }
}

/// A memory-backed directory when the machine has one (`/dev/shm`): a test
/// that makes a million files measures regpull there, not the disk's
/// metadata journal.
pub fn fast_tmp() -> &'static Path {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() { shm } else { Path::new("/tmp") }
}

/// Asserts a command's success, showing its output when it failed.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        support::text(&out.stdout),
        support::text(&out.stderr)
    );
    support::text(&out.stderr)
}

/// The names of what a directory holds, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
