//! `regpull gc`: free what the layout's images no longer need.

use std::process::ExitCode;

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
        }));
        return Ok(ExitCode::SUCCESS);
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
    Ok(ExitCode::SUCCESS)
}
