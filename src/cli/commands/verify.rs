//! `regpull verify [REF...] [--repair]`: check a layout's blobs and images, and
//! optionally mend them by deleting damaged blobs and pulling again.

use std::process::ExitCode;

use regpull::layout::{Problem, VerifyReport};
use regpull::{Error, ImageRef, Layout};
use serde_json::json;

use crate::cli::args::VerifyArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, settings};

pub fn run(args: &VerifyArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let only = selected(&layout, args)?;
    let first = layout.verify(only.as_deref()).map_err(&layout_err)?;
    let (last, repaired) = if args.repair && !first.problems.is_empty() {
        let repaired = super::repair::repair(&layout, &first, args)?;
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
