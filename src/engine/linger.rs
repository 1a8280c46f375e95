//! A client connection that llmspy closes while the client may still be
//! sending is drained for a moment before the socket goes (nginx's
//! "lingering close").
//!
//! When a response comes back before its request body is all in (an
//! upstream refusing an upload with `413`), hyper answers and then closes
//! the connection without reading the rest. Closing a socket with unread
//! bytes makes the kernel send a reset, and a client still uploading then
//! fails with "broken pipe" or "connection reset" instead of reading the
//! answer already sent to it. curl, for one, stops uploading once it sees
//! a final response, so reading and dropping what is still coming for a
//! short while lets the answer through.
//!
//! Only a connection that llmspy shut down itself lingers (hyper calls
//! `poll_shutdown` when it closes a connection); one dropped for being idle
//! or shed closes at once. A lingering connection ends at the client's end
//! of file, after `IDLE` without data or after `MOST` in all.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// How long a lingering connection waits for more from the client.
const IDLE: Duration = Duration::from_secs(2);
/// How long a lingering connection lasts at most.
const MOST: Duration = Duration::from_secs(10);

pub struct Lingering<S: AsyncRead + Unpin + Send + 'static> {
    /// Always `Some` until dropped: the drain takes it then.
    inner: Option<S>,
    shut_down: bool,
}

impl<S: AsyncRead + Unpin + Send + 'static> Lingering<S> {
    pub fn new(inner: S) -> Self {
        Lingering {
            inner: Some(inner),
            shut_down: false,
        }
    }

    fn io(&mut self) -> Pin<&mut S> {
        Pin::new(self.inner.as_mut().expect("taken only on drop"))
    }
}

impl<S: AsyncRead + Unpin + Send + 'static> Drop for Lingering<S> {
    fn drop(&mut self) {
        let (Some(io), true) = (self.inner.take(), self.shut_down) else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(io));
        }
    }
}

/// Read and drop what the client still sends, within the limits above.
async fn drain<S: AsyncRead + Unpin>(mut io: S) {
    let until = tokio::time::Instant::now() + MOST;
    let mut sink = vec![0u8; 16 * 1024];
    loop {
        let wait = until.min(tokio::time::Instant::now() + IDLE);
        match tokio::time::timeout_at(wait, io.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
    }
}

impl<S: AsyncRead + Unpin + Send + 'static> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io().poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.as_ref().is_some_and(S::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = ready!(self.io().poll_shutdown(cx));
        self.shut_down = true;
        Poll::Ready(done)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// The server answers and shuts down while the client is still sending
    /// megabytes; the client finishes sending and still reads the answer.
    #[tokio::test]
    async fn an_answer_sent_before_the_upload_ended_is_still_read() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut io = Lingering::new(tcp);
            let mut first = [0u8; 1024];
            io.read_exact(&mut first).await.unwrap();
            io.write_all(b"413 too large").await.unwrap();
            io.shutdown().await.unwrap();
            // Dropped with megabytes unread.
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let chunk = vec![b'u'; 64 * 1024];
        for _ in 0..512 {
            client
                .write_all(&chunk)
                .await
                .expect("no reset while uploading");
        }
        client.shutdown().await.unwrap();
        let mut answer = String::new();
        client
            .read_to_string(&mut answer)
            .await
            .expect("answer read");
        assert_eq!(answer, "413 too large");
        server.await.unwrap();
    }
}
