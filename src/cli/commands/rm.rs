//! `regpull rm REF...`: drop images from a layout's `index.json`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use oci_spec::image::Descriptor;
use regpull::layout::LayoutError;
use regpull::{Error, ImageRef, Layout};
use serde_json::json;

use crate::cli::args::RmArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, settings};

pub fn run(args: &RmArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let mut missing = Vec::new();
    let mut removed = Vec::new();
    for input in &args.references {
        match remove(&layout, input).map_err(&layout_err)? {
            Some((name, desc)) => removed.push((input, name, desc)),
            None => missing.push(input.clone()),
        }
    }
    // Counted by the walk gc runs, after every removal: what gc would delete.
    let descs: Vec<Descriptor> = removed.iter().map(|(_, _, d)| d.clone()).collect();
    let orphaned = layout.orphaned_by(&descs).map_err(&layout_err)?;
    let mut freeable = BTreeMap::new();
    for ((input, name, desc), blobs) in removed.iter().zip(&orphaned) {
        freeable.extend(blobs.iter().map(|b| (b.digest.clone(), b.size)));
        let bytes: u64 = blobs.iter().map(|b| b.size).sum();
        if args.json {
            json::emit(&json!({
                "type": "removed",
                "input": input,
                "name": name,
                "digest": desc.digest().to_string(),
                "orphaned_blobs": blobs.len(),
                "orphaned_bytes": bytes,
            }));
        } else {
            println!("removed {name} {}", desc.digest());
        }
    }
    if !removed.is_empty() {
        eprintln!(
            "note: {} blobs ({}) no remaining image needs stay until `regpull gc --layout {}` deletes them",
            freeable.len(),
            human_bytes(freeable.values().sum()),
            args.layout.dir.display()
        );
    }
    if !missing.is_empty() {
        return Err(Error::NotInLayout {
            names: missing,
            layout: args.layout.dir.clone(),
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the entry `input` names: its exact ref name first (layouts written
/// by other tools may use short names such as `latest`), else the name `pull`
/// records for it.
fn remove(layout: &Layout, input: &str) -> Result<Option<(String, Descriptor)>, LayoutError> {
    if let Some(desc) = layout.take_image(input)? {
        return Ok(Some((input.to_string(), desc)));
    }
    let Ok(reference) = ImageRef::parse(input) else {
        return Ok(None);
    };
    let name = reference.normalized();
    Ok(layout.take_image(&name)?.map(|desc| (name, desc)))
}
