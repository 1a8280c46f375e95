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
//!
//! What counts as a byte taken is the kernel's send queue going down, not
//! a write going through: with a send buffer autotuned to megabytes, Linux
//! reports the socket writable again only once a good part of it drained,
//! so a steady reader at 200 KB/s saw no successful write for seconds.
//! When the limit passes with no write through, the queue (`SIOCOUTQ`:
//! bytes the client has not acknowledged) is read: lower than at the last
//! look, the client is reading and the wait starts again.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct WriteDeadline<S> {
    inner: S,
    fd: RawFd,
    limit: Option<Duration>,
    /// Armed at the first write that made no progress; made once, then
    /// reset (most connections never wait).
    timer: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    /// The send queue at the start of the current wait.
    queued: Option<u64>,
}

impl<S: AsRawFd> WriteDeadline<S> {
    pub fn new(inner: S, limit: Option<Duration>) -> Self {
        let fd = inner.as_raw_fd();
        WriteDeadline {
            inner,
            fd,
            limit,
            timer: None,
            waiting: false,
            queued: None,
        }
    }
}

/// Bytes in the socket's send queue the peer has not acknowledged; `None`
/// where the system cannot say (the wait then ends at the limit).
pub(super) fn send_queue(fd: RawFd) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ for sockets) writes one int to the
        // pointer given; `fd` is a client socket (this wrapper's, or the one
        // an HTTP/2 stream's connection serves, stream_deadline.rs), and on
        // any other descriptor the call fails or reads a count.
        let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut queued) };
        (rc == 0).then(|| u64::try_from(queued).unwrap_or(0))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        None
    }
}

impl<S> WriteDeadline<S> {
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
            self.queued = send_queue(self.fd);
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // The limit passed with no write through: did the client take
            // anything from the queue meanwhile?
            let now = send_queue(self.fd);
            match (self.queued, now) {
                (Some(before), Some(after)) if after < before => {
                    self.queued = now;
                    timer.as_mut().reset(Instant::now() + limit);
                }
                _ => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the client read nothing for {} (clientIdleTimeoutSeconds)",
                            super::guard::seconds(limit)
                        ),
                    )));
                }
            }
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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
        (client.expect("connect"), accepted.expect("accept").0)
    }

    const LIMIT: Duration = Duration::from_millis(300);

    /// A reader that takes nothing fails the writer once the limit passes
    /// with the queue unmoved.
    #[tokio::test]
    async fn a_reader_that_takes_nothing_fails_the_write() {
        let (client, server) = pair().await;
        let mut writer = WriteDeadline::new(server, Some(LIMIT));
        let chunk = vec![0u8; 1 << 20];
        let err = loop {
            if let Err(e) = writer.write_all(&chunk).await {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        drop(client);
    }

    /// A reader slower than the kernel's buffers drain in one limit, but
    /// steady, is never cut: the queue goes down between looks.
    #[tokio::test]
    async fn a_steady_slow_reader_is_not_touched() {
        let (mut client, server) = pair().await;
        let total = 6 << 20;
        let reading = tokio::spawn(async move {
            let mut buf = vec![0u8; 8 * 1024];
            let mut got = 0;
            while got < total {
                // About 1.6 MB/s: far slower than loopback, faster than
                // nothing at all.
                tokio::time::sleep(Duration::from_millis(5)).await;
                match client.read(&mut buf).await.expect("read") {
                    0 => break,
                    n => got += n,
                }
            }
            got
        });
        let mut writer = WriteDeadline::new(server, Some(LIMIT));
        writer
            .write_all(&vec![0u8; total])
            .await
            .expect("written in full");
        writer.shutdown().await.expect("shut down");
        assert_eq!(reading.await.expect("reader"), total);
    }
}
