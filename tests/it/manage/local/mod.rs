//! Managing a layout: `list`, `verify`, `rm` and `inspect --layout`, on layouts
//! built in place with several images (shared layers, an index, a pulled-at
//! annotation). The registry side is in manage/registry/.

mod inspect;
mod list;
mod rm;
mod verify;

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Output;

use regpull::Layout;
use regpull::layout::PULLED_AT_ANNOTATION;
use support::image::{self, TestImage, TestIndex};

const APP: &str = "example.com/team/app:1";
const TOOL: &str = "example.com/team/tool:2";
const MULTI: &str = "example.com/team/multi:3";

struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    layout: Layout,
    app: TestImage,
    tool: TestImage,
    multi: TestIndex,
}

/// app and tool share their first layer; multi is a 3-platform index (plus an
/// attestation entry); tool carries a pulled-at annotation.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("oci");
    let layout = Layout::open_or_create(&root).unwrap();
    let shared: &[(&str, &[u8])] = &[("etc/base", b"shared base layer")];
    let app = image::image("linux", "amd64", &[shared, &[("app", b"the app")]]);
    let tool = image::image("linux", "arm64", &[shared, &[("tool", b"the tool")]]);
    image::store(&layout, APP, &app);
    for blob in tool.blobs() {
        write_blob(&layout, blob);
    }
    let mut desc = tool.manifest.descriptor();
    desc["annotations"] = serde_json::json!({ PULLED_AT_ANNOTATION: "2024-05-01T10:00:00Z" });
    layout
        .add_image(TOOL, &serde_json::from_value(desc).unwrap())
        .unwrap();
    let multi = image::multi_platform(false);
    for (_, img) in &multi.images {
        for blob in img.blobs() {
            write_blob(&layout, blob);
        }
    }
    write_blob(&layout, &multi.index);
    layout
        .add_image(
            MULTI,
            &serde_json::from_value(multi.index.descriptor()).unwrap(),
        )
        .unwrap();
    Fixture {
        _dir: dir,
        root,
        layout,
        app,
        tool,
        multi,
    }
}

fn write_blob(layout: &Layout, blob: &image::Blob) {
    let mut w = layout
        .blob_writer(&blob.digest, Some(blob.bytes.len() as u64))
        .unwrap();
    w.write_chunk(&blob.bytes).unwrap();
    w.commit().unwrap();
}

fn run(args: &[&str], root: &Path) -> Output {
    support::regpull_command(args)
        .arg("--layout")
        .arg(root)
        .output()
        .unwrap()
}

fn size_of(blobs: &[&image::Blob]) -> u64 {
    let mut seen = std::collections::HashSet::new();
    blobs
        .iter()
        .filter(|b| seen.insert(b.digest.clone()))
        .map(|b| b.bytes.len() as u64)
        .sum()
}

fn index_blobs(idx: &TestIndex) -> Vec<&image::Blob> {
    let mut all = vec![&idx.index];
    for (_, img) in &idx.images {
        all.extend(img.blobs());
    }
    all
}
