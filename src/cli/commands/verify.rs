//! `regpull verify [REF...] [--repair]`: check a layout's blobs and images, and
//! optionally mend them by deleting damaged blobs and pulling again.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

use oci_spec::image::Descriptor;
use regpull::auth::Chain;
use regpull::layout::{Problem, VerifyReport};
use regpull::pull::{self, PullOptions, Silent};
use regpull::registry::retry::RetryPolicy;
use regpull::{Error, ImageRef, Layout, Platform};
use serde_json::json;

use crate::cli::args::VerifyArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, report, settings};

/// Blobs fetched at once by a repair, as `pull` defaults to.
const REPAIR_JOBS: usize = 4;

pub fn run(args: &VerifyArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let only = selected(&layout, args)?;
    let first = layout.verify(only.as_deref()).map_err(&layout_err)?;
    let (last, repaired) = if args.repair && !first.problems.is_empty() {
        let repaired = repair(&layout, &first, args)?;
        (
            layout.verify(only.as_deref()).map_err(&layout_err)?,
            repaired,
        )
    } else {
        (first.clone(), Vec::new())
    };
    let still = |p: &Problem| last.problems.iter().any(|q| q == p);
    let new_ones = last.problems.iter().filter(|p| !first.problems.contains(p));
    let shown: Vec<(&Problem, bool)> = first
        .problems
        .iter()
        .map(|p| (p, args.repair && !still(p)))
        .chain(new_ones.map(|p| (p, false)))
        .collect();
    for (p, fixed) in &shown {
        if args.json {
            json::emit(&json!({
                "type": "problem",
                "digest": p.digest.to_string(),
                "kind": p.kind.name(),
                "detail": p.kind.to_string(),
                "images": p.images,
                "repaired": fixed,
            }));
        } else {
            let images = match p.images.is_empty() {
                true => "no image uses it".to_string(),
                false => format!("breaks {}", p.images.join(", ")),
            };
            let mark = if *fixed { " [repaired]" } else { "" };
            println!("{}: {}; {images}{mark}", p.digest, p.kind);
        }
    }
    summarize(args, &last, &repaired);
    if !last.problems.is_empty() {
        return Err(Error::LayoutDamaged {
            layout: args.layout.dir.clone(),
            problems: last.problems.len(),
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// The ref names to check, `None` for everything; every name must be in the layout.
fn selected(layout: &Layout, args: &VerifyArgs) -> Result<Option<Vec<String>>, Error> {
    if args.references.is_empty() {
        return Ok(None);
    }
    let (mut names, mut missing) = (Vec::new(), Vec::new());
    for input in &args.references {
        let normalized = ImageRef::parse(input).map(|r| r.normalized());
        let found = [Ok(input.clone()), normalized]
            .into_iter()
            .flatten()
            .find(|n| matches!(layout.find_image(n), Ok(Some(_))));
        match found {
            Some(n) => names.push(n),
            None => missing.push(input.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::NotInLayout {
            names: missing,
            layout: args.layout.dir.clone(),
        });
    }
    Ok(Some(names))
}

fn summarize(args: &VerifyArgs, r: &VerifyReport, repaired: &[String]) {
    if args.json {
        json::emit(&json!({
            "type": "verify_summary",
            "blobs_checked": r.blobs_checked,
            "bytes_checked": r.bytes_checked,
            "problems": r.problems.len(),
            "repaired": repaired,
            "ok": r.problems.is_empty(),
        }));
        return;
    }
    let verdict = match r.problems.len() {
        0 => "all good".to_string(),
        1 => "1 problem remains".to_string(),
        n => format!("{n} problems remain"),
    };
    println!(
        "checked {} blobs ({}) in {}: {verdict}",
        r.blobs_checked,
        human_bytes(r.bytes_checked),
        args.layout.dir.display()
    );
}

/// Deletes damaged blobs, then pulls every affected image again; returns the
/// names pulled. A failed pull is reported and leaves its problems in place.
fn repair(layout: &Layout, report: &VerifyReport, args: &VerifyArgs) -> Result<Vec<String>, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    for p in report.problems.iter().filter(|p| p.is_corrupt()) {
        if layout.discard_blob(&p.digest).map_err(&layout_err)? {
            eprintln!("deleted damaged blob {}", p.digest);
        }
    }
    let mut images = Vec::new();
    let names: BTreeSet<&String> = report.problems.iter().flat_map(|p| &p.images).collect();
    for name in names {
        // Unnamed entries (written by other tools) have no name to pull by.
        let (Ok(reference), Some(desc)) = (
            ImageRef::parse(name),
            layout.find_image(name).map_err(&layout_err)?,
        ) else {
            eprintln!("cannot repair {name}: it has no reference name to pull it by");
            continue;
        };
        images.push((reference, desc, name.clone()));
    }
    let refs: Vec<ImageRef> = images.iter().map(|(r, _, _)| r.clone()).collect();
    let credentials = Arc::new(settings::credential_chain(&args.credentials, &refs)?);
    let mut repaired = Vec::new();
    for (reference, desc, name) in images {
        eprintln!("pulling {name} again");
        match repull(layout, &reference, &desc, args, credentials.clone()) {
            Ok(()) => repaired.push(name),
            Err(e) => eprintln!("{}", report::render(&e)),
        }
    }
    Ok(repaired)
}

/// The one call into the library's pull, with the options the image was stored
/// with: its platform, whole indexes kept whole, Docker media types preserved.
fn repull(
    layout: &Layout,
    reference: &ImageRef,
    desc: &Descriptor,
    args: &VerifyArgs,
    credentials: Arc<Chain>,
) -> Result<(), Error> {
    let media_type = desc.media_type().to_string();
    let platform = match desc.platform() {
        Some(p) => Platform::new(
            &p.os().to_string(),
            &p.architecture().to_string(),
            p.variant().as_deref().unwrap_or_default(),
        ),
        None => regpull::platform::host(),
    };
    let opts = PullOptions {
        platform,
        all_platforms: media_type.contains("index") || media_type.contains("manifest.list"),
        preserve_digests: media_type.contains("docker"),
        jobs: REPAIR_JOBS,
        client: settings::client_options(&args.transport),
        retry: RetryPolicy::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let request = pull::ImageRequest::from(reference.clone());
    let mut report = runtime.block_on(pull::pull(
        layout,
        std::slice::from_ref(&request),
        credentials,
        &opts,
        &Silent,
    ))?;
    // One request, one outcome: the image's own failure is the repair's.
    report.results.remove(0)?;
    Ok(())
}
