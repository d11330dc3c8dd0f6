//! `regpull gc`: free what the layout's images no longer need.

use std::process::ExitCode;

use regpull::layout::GcReport;
use regpull::{Error, Layout};

use crate::cli::args::GcArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, settings};

pub fn run(args: &GcArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let r = layout
        .gc(&|| {
            eprintln!(
                "waiting for the other regpull processes using {} (pulls, verify, gc) to finish...",
                args.layout.dir.display()
            )
        })
        .map_err(&layout_err)?;
    if args.json {
        json::emit(&serde_json::json!({
            "type": "gc",
            "layout": args.layout.dir.display().to_string(),
            "blobs_removed": r.blobs_removed,
            "blob_bytes": r.blob_bytes,
            "partials_removed": r.partials_removed,
            "partial_bytes": r.partial_bytes,
            "kept_blobs": r.kept_blobs,
            "unknown_documents": r.unknown_documents,
        }));
        return held_back(args, &r);
    }
    println!(
        "removed {} unreferenced blobs ({}) and {} stale partial downloads ({}); kept {} blobs in {}",
        r.blobs_removed,
        human_bytes(r.blob_bytes),
        r.partials_removed,
        human_bytes(r.partial_bytes),
        r.kept_blobs,
        args.layout.dir.display()
    );
    held_back(args, &r)
}

/// gc deletes no blob while an image's documents cannot all be read (any blob
/// could be one that image needs): an error, so that a cron job notices.
fn held_back(args: &GcArgs, r: &GcReport) -> Result<ExitCode, Error> {
    if r.unknown_documents.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "kept every blob: the walk could not read these documents, so it cannot tell what their images need:"
    );
    for d in &r.unknown_documents {
        eprintln!("  {d}");
    }
    Err(Error::LayoutDamaged {
        layout: args.layout.dir.clone(),
        problems: r.unknown_documents.len(),
    })
}
