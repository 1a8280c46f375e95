//! A client that reads nothing is closed (nginx's `send_timeout`).
//!
//! Backpressure is how a proxy keeps a slow reader from costing memory:
//! the relay writes only what the client's socket takes. A client that
//! never reads holds its connection, the upstream's, and the buffers
//! between them for as long as it likes: 200 such clients of a 20 MB
//! download held 1.2 GB. Every write to the client's socket that makes no
//! progress for the client idle limit (`clientIdleTimeoutSeconds`) fails
//! with `TimedOut`, which ends the connection as a client gone. A slow
//! reader is not touched: any byte taken starts the wait again.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct WriteDeadline<S> {
    inner: S,
    limit: Option<Duration>,
    /// Armed at the first write that made no progress; made once, then
    /// reset (most connections never wait).
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
}

impl<S> WriteDeadline<S> {
    pub fn new(inner: S, limit: Option<Duration>) -> Self {
        WriteDeadline {
            inner,
            limit,
            timer: None,
            waiting: false,
        }
    }

    /// The write made progress (or failed on its own): the wait is over.
    fn moved<T>(&mut self, result: io::Result<T>) -> Poll<io::Result<T>> {
        self.waiting = false;
        Poll::Ready(result)
    }

    /// The write made no progress: pending until the limit, then an error.
    fn stuck<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let Some(limit) = self.limit else {
            return Poll::Pending;
        };
        let deadline = Instant::now() + limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.waiting {
            timer.as_mut().reset(deadline);
            self.waiting = true;
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the client read nothing for {} (clientIdleTimeoutSeconds)",
                    super::guard::seconds(limit)
                ),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WriteDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, buf) {
            Poll::Ready(r) => self.moved(r),
            Poll::Pending => self.stuck(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => self.moved(r),
            Poll::Pending => self.stuck(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(r) => self.moved(r),
            Poll::Pending => self.stuck(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A reader that takes nothing fails the writer at the limit; one that
    /// reads, however slowly, never does.
    #[tokio::test(start_paused = true)]
    async fn a_reader_that_takes_nothing_fails_the_write_at_the_limit() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = WriteDeadline::new(server, Some(Duration::from_secs(10)));
        let started = Instant::now();
        let err = writer
            .write_all(&[0u8; 64 * 1024])
            .await
            .expect_err("nobody reads");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed().as_secs(), 10, "{err}");
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_is_not_touched() {
        let (mut client, server) = tokio::io::duplex(1024);
        let mut writer = WriteDeadline::new(server, Some(Duration::from_secs(10)));
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 512];
            let mut total = 0;
            while total < 16 * 1024 {
                // Slower than nothing at all, faster than the limit.
                tokio::time::sleep(Duration::from_secs(5)).await;
                total += tokio::io::AsyncReadExt::read(&mut client, &mut buf)
                    .await
                    .expect("read");
            }
            total
        });
        writer.write_all(&[0u8; 16 * 1024]).await.expect("written");
        drop(writer);
        assert!(reading.await.expect("reader") >= 16 * 1024);
    }
}
