//! `push --json`: the push's progress as JSON lines (docs/json.md).

use regpull::Digest;
use regpull::push::{BlobOutcome, Progress, PushError, PushedImage};
use regpull::registry::retry::Retrying;
use serde_json::json;

use crate::cli::events::failure;
use crate::cli::json::emit;
use crate::cli::{hints, report};

pub struct JsonPushEvents;

impl Progress for JsonPushEvents {
    fn credentials(&self, registry: &str, source: Option<&str>) {
        emit(&json!({"type": "credentials", "registry": registry, "source": source}));
    }

    fn retrying(&self, target: &str, r: &Retrying<'_>) {
        emit(&json!({
            "type": "retry",
            "reference": target,
            "what": r.what,
            "attempt": r.attempt,
            "retries": r.retries,
            "reason": report::chain(r.error).join(": "),
            "status": r.error.status(),
            "delay_ms": r.delay.as_millis() as u64,
        }));
    }

    fn blob_started(&self, repository: &str, digest: &Digest, size: u64, chunked: bool) {
        emit(&json!({
            "type": "push_blob_start",
            "repository": repository,
            "digest": digest.to_string(),
            "size": size,
            "chunked": chunked,
        }));
    }

    fn blob_finished(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        outcome: BlobOutcome,
        sent: u64,
        from: Option<&str>,
    ) {
        let mut event = json!({
            "repository": repository,
            "digest": digest.to_string(),
            "size": size,
        });
        match outcome {
            BlobOutcome::Exists => event["type"] = json!("push_blob_exists"),
            BlobOutcome::Mounted => {
                event["type"] = json!("push_blob_mounted");
                event["from"] = json!(from);
            }
            BlobOutcome::Uploaded => {
                event["type"] = json!("push_blob_done");
                event["sent"] = json!(sent);
            }
        }
        emit(&event);
    }

    fn manifest_finished(&self, target: &str, digest: &Digest, media_type: &str, pushed: bool) {
        emit(&json!({
            "type": "push_manifest",
            "target": target,
            "digest": digest.to_string(),
            "media_type": media_type,
            "pushed": pushed,
        }));
    }

    fn image_done(&self, image: &PushedImage) {
        emit(&json!({
            "type": "push_image_done",
            "name": image.name,
            "target": image.target,
            "digest": image.digest.to_string(),
            "media_type": image.media_type,
            "manifests": image.manifests,
            "size": image.size,
        }));
    }

    fn image_failed(&self, e: &PushError) {
        emit(&image_failed(e));
    }
}

/// `push_image_failed` for an image that could not be pushed.
pub fn image_failed(e: &PushError) -> serde_json::Value {
    let mut event = failure(
        "push_image_failed",
        e.class(),
        report::chain(e),
        hints::for_push(e),
    );
    event["name"] = json!(e.source_name);
    event["target"] = json!(e.target);
    event["registry"] = json!(e.registry);
    event["credential_source"] = json!(e.credential_source);
    event
}
