//! The fake registry's clock for silences (regpull's `idle::Silence`), so a
//! stall is tested without waiting for it. In this world answers and bytes
//! come without delay, and time passes only where the registry has gone
//! silent for good: a wait on the body of an answer it stalled (headers sent,
//! no body byte ever) ends at once, as its limit would in real time; every
//! other wait never ends. Each ended wait is recorded, so a test can add up
//! the time the pull would have taken.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regpull::registry::idle::{Silence, Stage};
use reqwest::Url;

use super::Shared;

pub struct StallClock {
    shared: Arc<Shared>,
    /// The waits that ended: the URL's path, and the limit waited out.
    waited: Mutex<Vec<(String, Duration)>>,
}

impl StallClock {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        StallClock {
            shared,
            waited: Mutex::new(Vec::new()),
        }
    }

    /// The silences waited out, in order: path and limit.
    pub fn waited(&self) -> Vec<(String, Duration)> {
        self.waited.lock().unwrap().clone()
    }
}

impl Silence for StallClock {
    fn after(
        &self,
        limit: Duration,
        url: &Url,
        stage: Stage,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let path = url.path().to_string();
        let stalled = stage == Stage::Body { received: 0 }
            && self.shared.stalled.lock().unwrap().contains(&path);
        if stalled {
            self.waited.lock().unwrap().push((path, limit));
            Box::pin(std::future::ready(()))
        } else {
            Box::pin(std::future::pending())
        }
    }
}
