//! `regpull rm REF...`: drop images from a layout's `index.json`.

use std::process::ExitCode;

use oci_spec::image::Descriptor;
use regpull::layout::LayoutError;
use regpull::{Error, ImageRef, Layout};
use serde_json::json;

use crate::cli::args::RmArgs;
use crate::cli::{json, settings};

pub fn run(args: &RmArgs) -> Result<ExitCode, Error> {
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let mut missing = Vec::new();
    let mut removed = 0;
    for input in &args.references {
        let Some((name, desc)) = remove(&layout, input).map_err(&layout_err)? else {
            missing.push(input.clone());
            continue;
        };
        removed += 1;
        if args.json {
            json::emit(&json!({
                "type": "removed",
                "input": input,
                "name": name,
                "digest": desc.digest().to_string(),
            }));
        } else {
            println!("removed {name} {}", desc.digest());
        }
    }
    if removed > 0 {
        eprintln!(
            "note: the blobs stay until `regpull gc --layout {}` deletes those no image needs",
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
