//! Serving HTTP/1.1 and HTTP/2 on one client connection, wherever it came
//! from (the proxy port, an intercepted tunnel). Each request counts as
//! activity for the client idle deadline until its response body is done,
//! and a panic while answering one request is caught: that request gets a
//! 500, its exchange is recorded as failed, the connection carries on.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite};

use super::BoxError;
use super::conns::{Active, Closed, Conn};
use super::cork::Scoped;
use super::relay::error_response;
use super::stream_deadline::{Executor, Watch};
use super::unwind::CatchUnwind;
use super::upstream::UpstreamBody;

/// The most headers one HTTP/2 request (from a client) or response (from
/// an upstream) may carry.
pub const MAX_HEADER_LIST: u32 = 256 * 1024;

/// Serve `io` until the client is done; `answer` produces each request's
/// response; `idle_limit` (`clientIdleTimeoutSeconds`) also bounds how
/// long an HTTP/2 stream may wait for its client to take anything. The
/// caller races this against `conn.closed(..)` (idle past the same limit,
/// or shed): one watch per connection, as each extra one is polled again
/// on every wake-up of the connection's task.
pub async fn http<S, F, Fut>(
    io: S,
    (conn, idle_limit): (Arc<Conn>, Option<std::time::Duration>),
    who: String,
    answer: F,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<UpstreamBody>> + Send + 'static,
{
    let requests = conn.clone();
    // Shared, not copied, by each request's future (for a panic's message).
    let label: Arc<str> = who.as_str().into();
    let svc = service_fn(move |req: Request<Incoming>| {
        let active = requests.request();
        // No body goes with an answer to HEAD, nor with a 204 or 304
        // (RFC 9110 §6.4.1). hyper's HTTP/1 side leaves it out; over HTTP/2
        // a DATA frame after such a head is a protocol error, and llmspy's
        // own answers (an error, a mock) may have bodies.
        let head_only = req.method() == http::Method::HEAD;
        // Boxed once here: hyper moves the service's future several times
        // before polling it, and a relay's future is kilobytes.
        let answering = CatchUnwind::new(Box::pin(answer(req)));
        let who = label.clone();
        async move {
            let resp = answering
                .await
                .unwrap_or_else(|panic| internal_error(&who, &panic));
            let resp = if head_only || super::relay::bodiless(resp.status()) {
                resp.map(|_| super::relay::empty())
            } else {
                resp
            };
            Ok::<_, Infallible>(resp.map(|body| Held::new(body, active).boxed()))
        }
    });
    // Each HTTP/2 stream runs with a deadline on its client taking nothing
    // of it (stream_deadline.rs).
    let streams = Executor {
        limit: idle_limit,
        socket: conn.socket(),
    };
    let mut builder = hyper_util::server::conn::auto::Builder::new(streams);
    // hyper's HTTP/2 default (16 KiB of headers) is below what servers take
    // (nginx and Cloudflare 32 KiB and more) and what its HTTP/1 side reads:
    // llmspy should not be the narrowest link, the upstream decides. The
    // same holds for responses (upstream.rs).
    builder.http2().max_header_list_size(MAX_HEADER_LIST);
    // Writes of a corked stream (HTTP/2) are gathered while the connection
    // is polled and sent when the poll returns (cork.rs).
    let serving = Scoped::new(builder.serve_connection_with_upgrades(TokioIo::new(io), svc));
    if let Err(e) = serving.await {
        // A head hyper could not parse (too many headers, too large, not
        // HTTP): kinds of `is_parse`.
        match super::failure::find::<hyper::Error>(&*e).filter(|h| h.is_parse()) {
            // hyper has answered it (400, 431) and closed: no exchange was
            // recorded, so the log is where the user learns of it.
            Some(why) => super::noisy::warn("unreadable-request", || {
                format!(
                    "{who}: a request llmspy could not read ({why}); the client was answered with an error"
                )
            }),
            None => tracing::debug!("{who}: connection ended: {e}"),
        }
    }
}

/// Say why llmspy closed a client connection itself.
pub fn log_closed(who: &str, closed: Closed) {
    match closed {
        Closed::Idle(limit) => tracing::debug!(
            "{who}: no request for {} (clientIdleTimeoutSeconds); closed",
            super::guard::seconds(limit)
        ),
        Closed::Shed => tracing::debug!("{who}: idle; closed to make room for new connections"),
    }
}

fn internal_error(who: &str, panic: &str) -> Response<UpstreamBody> {
    tracing::error!("{who}: a request hit a bug in llmspy ({panic}); answered 500, still serving");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "llmspy: internal error while handling this request (see llmspy's log)\n".into(),
    )
}

pin_project! {
    /// A response body that keeps its request counted as in progress until
    /// the body is finished or dropped, and tells an HTTP/2 stream's
    /// deadline when it waits for the client.
    struct Held<B> {
        #[pin]
        inner: B,
        _active: Active,
        watch: Option<Arc<Watch>>,
    }
}

impl<B> Held<B> {
    fn new(inner: B, active: Active) -> Self {
        Held {
            inner,
            _active: active,
            watch: Watch::current(),
        }
    }
}

impl<B: Body<Data = Bytes, Error = BoxError>> Body for Held<B> {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Some(watch) = this.watch {
            match &polled {
                Poll::Ready(Some(Ok(frame))) if frame.is_data() => watch.handed(),
                _ => watch.asked(),
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
