//! `regpull pull REF... [-f LIST]`: pull images into an OCI layout and say how
//! each one fared.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use regpull::pull::{self, ImageRequest, Progress, PullError, PullReport, Silent};
use regpull::{Error, ErrorClass, Layout};
use serde_json::json;

use crate::cli::args::PullArgs;
use crate::cli::events::{self, JsonEvents};
use crate::cli::image_list::{self, Entry};
use crate::cli::progress::Bars;
use crate::cli::units::human_bytes;
use crate::cli::{hints, json, report, settings};

pub fn run(args: &PullArgs) -> Result<ExitCode, Error> {
    let started = Instant::now();
    let mut entries = entries(args)?;
    image_list::check_conflicts(&mut entries);
    let requests: Vec<ImageRequest> = entries
        .iter()
        .filter(|e| !e.duplicate)
        .filter_map(|e| e.parsed.as_ref().ok())
        .map(|w| ImageRequest {
            reference: w.reference.clone(),
            platform: w.platform.clone(),
            all_platforms: w.all_platforms,
        })
        .collect();
    if entries.is_empty() && !args.quiet {
        eprintln!("note: the image lists name no image; nothing to pull");
    }
    let refs: Vec<_> = requests.iter().map(|r| r.reference.clone()).collect();
    let opts = settings::pull_options(args)?;
    let credentials = settings::credential_chain(&args.credentials, &refs)?;
    let layout = Layout::open_or_create(&args.output).map_err(|source| Error::Layout {
        path: args.output.clone(),
        source,
    })?;

    let mut bad_lines = Vec::new();
    for e in &entries {
        if let Err(message) = &e.parsed {
            let text = format!("{}: {:?}: {message}", e.origin, e.text);
            if args.json {
                json::emit(&events::line_failed(&e.text, &text));
            }
            bad_lines.push((e.text.clone(), text));
        }
    }

    let bars = (!args.quiet && std::io::stderr().is_terminal()).then(Bars::new);
    let events = args.json.then(JsonEvents::default);
    let progress: (&dyn Progress, &dyn Progress) = (
        bars.as_ref().map_or(&Silent as &dyn Progress, |b| b),
        events.as_ref().map_or(&Silent as &dyn Progress, |e| e),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = runtime.block_on(pull::pull(
        &layout,
        &requests,
        std::sync::Arc::new(credentials),
        &opts,
        &progress,
    ));
    if let Some(b) = &bars {
        b.finish();
    }
    let report = result.map_err(|e| Error::Pull(Box::new(e)))?;
    Ok(finish(args, report, bad_lines, started))
}

/// The command line's references, then each list's lines.
fn entries(args: &PullArgs) -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for r in settings::references(&args.references)? {
        entries.push(Entry {
            origin: "the command line".into(),
            text: r.to_string(),
            parsed: Ok(image_list::Wanted {
                reference: r,
                platform: None,
                all_platforms: false,
            }),
            duplicate: false,
        });
    }
    for path in &args.file {
        let source = path.display().to_string();
        let text = image_list::read(path, args.credentials.password_stdin).map_err(|e| {
            settings::usage(
                format!("cannot read the image list {source}: {e}"),
                Some("-f takes a file of references, one per line, or - for standard input"),
            )
        })?;
        entries.extend(image_list::parse(&source, &text));
    }
    Ok(entries)
}

/// Prints results, failures and the summary; picks the exit code.
fn finish(
    args: &PullArgs,
    report: PullReport,
    bad_lines: Vec<(String, String)>,
    started: Instant,
) -> ExitCode {
    for image in report.images() {
        let mut line = format!("{} {}", image.name, image.digest);
        if !image.platforms.is_empty() {
            line.push_str(&format!(" {}", image.platforms.join(",")));
        }
        if image.converted {
            line.push_str(&format!(" (registry digest {})", image.registry_digest));
        }
        if !args.json {
            println!("{line}");
        }
        if args.preserve_digests && image.media_type.contains("docker") && !args.quiet {
            eprintln!(
                "note: {} keeps its Docker media types (--preserve-digests); umoci and skopeo 1.9 cannot read it from an OCI layout",
                image.name
            );
        }
    }
    let mut classes: Vec<ErrorClass> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for (text, message) in &bad_lines {
        eprintln!("error: {message}");
        classes.push(ErrorClass::Usage);
        failed.push(text.clone());
    }
    let pulled = report.images().count();
    let t = report.transfer;
    for e in report.results.into_iter().filter_map(Result::err) {
        classes.push(e.class());
        failed.push(e.reference.clone());
        let err: &PullError = &e;
        eprintln!("{}", report::render_parts(err, hints::for_pull(&e)));
    }
    let code = exit_code(&classes);
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        json::emit(&json!({
            "type": "summary",
            "images": pulled + failed.len(),
            "pulled": pulled,
            "failed": failed,
            "fetched_blobs": t.fetched_blobs,
            "fetched_bytes": t.fetched_bytes,
            "reused_blobs": t.reused_blobs,
            "reused_bytes": t.reused_bytes,
            "duration_ms": started.elapsed().as_millis() as u64,
            "exit_code": code,
        }));
    }
    if !args.quiet && !args.json {
        let failures = if failed.is_empty() {
            String::new()
        } else {
            format!("; FAILED: {}", failed.join(", "))
        };
        eprintln!(
            "pulled {pulled} of {} images into {}: fetched {} blobs ({}), reused {} ({}), in {seconds:.1}s{failures}",
            pulled + failed.len(),
            args.output.display(),
            t.fetched_blobs,
            human_bytes(t.fetched_bytes),
            t.reused_blobs,
            human_bytes(t.reused_bytes),
        );
    }
    ExitCode::from(code)
}

/// With several failures, the first one a retry cannot mend decides, so that
/// a script retrying on 5 and 6 only does not loop on a typo.
fn exit_code(classes: &[ErrorClass]) -> u8 {
    classes
        .iter()
        .find(|c| !c.is_transient())
        .or(classes.first())
        .map_or(0, |c| report::exit_code(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_lasting_failure_decides_the_exit_code() {
        use ErrorClass::*;
        assert_eq!(exit_code(&[]), 0);
        assert_eq!(exit_code(&[Network, NotFound, Auth]), 4);
        assert_eq!(exit_code(&[RateLimited, Network]), 5);
    }
}
