//! An upstream connection as hyper reads and writes it: ended and broken
//! the way curl takes them, so that what works without llmspy in between
//! works through it.
//!
//! - **A TLS close without `close_notify` reads as an end of file.** rustls
//!   reports it as an `UnexpectedEof` error, and hyper turns any read error
//!   into a failed body. Many servers close that way (Python's `ssl` module,
//!   some load balancers), and curl, browsers and nginx as a proxy take it
//!   as the end: a body that runs until the connection closes (no length,
//!   not chunked) arrived whole for them and broke only through llmspy.
//!   Nothing that matters is lost: hyper still fails a body that declared a
//!   length or was chunked and stopped short ("incomplete message"), and an
//!   HTTP/2 connection that ends with streams open still fails them.
//! - **Writes after the upstream stopped reading are dropped.** A server
//!   that refuses a large upload answers at once (`413`, `401`) and closes
//!   without reading the rest; the next write fails with a broken pipe, and
//!   hyper gave up on the whole exchange, so the client got a `502` where
//!   curl direct shows the server's answer. The answer is already on its way
//!   in, so the rest of the body is dropped and the answer read. If no
//!   answer comes, the read side fails the exchange as before ("closed
//!   before the message completed").

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

use super::BoxError;
use super::cork::Corked;

/// `inner`'s connections, each wrapped in [`UpstreamIo`] and a cork.
#[derive(Debug, Clone)]
pub struct UpstreamIoConnector<C>(pub C);

/// A connection read and written as the module says.
#[derive(Debug)]
pub struct UpstreamIo<T> {
    inner: T,
    /// The upstream stopped reading: writes are dropped from now on.
    unread: bool,
}

type Connecting<T> = Pin<Box<dyn Future<Output = Result<Corked<UpstreamIo<T>>, BoxError>> + Send>>;

impl<C> tower_service::Service<Uri> for UpstreamIoConnector<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Response: Connection + Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = Corked<UpstreamIo<C::Response>>;
    type Error = BoxError;
    type Future = Connecting<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let inner = connecting.await.map_err(Into::into)?;
            // HTTP/2 writes are gathered per poll of the connection's task
            // (cork.rs; the client's executor polls it in a scope).
            let h2 = inner.connected().is_negotiated_h2();
            let io = UpstreamIo {
                inner,
                unread: false,
            };
            Ok(Corked::new(io, h2))
        })
    }
}

impl<T: Connection> Connection for UpstreamIo<T> {
    /// What the pool needs (was HTTP/2 agreed, is it a proxy), without the
    /// socket addresses hyper's connector attaches: the client would insert
    /// them into every response's extensions (three allocations per
    /// exchange), and nothing in llmspy reads them.
    fn connected(&self) -> Connected {
        let inner = self.inner.connected();
        let bare = Connected::new().proxy(inner.is_proxied());
        match inner.is_negotiated_h2() {
            true => bare.negotiated_h2(),
            false => bare,
        }
    }
}

impl<T: Read + Unpin> Read for UpstreamIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            // Nothing was filled: the caller sees an end of file.
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                tracing::debug!("upstream closed without TLS close_notify: read as the end");
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// The upstream closed its end (or reset it) while llmspy was writing.
fn stopped_reading(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

impl<T: Write + Unpin> UpstreamIo<T> {
    /// A write's outcome, with a broken pipe turned into bytes dropped.
    fn written(&mut self, len: usize, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match polled {
            Poll::Ready(Err(e)) if stopped_reading(&e) => {
                tracing::debug!(
                    "upstream stopped reading ({e}): the rest of the request is dropped"
                );
                self.unread = true;
                Poll::Ready(Ok(len))
            }
            other => other,
        }
    }
}

impl<T: Write + Unpin> Write for UpstreamIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.unread {
            return Poll::Ready(Ok(buf.len()));
        }
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.written(buf.len(), polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        if self.unread {
            return Poll::Ready(Ok(len));
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.written(len, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unread {
            return Poll::Ready(Ok(()));
        }
        match Pin::new(&mut self.inner).poll_flush(cx) {
            Poll::Ready(Err(e)) if stopped_reading(&e) => {
                self.unread = true;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unread {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
