//! When a request lost to a closing upstream connection goes out again.
//!
//! A server closes an idle connection when its keep-alive timeout passes
//! (uvicorn's and Node's are 5 s), and a request written at that moment is
//! lost with it: the server read nothing, or read it and closed anyway. A
//! client talking to the server directly sees the same race, and nginx
//! (`proxy_next_upstream`) and Go's client answer it the same way: a
//! request that is safe to send twice (RFC 9110 §9.2.2) and has no body is
//! sent once more, when its connection closed at once without a whole
//! response head (a partial head counts as none, as for nginx's
//! `proxy_next_upstream error`). pinned.rs sends it on a new connection;
//! the pool sends it on another of its connections, a new one when it
//! keeps none idle (a server closing idle connections on its keep-alive
//! timer has closed the others too, and the pool drops closed ones). A
//! server that held the request a while may have acted on it, so a late
//! close is reported as it is.
//!
//! pinned.rs applies this to a connection idle long enough to be closing.
//! The pooled client does not say whether it sent a request on a connection
//! it had kept, so relay/send.rs watches whether sending it started a connection
//! ([`Watched`]): a request that failed on a connection just opened was not
//! lost to a keep-alive timeout, and a server that closes on it (crashing
//! on the request, say) is not sent it twice.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::Request;
use http_body::Body as _;
use http_body_util::BodyExt;

use super::failure;
use super::upstream::UpstreamBody;
use crate::capture::{CaptureMsg, Recorder};

/// A request is sent again only when its connection closed this soon after
/// it went out: a server's keep-alive close comes at once.
const CLOSED_AT_ONCE: Duration = Duration::from_millis(500);

/// The record a resend is written into: the exchange's timings get the
/// moment it went out again, so the record says the server may have read
/// the request twice.
pub struct Record<'a> {
    pub recorder: &'a Recorder,
    pub id: u64,
    pub started: Instant,
}

/// A copy of a request's head, kept while the request is out in case its
/// connection closes unanswered.
pub struct Resend {
    copy: Request<UpstreamBody>,
    sent: Instant,
}

impl Resend {
    /// A copy of `req` to send again, for a method safe to repeat with no
    /// body; `None` for any other request.
    pub fn of(req: &Request<UpstreamBody>) -> Option<Resend> {
        // An empty body may still be framed (HTTP/2's empty DATA frame after
        // `content-length: 0`): its declared length says it is empty.
        let body = req.body();
        if !req.method().is_idempotent()
            || !(body.is_end_stream() || body.size_hint().exact() == Some(0))
        {
            return None;
        }
        let empty = http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed();
        let mut copy = Request::new(empty);
        *copy.method_mut() = req.method().clone();
        *copy.uri_mut() = req.uri().clone();
        *copy.version_mut() = req.version();
        *copy.headers_mut() = req.headers().clone();
        Some(Resend {
            copy,
            sent: Instant::now(),
        })
    }

    /// The request to send again if `e` ended the first one: its
    /// connection closed (or was reset) at once, before any answer.
    pub fn after(
        self,
        e: &(dyn std::error::Error + 'static),
        authority: &str,
        record: &Record<'_>,
    ) -> Option<Request<UpstreamBody>> {
        if self.sent.elapsed() >= CLOSED_AT_ONCE || !closed_unanswered(e) {
            return None;
        }
        let at_us = u64::try_from(record.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        record.recorder.send(CaptureMsg::Resent {
            id: record.id,
            at_us,
        });
        // A warning, throttled: the server may have read the request before
        // it closed, and a recorder should say when one exchange it shows
        // went out twice.
        super::noisy::warn("resend", || {
            format!(
                "{authority}: the server closed a kept connection as {} {} went out; sent again on another connection (the server may have read it twice)",
                self.copy.method(),
                self.copy.uri().path()
            )
        });
        Some(self.copy)
    }
}

thread_local! {
    /// Set when the upstream connector starts a connection; read around
    /// each poll of a [`Watched`] send.
    static CONNECTED: Cell<bool> = const { Cell::new(false) };
}

/// Called by the upstream connector as it starts a connection: the send
/// being polled on this thread, if any, is not on a kept connection.
pub fn connecting() {
    CONNECTED.with(|c| c.set(true));
}

/// A pooled send, noting whether polling it started a new connection.
/// hyper-util's pool starts its connect inside the request's own poll when
/// no idle connection is there to check out; a task's poll runs whole
/// before the next task's, so the flag set meanwhile is this send's.
pub struct Watched<F> {
    inner: F,
    opened: bool,
}

impl<F> Watched<F> {
    pub fn new(inner: F) -> Self {
        Watched {
            inner,
            opened: false,
        }
    }

    /// Whether the request may have gone out on a connection the pool
    /// kept (none was started while it was sent).
    pub fn on_kept_connection(&self) -> bool {
        !self.opened
    }
}

impl<F: Future + Unpin> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let outer = CONNECTED.with(|c| c.replace(false));
        let polled = Pin::new(&mut self.inner).poll(cx);
        if CONNECTED.with(|c| c.replace(outer)) {
            self.opened = true;
        }
        polled
    }
}

/// Whether `e` is a connection that closed (or was reset) before the
/// response came.
fn closed_unanswered(e: &(dyn std::error::Error + 'static)) -> bool {
    if failure::find::<hyper::Error>(e).is_some_and(hyper::Error::is_incomplete_message) {
        return true;
    }
    failure::find::<std::io::Error>(e).is_some_and(|io| {
        matches!(
            io.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, body: &'static str) -> Request<UpstreamBody> {
        let body = http_body_util::Full::new(bytes::Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed();
        Request::builder()
            .method(method)
            .uri("/v1/models")
            .header("x-api-key", "k")
            .body(body)
            .expect("request")
    }

    #[test]
    fn only_bodiless_requests_safe_to_repeat_are_copied() {
        assert!(Resend::of(&request("GET", "")).is_some());
        assert!(Resend::of(&request("DELETE", "")).is_some());
        assert!(Resend::of(&request("POST", "")).is_none());
        assert!(Resend::of(&request("PUT", "x")).is_none());
    }

    #[test]
    fn a_reset_at_once_sends_the_copy_and_says_so_in_the_record() {
        let (recorder, mut sent) = Recorder::bare(crate::capture::Limits::default());
        let record = Record {
            recorder: &recorder,
            id: 7,
            started: Instant::now(),
        };
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let copy = Resend::of(&request("GET", ""))
            .and_then(|r| r.after(&reset, "a:1", &record))
            .expect("sent again");
        assert_eq!(copy.uri(), "/v1/models");
        assert_eq!(copy.headers()["x-api-key"], "k");
        assert!(matches!(
            sent.try_recv(),
            Ok(CaptureMsg::Resent { id: 7, .. })
        ));
        let timeout = std::io::Error::from(std::io::ErrorKind::TimedOut);
        let resend = Resend::of(&request("GET", "")).expect("copied");
        assert!(resend.after(&timeout, "a:1", &record).is_none());
        assert!(
            sent.try_recv().is_err(),
            "nothing recorded when not sent again"
        );
    }
}
