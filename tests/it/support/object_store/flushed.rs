//! A connection that counts its completed flushes, so an answer can tell
//! when its bytes have left for the client. hyper buffers what a body yields
//! and flushes the socket only once its buffer is empty (it then calls the
//! socket's `poll_flush`): a flush that completes after a piece was yielded
//! means that piece is out. A body that fails drops whatever hyper still
//! buffers, and a body's last piece is yielded well before it is sent, so
//! `cut_once` and `hold_at` wait for this rather than for the yield.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;

/// Each completed flush of one connection, counted; dropped with the
/// connection, so a waiter learns that it is gone.
pub type Flushes = Arc<watch::Sender<u64>>;

pub struct Flushed<S> {
    inner: S,
    flushes: Flushes,
}

impl<S> Flushed<S> {
    pub fn new(inner: S, flushes: Flushes) -> Self {
        Flushed { inner, flushes }
    }
}

/// The next completed flush of `flushes`' connection from now: true once it
/// comes, false if the connection goes away first.
pub fn next_flush(flushes: &Flushes) -> impl Future<Output = bool> + Send + use<> {
    let mut rx = flushes.subscribe();
    async move { rx.changed().await.is_ok() }
}

impl<S: AsyncRead + Unpin> AsyncRead for Flushed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Flushed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        this.flushes.send_modify(|n| *n += 1);
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
