//! Which failures are worth another attempt, and how long to wait before it.
//!
//! The two questions are kept apart: [`classify`] looks only at what went wrong
//! (the retried statuses are the table [`RETRIED_STATUSES`], pinned by a test);
//! [`RetryPolicy::delay`] only decides the pause: exponential backoff with full
//! jitter, or the server's `Retry-After` (seconds or HTTP-date), never more than
//! [`MAX_RETRY_AFTER`]. Sleeping goes through [`Sleeper`] so tests never wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::RegistryError;

/// Statuses that mean "try again later": timeouts, rate limits, server trouble.
pub const RETRIED_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504];

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
    match err {
        RegistryError::Connect { .. } if err.class() == crate::ErrorClass::Usage => Verdict::Fatal,
        // A redirect loop or a redirect to a non-http(s) scheme will not mend itself.
        RegistryError::Connect { source, .. } if source.is_redirect() => Verdict::Fatal,
        RegistryError::Connect { .. } | RegistryError::Body { .. } => {
            Verdict::Retry { retry_after: None }
        }
        RegistryError::Status {
            status,
            retry_after,
            ..
        } if RETRIED_STATUSES.contains(status) => Verdict::Retry {
            retry_after: retry_after
                .as_deref()
                .and_then(|v| parse_retry_after(v, now)),
        },
        RegistryError::TokenRefused { status, .. } if RETRIED_STATUSES.contains(status) => {
            Verdict::Retry { retry_after: None }
        }
        _ => Verdict::Fatal,
    }
}

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

    /// Waits before retry `attempt` of something that failed with `err`; false
    /// when the error is fatal or the budget is spent. `notice` hears of each
    /// retry before the pause, so callers can report it.
    pub async fn pause(
        &self,
        attempt: u32,
        err: &RegistryError,
        what: &str,
        notice: &(dyn Fn(&Retrying<'_>) + Sync),
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

    #[test]
    fn the_retried_statuses_are_pinned() {
        assert_eq!(RETRIED_STATUSES, &[408, 429, 500, 502, 503, 504]);
        let now = SystemTime::now();
        for code in 400..600u16 {
            let retried = matches!(classify(&status(code, None), now), Verdict::Retry { .. });
            assert_eq!(retried, RETRIED_STATUSES.contains(&code), "{code}");
        }
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
