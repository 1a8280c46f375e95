//! An upstream that closes its TLS connection without `close_notify` ends
//! its stream as a plain close would.
//!
//! rustls reports such a close as an `UnexpectedEof` error, and hyper
//! turns any read error into a failed body. Many servers close that way
//! (Python's `ssl` module, servers behind some load balancers), and curl,
//! browsers and nginx as a proxy take it as the end of the stream: a
//! response whose body runs until the connection closes (no length, not
//! chunked) then arrived whole for them and broke only through llmspy.
//!
//! Reading it as an end of file keeps every check that matters: hyper still
//! fails a body that declared a length or was chunked and stopped short
//! ("incomplete message"), and an HTTP/2 connection that ends with streams
//! open still fails them.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Uri;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

use super::BoxError;

/// `inner`'s connections, each read through [`LenientClose`].
#[derive(Debug, Clone)]
pub struct LenientCloseConnector<C>(pub C);

/// A connection whose `UnexpectedEof` reads as the end of the stream.
#[derive(Debug)]
pub struct LenientClose<T>(T);

type Connecting<T> = Pin<Box<dyn Future<Output = Result<LenientClose<T>, BoxError>> + Send>>;

impl<C> tower_service::Service<Uri> for LenientCloseConnector<C>
where
    C: tower_service::Service<Uri>,
    C::Future: Send + 'static,
    C::Response: Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = LenientClose<C::Response>;
    type Error = BoxError;
    type Future = Connecting<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move { Ok(LenientClose(connecting.await.map_err(Into::into)?)) })
    }
}

impl<T: Connection> Connection for LenientClose<T> {
    fn connected(&self) -> Connected {
        self.0.connected()
    }
}

impl<T: Read + Unpin> Read for LenientClose<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf) {
            // Nothing was filled: the caller sees an end of file.
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                tracing::debug!("upstream closed without TLS close_notify: read as the end");
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: Write + Unpin> Write for LenientClose<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
