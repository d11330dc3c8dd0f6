//! Hashes a blob written out of order as its run from byte 0 grows, on a
//! blocking thread of its own: hashing a gigabyte takes seconds, and this way
//! it overlaps the ranges still arriving instead of following them.

use std::sync::mpsc;

use tokio::task::JoinHandle;

use crate::layout::{BlobWriter, LayoutError};

/// Owns the writer while the ranges of one attempt are in flight.
pub struct Hasher {
    nudge: mpsc::Sender<()>,
    thread: JoinHandle<(BlobWriter, Result<(), LayoutError>)>,
}

impl Hasher {
    pub fn start(mut writer: BlobWriter) -> Self {
        let (nudge, nudged) = mpsc::channel::<()>();
        let thread = tokio::task::spawn_blocking(move || {
            let mut result = Ok(());
            // Each nudge says the file grew; one pass catches up with all
            // the nudges queued meanwhile.
            while nudged.recv().is_ok() {
                while nudged.try_recv().is_ok() {}
                if result.is_ok() {
                    result = writer.absorb().map(drop);
                }
            }
            if result.is_ok() {
                result = writer.absorb().map(drop);
            }
            (writer, result)
        });
        Hasher { nudge, thread }
    }

    /// Bytes were placed: hash whatever now continues the run from byte 0.
    pub fn nudge(&self) {
        // The thread only stops once we drop the sender, so this cannot fail
        // while we hold it; a failed absorb keeps receiving and ignores.
        let _ = self.nudge.send(());
    }

    /// Hashes what is left of the run from byte 0 and hands the writer back.
    pub async fn finish(self) -> (BlobWriter, Result<(), LayoutError>) {
        drop(self.nudge);
        self.thread
            .await
            .expect("the hashing thread does not panic")
    }
}
