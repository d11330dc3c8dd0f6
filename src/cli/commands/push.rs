//! `regpull push SRC DEST` and `regpull push --to REGISTRY[/PREFIX] [SRC...]
//! [-f LIST] [--all]`: images of the layout into registries.

use std::process::ExitCode;
use std::time::Instant;

use oci_spec::image::Descriptor;
use regpull::layout::ref_name;
use regpull::push::{self, CHUNK_SIZE, Progress, PushOptions, PushReport, PushRequest, Silent};
use regpull::registry::retry::RetryPolicy;
use regpull::{Error, ErrorClass, ImageRef, Layout};
use serde_json::json;

use crate::cli::args::PushArgs;
use crate::cli::events::failure;
use crate::cli::image_list;
use crate::cli::push_events::JsonPushEvents;
use crate::cli::units::human_bytes;
use crate::cli::{hints, json, report, settings};

pub fn run(args: &PushArgs) -> Result<ExitCode, Error> {
    let started = Instant::now();
    if args.jobs == 0 {
        return Err(settings::usage("--jobs must be at least 1", None));
    }
    let layout_err = settings::layout_error(&args.layout.dir);
    let layout = Layout::open(&args.layout.dir).map_err(&layout_err)?;
    let (requests, bad) = match &args.to {
        None => (vec![single(args, &layout)?], Vec::new()),
        Some(to) => mirror(args, &layout, to)?,
    };
    let refs: Vec<ImageRef> = requests.iter().map(|r| r.target.clone()).collect();
    let credentials = settings::credential_chain(&args.credentials, &refs)?;
    let opts = PushOptions {
        jobs: args.jobs,
        chunk_size: CHUNK_SIZE,
        client: settings::client_options(&args.transport),
        retry: RetryPolicy {
            retries: args.retries,
            ..RetryPolicy::default()
        },
    };
    for (text, message) in &bad {
        if args.json {
            let hint = "a list line reads REF; --to needs names that are references";
            let mut event = failure(
                "push_image_failed",
                ErrorClass::Usage,
                vec![message.clone()],
                Some(hint.into()),
            );
            event["name"] = json!(text);
            for absent in ["target", "registry", "credential_source"] {
                event[absent] = serde_json::Value::Null;
            }
            json::emit(&event);
        }
    }
    let events = JsonPushEvents;
    let progress: &dyn Progress = if args.json { &events } else { &Silent };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let report = runtime
        .block_on(push::push(
            &layout,
            &requests,
            std::sync::Arc::new(credentials),
            &opts,
            progress,
        ))
        .map_err(&layout_err)?;
    Ok(finish(args, report, bad, started))
}

/// A name or list line that gives no image to push: (its text, why).
type BadLine = (String, String);

/// `SRC DEST`.
fn single(args: &PushArgs, layout: &Layout) -> Result<PushRequest, Error> {
    let [src, dest] = args.images.as_slice() else {
        return Err(settings::usage(
            format!(
                "push takes SRC DEST (an image of the layout and where it goes), not {} names",
                args.images.len()
            ),
            Some(
                "e.g. regpull push -l ./oci alpine:3.20 reg.internal:5000/base/alpine:3.20; many images: --to REGISTRY[/PREFIX]",
            ),
        ));
    };
    let (name, descriptor) = find_all(layout, &args.layout.dir, std::slice::from_ref(src))?
        .pop()
        .expect("one name found");
    let mut target = ImageRef::parse(dest)?;
    if target.tag().is_none() && target.digest().is_none() {
        // DEST without a tag takes SRC's, as `docker tag` users expect of a copy.
        if let Some(tag) = ImageRef::parse(&name)
            .ok()
            .and_then(|s| s.tag().map(str::to_string))
        {
            target = ImageRef::parse(&format!("{dest}:{tag}"))?;
        }
    }
    Ok(PushRequest {
        name,
        descriptor,
        target,
    })
}

/// `--to REGISTRY[/PREFIX]` with names, lists and `--all`; the lines of a
/// list that name no image come back apart, as (line, message).
fn mirror(
    args: &PushArgs,
    layout: &Layout,
    to: &str,
) -> Result<(Vec<PushRequest>, Vec<BadLine>), Error> {
    let to = to.trim_end_matches('/');
    let host = to.split('/').next().unwrap_or_default();
    if !(host.contains(['.', ':']) || host == "localhost") {
        return Err(settings::usage(
            format!("--to {to:?} does not start with a registry host"),
            Some("e.g. --to reg.internal:5000/mirror or --to localhost:5000"),
        ));
    }
    let mut names = args.images.clone();
    let mut bad = Vec::new();
    for path in &args.file {
        let source = path.display().to_string();
        let text = image_list::read(path, args.credentials.password_stdin).map_err(|e| {
            settings::usage(format!("cannot read the image list {source}: {e}"), None)
        })?;
        for entry in image_list::parse(&source, &text) {
            match entry.parsed {
                Ok(w) => names.push(w.reference.normalized()),
                Err(message) => bad.push((
                    entry.text.clone(),
                    format!("{}: {:?}: {message}", entry.origin, entry.text),
                )),
            }
        }
    }
    if args.all {
        let index = layout
            .read_index()
            .map_err(settings::layout_error(&args.layout.dir))?;
        names.extend(
            index
                .manifests()
                .iter()
                .filter_map(ref_name)
                .map(str::to_string),
        );
    }
    let mut requests: Vec<PushRequest> = Vec::new();
    for (name, descriptor) in find_all(layout, &args.layout.dir, &names)? {
        if requests.iter().any(|r| r.name == name) {
            continue;
        }
        match mirror_target(to, &name) {
            Ok(target) => requests.push(PushRequest {
                name,
                descriptor,
                target,
            }),
            Err(why) => bad.push((
                name.clone(),
                format!("{name} cannot be pushed with --to: {why}"),
            )),
        }
    }
    if requests.is_empty() && bad.is_empty() {
        return Err(settings::usage(
            "--to names no image to push",
            Some("name images, give a list with -f, or push them all with --all"),
        ));
    }
    Ok((requests, bad))
}

/// The image's repository path under the prefix, without its source
/// registry; its tag, else its digest.
fn mirror_target(to: &str, name: &str) -> Result<ImageRef, String> {
    let source = ImageRef::parse(name).map_err(|e| format!("its name is not a reference ({e})"))?;
    let mut target = format!("{to}/{}", source.repository());
    match (source.tag(), source.digest()) {
        (Some(tag), _) => target.push_str(&format!(":{tag}")),
        (None, Some(digest)) => target.push_str(&format!("@{digest}")),
        (None, None) => {}
    }
    ImageRef::parse(&target).map_err(|e| format!("{target} is not a valid reference ({e})"))
}

/// Each name's entry: its exact ref name first, else the name `pull`
/// records for it (`alpine:3.20` is docker.io/library/alpine:3.20). Names
/// the layout lacks fail the command, all of them named.
fn find_all(
    layout: &Layout,
    dir: &std::path::Path,
    names: &[String],
) -> Result<Vec<(String, Descriptor)>, Error> {
    let index = layout.read_index().map_err(settings::layout_error(dir))?;
    let lookup = |name: &str| {
        index
            .manifests()
            .iter()
            .find(|d| ref_name(d) == Some(name))
            .map(|d| (name.to_string(), d.clone()))
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for input in names {
        let normalized = ImageRef::parse(input).ok().map(|r| r.normalized());
        match lookup(input).or_else(|| normalized.and_then(|n| lookup(&n))) {
            Some(entry) => found.push(entry),
            None => missing.push(input.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::NotInLayout {
            names: missing,
            layout: dir.to_path_buf(),
        });
    }
    Ok(found)
}

/// Prints results, failures and the summary; picks the exit code.
fn finish(args: &PushArgs, report: PushReport, bad: Vec<BadLine>, started: Instant) -> ExitCode {
    for image in report.images() {
        if !args.json {
            println!("{} {}", image.target, image.digest);
        }
    }
    let mut classes = Vec::new();
    let mut failed = Vec::new();
    for (text, message) in &bad {
        eprintln!("error: {message}");
        classes.push(ErrorClass::Usage);
        failed.push(text.clone());
    }
    let pushed = report.images().count();
    let t = report.transfer;
    for e in report.results.into_iter().filter_map(Result::err) {
        classes.push(e.class());
        failed.push(e.source_name.clone());
        eprintln!("{}", report::render_parts(&e, hints::for_push(&e)));
    }
    let code = classes
        .iter()
        .find(|c| !c.is_transient())
        .or(classes.first())
        .map_or(0, |c| report::exit_code(*c));
    if args.json {
        json::emit(&json!({
            "type": "push_summary",
            "images": pushed + failed.len(),
            "pushed": pushed,
            "failed": failed,
            "uploaded_blobs": t.uploaded_blobs,
            "uploaded_bytes": t.uploaded_bytes,
            "sent_bytes": t.sent_bytes,
            "existing_blobs": t.existing_blobs,
            "existing_bytes": t.existing_bytes,
            "mounted_blobs": t.mounted_blobs,
            "mounted_bytes": t.mounted_bytes,
            "duration_ms": started.elapsed().as_millis() as u64,
            "exit_code": code,
        }));
    } else if !args.quiet {
        let failures = if failed.is_empty() {
            String::new()
        } else {
            format!("; FAILED: {}", failed.join(", "))
        };
        eprintln!(
            "pushed {pushed} of {} images from {}: uploaded {} blobs ({}), {} already there ({}), mounted {} ({}), in {:.1}s{failures}",
            pushed + failed.len(),
            args.layout.dir.display(),
            t.uploaded_blobs,
            human_bytes(t.uploaded_bytes),
            t.existing_blobs,
            human_bytes(t.existing_bytes),
            t.mounted_blobs,
            human_bytes(t.mounted_bytes),
            started.elapsed().as_secs_f64(),
        );
    }
    ExitCode::from(code)
}
