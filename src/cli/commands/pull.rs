//! `regpull pull REF...`: pull images into an OCI layout and print what was stored.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use regpull::pull::{self, Progress, PullReport, Silent};
use regpull::{Error, Layout};

use crate::cli::args::PullArgs;
use crate::cli::progress::Bars;
use crate::cli::settings;

pub fn run(args: &PullArgs) -> Result<ExitCode, Error> {
    let refs = settings::references(&args.references)?;
    let opts = settings::pull_options(args)?;
    let credentials = settings::credential_chain(&args.credentials, &refs)?;
    let layout = Layout::open_or_create(&args.output).map_err(|source| Error::Layout {
        path: args.output.clone(),
        source,
    })?;
    let bars = (!args.quiet && std::io::stderr().is_terminal()).then(Bars::new);
    let progress: &dyn Progress = match &bars {
        Some(b) => b,
        None => &Silent,
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = runtime.block_on(pull::pull(
        &layout,
        &refs,
        std::sync::Arc::new(credentials),
        &opts,
        progress,
    ));
    if let Some(b) = &bars {
        b.finish();
    }
    let report = result?;
    print_report(&report, args, started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

fn print_report(report: &PullReport, args: &PullArgs, seconds: f64) {
    for image in &report.images {
        let mut line = format!("{} {}", image.name, image.digest);
        if !image.platforms.is_empty() {
            line.push_str(&format!(" {}", image.platforms.join(",")));
        }
        if image.converted {
            line.push_str(&format!(" (registry digest {})", image.registry_digest));
        }
        println!("{line}");
        if args.preserve_digests && image.media_type.contains("docker") && !args.quiet {
            eprintln!(
                "note: {} keeps its Docker media types (--preserve-digests); umoci and skopeo 1.9 cannot read it from an OCI layout",
                image.name
            );
        }
    }
    if !args.quiet {
        let t = &report.transfer;
        eprintln!(
            "pulled into {}: fetched {} blobs ({}), reused {} ({}), in {seconds:.1}s",
            args.output.display(),
            t.fetched_blobs,
            human_bytes(t.fetched_bytes),
            t.reused_blobs,
            human_bytes(t.reused_bytes),
        );
    }
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
