//! `regpull inspect REF`: platforms, config and layers of an image, from its
//! registry (no layer is downloaded) or, with --layout, from a local layout.

use std::process::ExitCode;
use std::sync::Arc;

use regpull::auth::RegistryName;
use regpull::pull::inspect::{Inspection, inspect, inspect_local};
use regpull::registry::Login;
use regpull::registry::retry::RetryPolicy;
use regpull::{Error, ImageRef, Layout, Platform};
use serde_json::json;

use crate::cli::args::InspectArgs;
use crate::cli::units::human_bytes;
use crate::cli::{json, settings};

pub fn run(args: &InspectArgs) -> Result<ExitCode, Error> {
    let reference = ImageRef::parse(&args.reference)?;
    let platform = match &args.platform {
        Some(p) => Platform::parse(p)?,
        None => regpull::platform::host(),
    };
    let (found, source) = match &args.layout {
        Some(dir) => {
            let layout = Layout::open(dir).map_err(|source| Error::Layout {
                path: dir.clone(),
                source,
            })?;
            let found = inspect_local(&layout, &reference, &platform)?.ok_or_else(|| {
                Error::NotInLayout {
                    names: vec![reference.normalized()],
                    layout: dir.clone(),
                }
            })?;
            (found, "layout")
        }
        None => (remote(args, &reference, &platform)?, "registry"),
    };
    if args.json {
        let mut event = serde_json::to_value(&found).expect("plain data serializes");
        event["type"] = json!("inspect");
        event["source"] = json!(source);
        json::emit(&event);
    } else {
        print_human(&found);
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks the registry, with credentials found as a pull finds them.
fn remote(
    args: &InspectArgs,
    reference: &ImageRef,
    platform: &Platform,
) -> Result<Inspection, Error> {
    let chain = settings::credential_chain(&args.credentials, std::slice::from_ref(reference))?;
    let login = Login {
        name: RegistryName::new(reference.domain()),
        keychain: Arc::new(chain),
    };
    let opts = settings::client_options(&args.transport);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let retry = RetryPolicy::default();
    Ok(runtime.block_on(inspect(reference, login, &opts, &retry, platform))?)
}

fn print_human(i: &Inspection) {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let list = |v: &Option<Vec<String>>| match v {
        Some(v) => serde_json::to_string(v).expect("strings serialize"),
        None => "-".into(),
    };
    println!("reference:    {}", i.reference);
    println!("digest:       {}", i.digest);
    println!("media type:   {}", i.media_type);
    if !i.platforms.is_empty() {
        println!("platforms:");
        let width = i
            .platforms
            .iter()
            .map(|p| p.platform.len())
            .max()
            .unwrap_or(0);
        for p in &i.platforms {
            let mark = if p.digest == i.manifest_digest {
                "  (shown below)"
            } else {
                ""
            };
            println!("  {:<width$}  {}{mark}", p.platform, p.digest);
        }
    }
    println!("platform:     {}", or_dash(&i.platform));
    println!(
        "manifest:     {} ({})",
        i.manifest_digest, i.manifest_media_type
    );
    let c = &i.config;
    println!("config:       {}", c.digest);
    let declared = [&c.os, &c.architecture, &c.variant]
        .into_iter()
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join("/");
    println!(
        "  platform:    {}",
        if declared.is_empty() { "-" } else { &declared }
    );
    println!("  created:     {}", or_dash(&c.created));
    println!("  entrypoint:  {}", list(&c.entrypoint));
    println!("  cmd:         {}", list(&c.cmd));
    println!("  working dir: {}", or_dash(&c.working_dir));
    println!("  env:{}", if c.env.is_empty() { "         -" } else { "" });
    for e in &c.env {
        println!("    {e}");
    }
    println!(
        "  labels:{}",
        if c.labels.is_empty() { "      -" } else { "" }
    );
    for (k, v) in &c.labels {
        println!("    {k}={v}");
    }
    println!("layers:");
    for l in &i.layers {
        println!("  {}  {}  {}", l.digest, human_bytes(l.size), l.media_type);
    }
    println!(
        "total size:   {} ({} bytes)",
        human_bytes(i.total_size),
        i.total_size
    );
}
