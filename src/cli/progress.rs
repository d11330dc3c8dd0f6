//! Progress bars for a person at a terminal; silence for logs and scripts.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use regpull::Digest;
use regpull::pull::Progress;

/// One bar per blob in flight plus an overall bar, drawn on stderr.
pub struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    blobs: Mutex<HashMap<Digest, ProgressBar>>,
}

impl Bars {
    pub fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        total.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
            )
            .expect("template is valid"),
        );
        total.set_prefix("total");
        Bars {
            multi,
            total,
            blobs: Mutex::new(HashMap::new()),
        }
    }

    pub fn finish(&self) {
        self.total.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Progress for Bars {
    fn blob_started(&self, digest: &Digest, size: u64, resumed_from: u64) {
        // Started over (the server ignored Range): the same bar from the start.
        if let Some(bar) = self.blobs.lock().expect("not poisoned").get(digest) {
            self.total
                .set_position(self.total.position().saturating_sub(bar.position()));
            bar.set_position(resumed_from);
            self.total.inc(resumed_from);
            return;
        }
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec}",
            )
            .expect("template is valid"),
        );
        bar.set_prefix(digest.hex()[..12].to_string());
        bar.set_position(resumed_from);
        self.total.inc_length(size);
        self.total.inc(resumed_from);
        self.blobs
            .lock()
            .expect("not poisoned")
            .insert(digest.clone(), bar);
    }

    fn blob_advanced(&self, digest: &Digest, bytes: u64) {
        if let Some(bar) = self.blobs.lock().expect("not poisoned").get(digest) {
            bar.inc(bytes);
        }
        self.total.inc(bytes);
    }

    fn blob_finished(&self, digest: &Digest, _size: u64, _fetched: u64) {
        if let Some(bar) = self.blobs.lock().expect("not poisoned").remove(digest) {
            bar.finish_and_clear();
        }
    }
}
