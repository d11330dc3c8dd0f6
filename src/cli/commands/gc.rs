//! `regpull gc`: free what the layout's images no longer need.

use std::process::ExitCode;

use regpull::{Error, Layout};

use crate::cli::args::GcArgs;
use crate::cli::commands::pull::human_bytes;

pub fn run(args: &GcArgs) -> Result<ExitCode, Error> {
    let layout_err = |source| Error::Layout {
        path: args.layout.clone(),
        source,
    };
    let layout = Layout::open(&args.layout).map_err(layout_err)?;
    let r = layout.gc().map_err(layout_err)?;
    println!(
        "removed {} unreferenced blobs ({}) and {} stale partial downloads ({}); kept {} blobs in {}",
        r.blobs_removed,
        human_bytes(r.blob_bytes),
        r.partials_removed,
        human_bytes(r.partial_bytes),
        r.kept_blobs,
        args.layout.display()
    );
    Ok(ExitCode::SUCCESS)
}
