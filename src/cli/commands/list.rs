//! `regpull list`: the images in a layout, as a table or JSON lines.

use std::process::ExitCode;

use regpull::layout::ImageInfo;
use regpull::{Error, Layout};
use serde_json::json;

use crate::cli::args::ListArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, settings};

/// Hex digits of a digest shown in the table, as docker shows image IDs.
const SHORT_DIGEST: usize = 12;

pub fn run(args: &ListArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let images = layout.images().map_err(&layout_err)?;
    if args.json {
        for image in &images {
            json::emit(&event(image));
        }
    } else if images.is_empty() {
        eprintln!("no images in {}", args.layout.dir.display());
    } else {
        print!("{}", table(&images));
        warn_incomplete(&images, args);
    }
    Ok(ExitCode::SUCCESS)
}

fn event(image: &ImageInfo) -> serde_json::Value {
    json!({
        "type": "image",
        "name": image.name,
        "digest": image.digest.to_string(),
        "media_type": image.media_type,
        "platforms": image.platforms,
        "size": image.size,
        "blobs": image.blobs,
        "missing_blobs": image.missing_blobs,
        "unreadable_documents": image.unreadable_documents,
        "pulled_at": image.pulled_at,
    })
}

/// A line on stderr for each image the walk could not see whole: its size
/// leaves out what is missing or below a document that cannot be read.
fn warn_incomplete(images: &[ImageInfo], args: &ListArgs) {
    for i in images {
        if i.missing_blobs == 0 && i.unreadable_documents == 0 {
            continue;
        }
        let count = |n: usize, what: &str| match n {
            1 => format!("1 {what}"),
            n => format!("{n} {what}s"),
        };
        eprintln!(
            "warning: {} references {} not in the layout and {} that cannot be read; \
             `regpull verify --layout {}` says which",
            i.name.as_deref().unwrap_or(&i.digest.to_string()),
            count(i.missing_blobs, "blob"),
            count(i.unreadable_documents, "document"),
            args.layout.dir.display()
        );
    }
}

/// Columns padded to their widest cell; the last one is not padded.
fn table(images: &[ImageInfo]) -> String {
    let mut rows = vec![["NAME", "DIGEST", "PLATFORMS", "SIZE", "PULLED"].map(String::from)];
    for i in images {
        rows.push([
            i.name.clone().unwrap_or_else(|| "<none>".into()),
            i.digest.hex().chars().take(SHORT_DIGEST).collect(),
            if i.platforms.is_empty() {
                "-".into()
            } else {
                i.platforms.join(",")
            },
            human_bytes(i.size),
            i.pulled_at.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| match c {
                4 => cell.clone(),
                _ => format!("{cell:<w$}", w = widths[c]),
            })
            .collect();
        out.push_str(&cells.join("  "));
        out.push('\n');
    }
    out
}
