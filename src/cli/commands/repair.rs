//! `regpull verify --repair`: delete damaged blobs, then pull each affected
//! image again as it was pulled the first time, from what its `index.json`
//! entry recorded (`dev.regpull.source`).

use std::collections::BTreeSet;
use std::sync::Arc;

use oci_spec::image::Descriptor;
use regpull::auth::Chain;
use regpull::layout::VerifyReport;
use regpull::pull::{self, ImageRequest, PullOptions, SOURCE_ANNOTATION, Silent};
use regpull::{Error, ImageRef, Layout, Platform};
use serde_json::Value;

use crate::cli::args::{SourceArgs, VerifyArgs};
use crate::cli::{report, settings};

/// Blobs fetched at once by a repair, as `pull` defaults to.
const REPAIR_JOBS: usize = 4;

/// The suffix `pull` adds to a selection stored with Docker media types kept.
const PRESERVE_DIGESTS: &str = "+preserve-digests";

/// How an image was pulled: the request that stores it the same way again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// What the reference named when it was pulled; `None` when not recorded.
    pub digest: Option<String>,
    /// The platform chosen; `None` with `all_platforms`.
    pub platform: Option<Platform>,
    pub all_platforms: bool,
    pub preserve_digests: bool,
}

/// Deletes damaged blobs, then pulls every affected image again; returns the
/// names pulled. A failed pull is reported and leaves its problems in place.
pub fn repair(
    layout: &Layout,
    report: &VerifyReport,
    args: &VerifyArgs,
) -> Result<Vec<String>, Error> {
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let mut repaired = Vec::new();
    for (reference, desc, name) in images {
        let recorded = recorded(&desc).unwrap_or_else(|why| {
            let guess = guessed(&desc);
            eprintln!(
                "note: {name}: {why}; pulling it for {}",
                selection_text(&guess)
            );
            guess
        });
        eprintln!("pulling {name} again ({})", selection_text(&recorded));
        let opts = options(&recorded, args)?;
        let request = ImageRequest {
            reference,
            platform: recorded.platform.clone(),
            all_platforms: recorded.all_platforms,
        };
        match repull(&runtime, layout, request, &opts, credentials.clone()) {
            Ok(now) => {
                if let Some(was) = recorded.digest.filter(|was| *was != now) {
                    eprintln!("note: {name} names {now} now, not {was}: that is what was pulled");
                }
                repaired.push(name);
            }
            Err(e) => eprintln!("{}", report::render(&e)),
        }
    }
    Ok(repaired)
}

/// The request `dev.regpull.source` records: its `selection` is what `pull`
/// wrote from its options (`linux/arm64`, `all-platforms`, either followed by
/// `+preserve-digests`), and its `digest` what the reference named then.
pub fn recorded(desc: &Descriptor) -> Result<Recorded, String> {
    let text = desc
        .annotations()
        .as_ref()
        .and_then(|a| a.get(SOURCE_ANNOTATION))
        .ok_or(format!(
            "its entry has no {SOURCE_ANNOTATION} annotation (another tool or an older regpull wrote it)"
        ))?;
    let unreadable = |why: String| format!("its {SOURCE_ANNOTATION} annotation {why}");
    let source: Value =
        serde_json::from_str(text).map_err(|e| unreadable(format!("is not JSON: {e}")))?;
    let selection = source["selection"]
        .as_str()
        .ok_or_else(|| unreadable("has no selection".into()))?;
    let (platforms, preserve_digests) = match selection.strip_suffix(PRESERVE_DIGESTS) {
        Some(rest) => (rest, true),
        None => (selection, false),
    };
    let platform = match platforms {
        "all-platforms" => None,
        p => Some(
            Platform::parse(p)
                .map_err(|e| unreadable(format!("names no platform ({p:?}): {e}")))?,
        ),
    };
    Ok(Recorded {
        digest: source["digest"].as_str().map(str::to_string),
        all_platforms: platform.is_none(),
        platform,
        preserve_digests,
    })
}

/// For an entry without the annotation: what its descriptor suggests. The
/// platform it names, else this machine's; an index stays a whole index;
/// Docker media types mean they were kept.
fn guessed(desc: &Descriptor) -> Recorded {
    let media_type = desc.media_type().to_string();
    let all_platforms = media_type.contains("index") || media_type.contains("manifest.list");
    let platform = desc.platform().as_ref().map(Platform::from);
    Recorded {
        digest: None,
        platform: match all_platforms {
            true => None,
            false => Some(platform.unwrap_or_else(regpull::platform::host)),
        },
        all_platforms,
        preserve_digests: media_type.contains("docker"),
    }
}

fn selection_text(r: &Recorded) -> String {
    let platforms = match &r.platform {
        Some(p) => p.to_string(),
        None => "all platforms".to_string(),
    };
    match r.preserve_digests {
        true => format!("{platforms}, digests preserved"),
        false => platforms,
    }
}

/// `pull`'s options from verify's flags (`--retries`, `--timeout` and the
/// other connection flags) and the recorded choice.
fn options(recorded: &Recorded, args: &VerifyArgs) -> Result<PullOptions, Error> {
    // The mirrors the user's and the system's files name (no flags here).
    let sources = SourceArgs::default();
    let mut opts =
        settings::pull_options_for(None, REPAIR_JOBS, args.retries, &args.transport, &sources)?;
    if let Some(p) = &recorded.platform {
        opts.platform = p.clone();
    }
    opts.all_platforms = recorded.all_platforms;
    opts.preserve_digests = recorded.preserve_digests;
    Ok(opts)
}

/// The one call into the library's pull; returns what the reference names
/// at the registry now.
fn repull(
    runtime: &tokio::runtime::Runtime,
    layout: &Layout,
    request: ImageRequest,
    opts: &PullOptions,
    credentials: Arc<Chain>,
) -> Result<String, Error> {
    let mut report = runtime.block_on(pull::pull(
        layout,
        std::slice::from_ref(&request),
        credentials,
        opts,
        &Silent,
    ))?;
    // One request, one outcome: the image's own failure is the repair's.
    let pulled = report.results.remove(0)?;
    Ok(pulled.registry_digest.to_string())
}
