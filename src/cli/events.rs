//! `pull --json`: the pull's progress as JSON lines (docs/json.md).

use std::collections::HashMap;
use std::sync::Mutex;

use regpull::Digest;
use regpull::ErrorClass;
use regpull::pull::{ImageError, Progress, PullError, PulledImage, ResolvedImage};
use regpull::registry::retry::Retrying;
use serde_json::{Value, json};

use crate::cli::json::emit;
use crate::cli::{hints, report};

/// `blob_progress` is printed each time a blob crosses another tenth of its
/// size: a steady, bounded number of lines whatever the blob's size or speed.
const PROGRESS_STEPS: u64 = 10;

#[derive(Default)]
pub struct JsonEvents {
    /// Per blob in flight: size, bytes so far, the last step printed.
    blobs: Mutex<HashMap<Digest, (u64, u64, u64)>>,
}

impl Progress for JsonEvents {
    fn credentials(&self, registry: &str, source: Option<&str>) {
        emit(&json!({"type": "credentials", "registry": registry, "source": source}));
    }

    fn resolved(&self, image: &ResolvedImage) {
        let manifests: Vec<_> = image
            .manifests
            .iter()
            .map(|(platform, digest)| json!({"platform": platform, "digest": digest.to_string()}))
            .collect();
        emit(&json!({
            "type": "resolved",
            "reference": image.reference,
            "registry": image.registry,
            "source": image.source,
            "digest": image.digest.to_string(),
            "media_type": image.media_type,
            "manifests": manifests,
            "blobs": image.blobs,
            "size": image.blob_bytes,
        }));
    }

    fn retrying(&self, reference: &str, r: &Retrying<'_>) {
        emit(&json!({
            "type": "retry",
            "reference": reference,
            "what": r.what,
            "attempt": r.attempt,
            "retries": r.retries,
            "reason": report::chain(r.error).join(": "),
            "status": r.error.status(),
            "delay_ms": r.delay.as_millis() as u64,
        }));
    }

    fn blob_started(&self, digest: &Digest, size: u64, resumed_from: u64) {
        let step = resumed_from.saturating_mul(PROGRESS_STEPS) / size.max(1);
        self.blobs
            .lock()
            .expect("not poisoned")
            .insert(digest.clone(), (size, resumed_from, step));
        emit(&json!({
            "type": "blob_start",
            "digest": digest.to_string(),
            "size": size,
            "resumed_from": resumed_from,
        }));
    }

    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        let crossed = {
            let mut blobs = self.blobs.lock().expect("not poisoned");
            let Some((size, received, step)) = blobs.get_mut(digest) else {
                return;
            };
            *received += bytes;
            let now = (*received).min(*size).saturating_mul(PROGRESS_STEPS) / (*size).max(1);
            // The last step is blob_done's to report.
            (now > *step && now < PROGRESS_STEPS).then(|| {
                *step = now;
                (*received, *size)
            })
        };
        if let Some((received, size)) = crossed {
            emit(&json!({
                "type": "blob_progress",
                "digest": digest.to_string(),
                "bytes": received,
                "size": size,
            }));
        }
    }

    fn blob_finished(&self, digest: &Digest, size: u64, fetched: u64) {
        self.blobs.lock().expect("not poisoned").remove(digest);
        emit(&json!({
            "type": "blob_done",
            "digest": digest.to_string(),
            "size": size,
            "fetched": fetched,
        }));
    }

    fn blob_skipped(&self, digest: &Digest, size: u64) {
        emit(&json!({"type": "blob_skip", "digest": digest.to_string(), "size": size}));
    }

    fn blob_source(&self, digest: &Digest, source: &str) {
        emit(&json!({"type": "blob_source", "digest": digest.to_string(), "source": source}));
    }

    fn source_skipped(&self, source: &str, what: &str, error: &ImageError) {
        emit(&json!({
            "type": "source_skip",
            "source": source,
            "what": what,
            "reason": report::chain(error).join(": "),
            "status": error.registry_error().and_then(|e| e.status()),
        }));
    }

    fn image_done(&self, image: &PulledImage) {
        emit(&json!({
            "type": "image_done",
            "reference": image.reference,
            "name": image.name,
            "digest": image.digest.to_string(),
            "registry_digest": image.registry_digest.to_string(),
            "media_type": image.media_type,
            "platforms": image.platforms,
            "size": image.size,
        }));
    }

    fn image_failed(&self, e: &PullError) {
        let mut event = failure(
            "image_failed",
            e.class(),
            report::chain(e),
            hints::for_pull(e),
        );
        event["reference"] = json!(e.reference);
        event["registry"] = json!(e.registry);
        event["credential_source"] = json!(e.credential_source);
        emit(&event);
    }
}

/// `image_failed` for a line of an image list that names no image to pull.
pub fn line_failed(line: &str, message: &str) -> Value {
    let hint = "fix the line: it reads REF [--platform OS/ARCH[/VARIANT]] [--all-platforms]";
    let mut event = failure(
        "image_failed",
        ErrorClass::Usage,
        vec![message.to_string()],
        Some(hint.into()),
    );
    event["reference"] = json!(line);
    event["registry"] = Value::Null;
    event["credential_source"] = Value::Null;
    event
}

/// A failure of the whole command, for any `--json` command.
pub fn error_event(err: &regpull::Error) -> Value {
    failure(
        "error",
        err.class(),
        report::chain(err),
        hints::for_error(err),
    )
}

/// The fields every failure event has: what class, which exit code, the
/// message with its causes, and what to try next.
pub fn failure(kind: &str, class: ErrorClass, chain: Vec<String>, hint: Option<String>) -> Value {
    json!({
        "type": kind,
        "class": class.name(),
        "exit_code": report::exit_code(class),
        "error": chain.join(": "),
        "hint": hint,
    })
}
