//! `regpull export`: unpacking judged against umoci, the runnable formats
//! judged by the tools that read them (chroot, unsquashfs, skopeo), hostile
//! layers, unprivileged exports, and failures that must leave nothing behind.
//! One test binary with a module per concern.

#[path = "../support/mod.rs"]
mod support;

mod archives;
mod hostile;
mod images;
mod pull;
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

    /// `regpull export REF -l LAYOUT --pull never EXTRA...`.
    pub fn export(&self, reference: &str, extra: &[&str]) -> Output {
        let layout = self.layout.display().to_string();
        let mut args = vec!["export", reference, "-l", &layout, "--pull", "never"];
        args.extend_from_slice(extra);
        support::regpull(&args, None)
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
