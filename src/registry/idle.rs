//! How long a connection may stay silent (`--timeout`): one watch over the
//! wait for an answer and over every wait for a body's next bytes.
//!
//! This is ours, not reqwest's `read_timeout`, for two reasons. reqwest's
//! wait for an answer starts with the request and does not restart while the
//! request's body is still going out, so a push whose request took longer
//! than the timeout to send (a 32 MiB chunk over a link slower than about
//! 1 MB/s, at the default 30 s) failed although every byte was moving. And
//! this one reads a clock that can be injected ([`Silence`]), so a stall is
//! tested without waiting for it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use reqwest::Url;

/// What a connection is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The status line and headers, after (or while) sending the request.
    Answer,
    /// More of the body, `received` bytes of it in hand.
    Body { received: u64 },
}

/// A clock for silences: resolves once `url` has said nothing for `limit` at
/// `stage`. The real one is tokio's; tests inject a simulated one.
pub trait Silence: Send + Sync {
    fn after(
        &self,
        limit: Duration,
        url: &Url,
        stage: Stage,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The clock silences are measured with: tokio's, unless one is injected.
#[derive(Clone, Default)]
pub struct IdleClock(Option<Arc<dyn Silence>>);

impl IdleClock {
    pub fn injected(clock: Arc<dyn Silence>) -> Self {
        IdleClock(Some(clock))
    }
}

impl fmt::Debug for IdleClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "IdleClock(injected)"
        } else {
            "IdleClock(tokio)"
        })
    }
}

/// Nothing came for the whole limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silent {
    pub after: Duration,
}

/// The limit and the clock it is measured with.
#[derive(Debug, Clone)]
pub struct Idle {
    clock: IdleClock,
    limit: Duration,
}

impl Idle {
    pub fn new(clock: IdleClock, limit: Duration) -> Self {
        Idle { clock, limit }
    }

    fn timer(&self, url: &Url, stage: Stage) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        match &self.clock.0 {
            Some(clock) => clock.after(self.limit, url, stage),
            None => Box::pin(tokio::time::sleep(self.limit)),
        }
    }

    /// Waits for `answer` to `url`. While `sending` (bytes of the request's
    /// body taken so far) grows, the wait starts again: a slow upload is not
    /// a silent one. A stall is then seen between one and two limits after
    /// the last piece went out.
    pub async fn answer<T>(
        &self,
        url: &Url,
        sending: Option<&AtomicU64>,
        answer: impl Future<Output = T>,
    ) -> Result<T, Silent> {
        let mut answer = std::pin::pin!(answer);
        loop {
            let sent = sending.map(|s| s.load(Ordering::Relaxed));
            tokio::select! {
                biased;
                out = &mut answer => return Ok(out),
                () = self.timer(url, Stage::Answer) => {}
            }
            if sending.map(|s| s.load(Ordering::Relaxed)) == sent {
                return Err(Silent { after: self.limit });
            }
        }
    }

    /// Watches the reads of one response body from `url`.
    pub fn body(&self, url: &Url) -> BodyWatch {
        BodyWatch {
            idle: self.clone(),
            url: url.clone(),
            received: 0,
        }
    }
}

/// The defaults of `ClientOptions`: for a response that did not come through
/// `Http::send`, which every registry request does.
impl Default for Idle {
    fn default() -> Self {
        Idle::new(IdleClock::default(), super::transport::DEFAULT_READ_TIMEOUT)
    }
}

/// One body's reads: each wait for the next chunk may last the limit.
pub struct BodyWatch {
    idle: Idle,
    url: Url,
    received: u64,
}

impl BodyWatch {
    /// The watch over `resp`'s body: the one its request was sent under.
    pub fn of(resp: &reqwest::Response) -> Self {
        let idle = resp.extensions().get::<Idle>().cloned().unwrap_or_default();
        idle.body(resp.url())
    }

    /// The next chunk of `body` if one is ready now, without waiting.
    pub fn ready<S, B, E>(&mut self, body: &mut S) -> Option<Option<Result<B, E>>>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        use futures_util::FutureExt;
        let next = body.next().now_or_never()?;
        self.count(&next);
        Some(next)
    }

    /// The next chunk of `body`, waiting at most the limit for it.
    pub async fn next<S, B, E>(&mut self, body: &mut S) -> Result<Option<Result<B, E>>, Silent>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
    {
        let stage = Stage::Body {
            received: self.received,
        };
        let next = tokio::select! {
            biased;
            next = body.next() => next,
            () = self.idle.timer(&self.url, stage) => {
                return Err(Silent { after: self.idle.limit });
            }
        };
        self.count(&next);
        Ok(next)
    }

    fn count<B: AsRef<[u8]>, E>(&mut self, next: &Option<Result<B, E>>) {
        if let Some(Ok(chunk)) = next {
            self.received += chunk.as_ref().len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Fires each wait at once and records it.
    #[derive(Default)]
    struct Instant(Mutex<Vec<Stage>>);

    impl Silence for Instant {
        fn after(
            &self,
            _: Duration,
            _: &Url,
            stage: Stage,
        ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
            self.0.lock().unwrap().push(stage);
            Box::pin(async {})
        }
    }

    fn idle(clock: &Arc<Instant>) -> Idle {
        Idle::new(IdleClock::injected(clock.clone()), Duration::from_secs(30))
    }

    fn url() -> Url {
        Url::parse("http://r.example/v2/a/blobs/sha256:0").unwrap()
    }

    /// An upload whose bytes keep going out is waited for again; one that
    /// stopped is silent after one more limit.
    #[tokio::test]
    async fn a_wait_for_an_answer_restarts_while_the_body_goes_out() {
        let clock = Arc::new(Instant::default());
        let sent = AtomicU64::new(0);
        let answer = async {
            // Four pieces go out, one per (instant) limit, then nothing.
            for _ in 0..4 {
                sent.fetch_add(1 << 20, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
            std::future::pending::<()>().await
        };
        let out = idle(&clock).answer(&url(), Some(&sent), answer).await;
        assert_eq!(
            out,
            Err(Silent {
                after: Duration::from_secs(30)
            })
        );
        let waits = clock.0.lock().unwrap().len();
        assert_eq!(waits, 5, "one wait per piece, and the silent one");
    }

    /// A body's waits say how much of it is in hand, and a ready chunk is
    /// taken without a wait.
    #[tokio::test]
    async fn a_body_watch_counts_what_came_before_each_wait() {
        let clock = Arc::new(Instant::default());
        let mut watch = idle(&clock).body(&url());
        let chunks: Vec<Result<Vec<u8>, ()>> = vec![Ok(vec![0; 10]), Ok(vec![0; 5])];
        let mut body = futures_util::stream::iter(chunks).chain(futures_util::stream::pending());
        assert!(matches!(watch.ready(&mut body), Some(Some(Ok(c))) if c.len() == 10));
        assert!(matches!(watch.next(&mut body).await, Ok(Some(Ok(c))) if c.len() == 5));
        assert_eq!(
            watch.next(&mut body).await.err(),
            Some(Silent {
                after: Duration::from_secs(30)
            })
        );
        let waits = clock.0.lock().unwrap().clone();
        assert_eq!(
            waits,
            [Stage::Body { received: 10 }, Stage::Body { received: 15 }]
        );
    }
}
