//! A connection that sends at most so many bytes a second: a token bucket per
//! accepted TCP connection. CDNs and object stores cap each connection, not
//! each response and not the whole server, which is why a client that opens
//! several connections (parallel ranges) goes faster; the cap sits on the
//! socket, so headers and keep-alive reuse count against it as they would
//! there. Reads are not capped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The bucket's size for a cap: 50 ms worth of bytes (64 KiB at least). Timers
/// are coarse (a millisecond or more, later on a busy machine), so a smaller
/// bucket would overflow between wake-ups and send less than the cap. Any
/// stretch of `t` seconds sends at most `burst + cap * t` bytes.
pub fn burst(bytes_per_second: u64) -> u64 {
    (bytes_per_second / 20).max(64 << 10)
}

struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    wait: Option<Pin<Box<Sleep>>>,
}

impl Bucket {
    fn new(bytes_per_second: u64) -> Self {
        Bucket {
            rate: bytes_per_second as f64,
            burst: burst(bytes_per_second) as f64,
            // Empty at first: a new connection gets no head start.
            tokens: 0.0,
            last: Instant::now(),
            wait: None,
        }
    }

    /// How many of `want` (> 0) bytes may go now; Pending until some may.
    fn poll_allowance(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<usize> {
        loop {
            if let Some(wait) = &mut self.wait {
                ready!(wait.as_mut().poll(cx));
                self.wait = None;
            }
            let now = Instant::now();
            let earned = self.rate * now.duration_since(self.last).as_secs_f64();
            self.tokens = (self.tokens + earned).min(self.burst);
            self.last = now;
            // Half a bucket at a time rather than a trickle of tiny writes,
            // each with a timer of its own.
            let need = (want as f64).min(self.burst / 2.0);
            if self.tokens >= need {
                return Poll::Ready((self.tokens as usize).min(want));
            }
            let secs = (need - self.tokens) / self.rate;
            self.wait = Some(Box::pin(tokio::time::sleep(Duration::from_secs_f64(secs))));
        }
    }
}

/// `S` with its writes capped (or not, for an uncapped store).
pub struct Capped<S> {
    inner: S,
    bucket: Option<Bucket>,
}

impl<S> Capped<S> {
    pub fn new(inner: S, bytes_per_second: Option<u64>) -> Self {
        Capped {
            inner,
            bucket: bytes_per_second.map(Bucket::new),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Capped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Capped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let allowed = match &mut this.bucket {
            Some(bucket) if !buf.is_empty() => ready!(bucket.poll_allowance(cx, buf.len())),
            _ => buf.len(),
        };
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]))?;
        if let Some(bucket) = &mut this.bucket {
            bucket.tokens -= written as f64;
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
