//! Which failures are worth another attempt, how long to wait before it, and
//! the one runner every registry request goes through.
//!
//! The questions are kept apart: [`classify`] looks only at what went wrong (a
//! failure is retried exactly when its [`crate::ErrorClass`] is transient, so the
//! exit code and the retries agree; the status table is
//! [`super::status::status_class`], pinned by a test here);
//! [`RetryPolicy::delay`] only decides the pause: exponential backoff with full
//! jitter, or the server's `Retry-After` (seconds or HTTP-date), never more than
//! [`MAX_RETRY_AFTER`]; [`RetryPolicy::run`] repeats an attempt under the
//! budget. Sleeping goes through [`Sleeper`] so tests never wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::RegistryError;

/// The longest a `Retry-After` is honoured: Docker Hub asks for minutes at most,
/// and a cron job would rather fail than hang for hours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Transient; wait `retry_after` if the server said so.
    Retry {
        retry_after: Option<Duration>,
    },
    Fatal,
}

/// Whether `err` may pass if the same request is made again.
pub fn classify(err: &RegistryError, now: SystemTime) -> Verdict {
    // A redirect loop or a redirect to a non-http(s) scheme will not mend
    // itself, though it is the network's class of failure.
    if let RegistryError::Connect { source, .. } = err
        && source.is_redirect()
    {
        return Verdict::Fatal;
    }
    if !err.class().is_transient() {
        return Verdict::Fatal;
    }
    let retry_after = match err {
        RegistryError::Status { retry_after, .. } => retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, now)),
        _ => None,
    };
    Verdict::Retry { retry_after }
}

/// An error that may carry a registry failure worth retrying.
pub trait Retryable {
    fn registry_error(&self) -> Option<&RegistryError>;
}

impl Retryable for RegistryError {
    fn registry_error(&self) -> Option<&RegistryError> {
        Some(self)
    }
}

/// Who hears of each retry before its pause (progress bars, `--json` events).
pub type Notice<'a> = &'a (dyn Fn(&Retrying<'_>) + Sync);

/// A [`Notice`] for callers that report retries only through the log.
pub fn unreported(_: &Retrying<'_>) {}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Waits; injected so that tests can record pauses instead of taking them.
pub trait Sleeper: Send + Sync {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Real time.
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(tokio::time::sleep(d))
    }
}

#[derive(Clone)]
pub struct RetryPolicy {
    /// Attempts after the first, per request and per blob (`--retries`).
    pub retries: u32,
    /// The first backoff; it doubles each attempt.
    pub base: Duration,
    /// The longest backoff between attempts when the server gives no Retry-After.
    pub max_backoff: Duration,
    pub sleeper: Arc<dyn Sleeper>,
}

impl std::fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("retries", &self.retries)
            .field("base", &self.base)
            .finish()
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            sleeper: Arc::new(TokioSleeper),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt` (1 for the first retry).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(d) = retry_after {
            return d.min(MAX_RETRY_AFTER);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let ceiling = exp.min(self.max_backoff);
        // Full jitter: many clients failing together do not come back together.
        ceiling.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    /// Runs `attempt` until it succeeds, fails in a way that will not pass, or
    /// the budget (`retries` attempts after the first) is spent. `what` names
    /// the request in messages (`manifest of REPO`, `blob DIGEST`).
    pub async fn run<T, E: Retryable>(
        &self,
        what: &str,
        notice: Notice<'_>,
        mut attempt: impl AsyncFnMut() -> Result<T, E>,
    ) -> Result<T, E> {
        let mut failures = 0;
        loop {
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(registry_error) = err.registry_error() else {
                return Err(err);
            };
            failures += 1;
            if !self.pause(failures, registry_error, what, notice).await {
                return Err(err);
            }
        }
    }

    /// [`RetryPolicy::run`] for a transfer that advances: `position` is where
    /// it stands (bytes verified), which each attempt moves forward. An
    /// attempt that advanced does not use up the budget, and the backoff
    /// after it starts again from its minimum: a 10 GB layer over a link that
    /// drops every few minutes finishes. Attempts that advance nothing use the
    /// budget, and two idle timeouts in a row at the same position end the
    /// transfer at once: a server that stalled at one byte twice will again.
    pub async fn run_advancing<T, E: Retryable>(
        &self,
        what: &str,
        notice: Notice<'_>,
        position: &AtomicU64,
        mut attempt: impl AsyncFnMut() -> Result<T, E>,
    ) -> Result<T, E> {
        let mut failures = 0;
        let mut stalled_at = None;
        loop {
            let before = position.load(Ordering::SeqCst);
            let err = match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let Some(registry_error) = err.registry_error() else {
                return Err(err);
            };
            let now = position.load(Ordering::SeqCst);
            if now > before {
                failures = 0;
                stalled_at = None;
            } else if registry_error.is_idle_timeout() {
                if stalled_at == Some(now) {
                    tracing::warn!("{what}: stalled twice at byte {now}; giving up");
                    return Err(err);
                }
                stalled_at = Some(now);
            }
            failures += 1;
            if !self.pause(failures, registry_error, what, notice).await {
                return Err(err);
            }
        }
    }

    /// Waits before retry `attempt` of something that failed with `err`; false
    /// when the error is fatal or the budget is spent. `notice` hears of each
    /// retry before the pause, so callers can report it.
    pub async fn pause(
        &self,
        attempt: u32,
        err: &RegistryError,
        what: &str,
        notice: Notice<'_>,
    ) -> bool {
        let Verdict::Retry { retry_after } = classify(err, SystemTime::now()) else {
            return false;
        };
        if attempt > self.retries {
            return false;
        }
        let d = self.delay(attempt, retry_after);
        tracing::warn!(
            "{what}: {err}; retry {attempt} of {} in {:.1}s",
            self.retries,
            d.as_secs_f64()
        );
        notice(&Retrying {
            what,
            attempt,
            retries: self.retries,
            error: err,
            delay: d,
        });
        self.sleeper.sleep(d).await;
        true
    }
}

/// A retry about to happen: what failed, why, and how long until the next attempt.
#[derive(Debug)]
pub struct Retrying<'a> {
    /// `manifest of REPO` or `blob DIGEST`.
    pub what: &'a str,
    /// 1 for the first retry.
    pub attempt: u32,
    /// The budget (`--retries`).
    pub retries: u32,
    pub error: &'a RegistryError,
    pub delay: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_class::ErrorClass;

    fn status(code: u16, retry_after: Option<&str>) -> RegistryError {
        RegistryError::Status {
            operation: "fetching blob".into(),
            url: "https://r/".into(),
            status: code,
            errors: Vec::new(),
            text: None,
            retry_after: retry_after.map(str::to_string),
        }
    }

    /// The one table, pinned: which statuses are retried and what each exits with.
    #[test]
    fn retries_and_exit_classes_agree_for_every_status() {
        let now = SystemTime::now();
        let mut retried = Vec::new();
        for code in 100..600u16 {
            let err = status(code, None);
            let retry = matches!(classify(&err, now), Verdict::Retry { .. });
            assert_eq!(retry, err.class().is_transient(), "{code}");
            if retry {
                retried.push(code);
            }
        }
        let server: Vec<u16> = (500..600)
            .filter(|c| ![501, 505, 511].contains(c))
            .collect();
        assert_eq!(retried, [&[408, 429][..], &server].concat());
        assert_eq!(status(404, None).class(), ErrorClass::NotFound);
        assert_eq!(status(401, None).class(), ErrorClass::Auth);
        assert_eq!(status(501, None).class(), ErrorClass::Usage);
        assert_eq!(status(503, None).class(), ErrorClass::Network);
        assert_eq!(status(429, None).class(), ErrorClass::RateLimited);
        // A token server's trouble is retried like the registry's.
        let token = |status| RegistryError::TokenRefused {
            realm: "https://auth/".into(),
            status,
            detail: None,
        };
        assert!(matches!(classify(&token(503), now), Verdict::Retry { .. }));
        assert_eq!(classify(&token(401), now), Verdict::Fatal);
        assert_eq!(token(401).class(), ErrorClass::Auth);
    }

    #[tokio::test]
    async fn the_runner_retries_transient_failures_within_the_budget() {
        use std::sync::Mutex;
        struct Recorder(Mutex<Vec<Duration>>);
        impl Sleeper for Recorder {
            fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                self.0.lock().unwrap().push(d);
                Box::pin(async {})
            }
        }
        let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
        let policy = RetryPolicy {
            retries: 2,
            sleeper: recorder.clone(),
            ..RetryPolicy::default()
        };
        let mut calls = 0;
        let r: Result<(), RegistryError> = policy
            .run("test", &unreported, async || {
                calls += 1;
                Err(status(503, None))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 3, "the first attempt and two retries");
        assert_eq!(recorder.0.lock().unwrap().len(), 2);
        let mut calls = 0;
        let r: Result<u8, RegistryError> = policy
            .run("test", &unreported, async || {
                calls += 1;
                if calls == 1 {
                    Err(status(500, None))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(r.unwrap(), 7);
        let mut calls = 0;
        let r: Result<(), RegistryError> = policy
            .run("test", &unreported, async || {
                calls += 1;
                Err(status(404, None))
            })
            .await;
        assert!(r.is_err());
        assert_eq!(calls, 1, "a 404 is not retried");
    }

    #[test]
    fn retry_after_in_seconds_and_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(
            classify(&status(429, Some("90")), now),
            Verdict::Retry {
                retry_after: Some(Duration::from_secs(90))
            }
        );
    }

    #[test]
    fn delays_grow_are_jittered_and_bounded() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = p.delay(attempt, None);
            let ceiling = p.base.saturating_mul(1 << (attempt - 1)).min(p.max_backoff);
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?}");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(600))),
            Duration::from_secs(600),
            "not capped at a few seconds"
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(86_400))),
            MAX_RETRY_AFTER
        );
    }
}
