//! `regpull export REF -o OUTPUT`: pull the image if the layout lacks it, then
//! write it as a root filesystem, squashfs, SIF or archive.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use regpull::export::{
    self, ExportError, ExportOptions, ExportProgress, ExportReport, Format, Output, SquashfsComp,
};
use regpull::layout::Check;
use regpull::pull::inspect::local_image;
use regpull::pull::{self, ImageError, ImageRequest, Progress, Silent};
use regpull::unpack::{LayerName, Ownership, UnpackProgress};
use regpull::{Error, ImageRef, Layout, Platform};
use serde_json::json;

use crate::cli::args::{CompArg, ExportArgs, FormatArg, PullPolicy};
use crate::cli::events::JsonEvents;
use crate::cli::json;
use crate::cli::settings::{self, usage};
use crate::cli::units::human_bytes;

pub fn run(args: &ExportArgs) -> Result<ExitCode, Error> {
    let reference = ImageRef::parse(&args.reference)?;
    let platform = settings::platform_or_host(args.platform.as_deref())?;
    let format = match args.format {
        Some(f) => format_of(f),
        None => Format::infer(&args.output).ok_or_else(|| {
            usage(
                format!(
                    "cannot tell the format from the name {}",
                    args.output.display()
                ),
                Some("name it .sqsh, .sif or .tar, or pass --format rootfs|squashfs|sif|docker-archive|oci-archive"),
            )
        })?,
    };
    let to_stdout = args.output.as_os_str() == "-";
    if to_stdout && !format.is_archive() {
        return Err(usage(
            format!(
                "-o - (standard output) takes only docker-archive and oci-archive, not {}",
                format.name()
            ),
            None,
        ));
    }
    if to_stdout && args.json {
        return Err(usage(
            "--json and -o - both want standard output",
            Some("write the archive to a file instead"),
        ));
    }
    let dir = &args.layout.dir;
    pull_first(args, &reference, &platform)?;
    let layout = match Layout::open(dir) {
        Ok(layout) => layout,
        // Only --pull never gets here without a layout, and must not make one.
        Err(_) if !dir.exists() => {
            return Err(Error::Export {
                name: reference.normalized(),
                source: Box::new(ExportError::NotInLayout {
                    name: reference.normalized(),
                    layout: dir.clone(),
                }),
            });
        }
        Err(e) => return Err(settings::layout_error(dir)(e)),
    };
    let opts = ExportOptions {
        format,
        output: if to_stdout {
            Output::Stdout
        } else {
            Output::Path(args.output.clone())
        },
        strict_platform: args.platform.is_some(),
        force: args.force,
        ownership: ownership(),
        squashfs_comp: comp_of(args.squashfs_comp),
        mksquashfs: PathBuf::from("mksquashfs"),
        source_date_epoch: source_date_epoch()?,
    };
    let progress = Reporter {
        json: args.json,
        quiet: args.quiet,
    };
    let mut stdout = std::io::stdout().lock();
    let report = export::export(
        &layout,
        &reference,
        &platform,
        &opts,
        &progress,
        &mut stdout,
    )
    .map_err(|e| Error::Export {
        name: reference.normalized(),
        source: Box::new(e),
    })?;
    finish(args, &report);
    Ok(ExitCode::SUCCESS)
}

/// Pulls the image into the layout when `--pull` says so.
fn pull_first(args: &ExportArgs, reference: &ImageRef, platform: &Platform) -> Result<(), Error> {
    let dir = &args.layout.dir;
    let wanted = match args.pull {
        PullPolicy::Never => false,
        PullPolicy::Always => true,
        PullPolicy::Missing => !present(args, reference, platform),
    };
    if !wanted {
        return Ok(());
    }
    if !args.quiet && !args.json {
        eprintln!("pulling {} into {}", reference.normalized(), dir.display());
    }
    let opts = settings::pull_options_for(
        args.platform.as_deref(),
        args.jobs,
        args.retries,
        &args.transport,
        &args.sources,
    )?;
    let credentials =
        settings::credential_chain(&args.credentials, std::slice::from_ref(reference))?;
    let layout = Layout::open_or_create(dir).map_err(settings::layout_error(dir))?;
    let events = args.json.then(JsonEvents::default);
    let progress: &dyn Progress = events.as_ref().map_or(&Silent as &dyn Progress, |e| e);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let request = ImageRequest {
        reference: reference.clone(),
        platform: Some(platform.clone()),
        all_platforms: false,
    };
    let report = runtime
        .block_on(pull::pull(
            &layout,
            &[request],
            Arc::new(credentials),
            &opts,
            progress,
        ))
        .map_err(|e| Error::Pull(Box::new(e)))?;
    for result in report.results {
        result.map_err(|e| Error::Pull(Box::new(e)))?;
    }
    Ok(())
}

/// Whether the layout holds the image for `platform`. Absent, an index
/// without that platform, (with `--platform`) a lone manifest for another
/// platform, or a layer blob missing (gc'd, never fetched) is not; a damaged
/// image is, and the export reports the damage.
fn present(args: &ExportArgs, reference: &ImageRef, platform: &Platform) -> bool {
    let Ok(layout) = Layout::open(&args.layout.dir) else {
        return false;
    };
    match local_image(&layout, reference, platform) {
        Ok(None) => false,
        Ok(Some(image)) => {
            let layers_there = image.inspection.layers.iter().all(|l| {
                layout
                    .has_blob(&l.digest, l.size, Check::Size)
                    .unwrap_or(true)
            });
            layers_there
                && (args.platform.is_none()
                    || image.require_platform(&layout, reference, platform).is_ok())
        }
        Err(e) => !matches!(e.pull.kind, ImageError::NoMatchingPlatform { .. }),
    }
}

fn format_of(f: FormatArg) -> Format {
    match f {
        FormatArg::Rootfs => Format::Rootfs,
        FormatArg::Squashfs => Format::Squashfs,
        FormatArg::Sif => Format::Sif,
        FormatArg::DockerArchive => Format::DockerArchive,
        FormatArg::OciArchive => Format::OciArchive,
    }
}

fn comp_of(c: CompArg) -> SquashfsComp {
    match c {
        CompArg::Gzip => SquashfsComp::Gzip,
        CompArg::Lzo => SquashfsComp::Lzo,
        CompArg::Xz => SquashfsComp::Xz,
        CompArg::Zstd => SquashfsComp::Zstd,
    }
}

/// The image's owners and devices need real root: uid 0 in the machine's own
/// user namespace. Root inside a user namespace (a rootless container, where
/// `chown` to most ids fails) exports as an unprivileged user does, as umoci
/// does ("partial rootless").
fn ownership() -> Ownership {
    let real_root = rustix::process::geteuid().is_root()
        && std::fs::read_to_string("/proc/self/uid_map")
            .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"]);
    if real_root {
        Ownership::Keep
    } else {
        Ownership::Caller
    }
}

/// `SOURCE_DATE_EPOCH`, as reproducible-builds.org defines it: decimal seconds.
fn source_date_epoch() -> Result<Option<i64>, Error> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.is_empty() => v.trim().parse().map(Some).map_err(|_| {
            usage(
                format!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds"),
                None,
            )
        }),
        _ => Ok(None),
    }
}

/// Layer-by-layer progress: lines on stderr, or JSON events.
struct Reporter {
    json: bool,
    quiet: bool,
}

impl UnpackProgress for Reporter {
    fn layer_start(&self, layer: &LayerName, size: u64) {
        if !self.json && !self.quiet {
            eprintln!(
                "unpacking layer {} of {} ({}, {})",
                layer.number,
                layer.total,
                layer.digest,
                human_bytes(size)
            );
        }
    }

    fn layer_done(&self, layer: &LayerName, uncompressed: u64) {
        if self.json {
            json::emit(&json!({
                "type": "export_layer",
                "number": layer.number,
                "total": layer.total,
                "digest": layer.digest.to_string(),
                "uncompressed": uncompressed,
            }));
        }
    }
}

impl ExportProgress for Reporter {
    fn step(&self, what: &str) {
        if !self.json && !self.quiet {
            eprintln!("{what}");
        }
    }
}

fn finish(args: &ExportArgs, r: &ExportReport) {
    let output = r
        .output
        .as_ref()
        .map_or("standard output".to_string(), |p| p.display().to_string());
    if args.json {
        let u = r.unpacked.clone().unwrap_or_default();
        json::emit(&json!({
            "type": "exported",
            "name": r.name,
            "digest": r.manifest_digest.to_string(),
            "platform": r.platform,
            "format": r.format.name(),
            "output": r.output,
            "bytes": r.bytes,
            "files": r.unpacked.as_ref().map(|_| u.files),
            "dirs": r.unpacked.as_ref().map(|_| u.dirs),
            "symlinks": r.unpacked.as_ref().map(|_| u.symlinks),
            "hardlinks": r.unpacked.as_ref().map(|_| u.hardlinks),
            "devices": r.unpacked.as_ref().map(|_| u.devices),
            "devices_skipped": r.unpacked.as_ref().map(|_| u.devices_skipped),
            "xattrs_skipped": r.unpacked.as_ref().map(|_| u.xattrs_skipped),
        }));
        return;
    }
    let mut line = format!(
        "exported {} {} ({}) to {output} as {}",
        r.name,
        r.manifest_digest,
        r.platform.as_deref().unwrap_or("-"),
        r.format.name()
    );
    if let Some(b) = r.bytes {
        line.push_str(&format!(", {}", human_bytes(b)));
    }
    eprintln!("{line}");
    if let Some(u) = &r.unpacked
        && !args.quiet
    {
        eprintln!(
            "  {} files ({}), {} directories, {} symlinks, {} hardlinks, {} devices",
            u.files,
            human_bytes(u.bytes),
            u.dirs,
            u.symlinks,
            u.hardlinks,
            u.devices
        );
        if u.devices_skipped > 0 {
            eprintln!(
                "  note: {} device nodes left out: only root can create them",
                u.devices_skipped
            );
        }
        if u.xattrs_skipped > 0 {
            eprintln!(
                "  note: {} extended attributes left out (not user.*, or refused by the filesystem)",
                u.xattrs_skipped
            );
        }
    }
}
