//! A request body the upstream never took. When the upstream cannot be
//! reached (refused, no such host, a TLS failure), hyper drops the request
//! with its body unread, and the capture would show the call without what
//! was sent: no prompt, no model, for exactly the calls a user wants to
//! look at. [`Unsent`] wraps a body so that, dropped before its first
//! poll, it hands the client's body back; [`capture`] then reads it
//! through a tee, as a forwarded body is read, before the failure is
//! answered.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::oneshot;

use crate::capture::Recorder;
use crate::engine::tee::{Side, Tee};
use crate::exchange::ExchangeId;

/// How long an unsent body may take to arrive before the failure is
/// answered anyway: the client's bytes are usually there already.
const READ_LIMIT: Duration = Duration::from_secs(2);

/// A request body that gives itself back if dropped unpolled.
pub struct Unsent {
    inner: Option<Incoming>,
    back: Option<oneshot::Sender<Incoming>>,
}

/// Wrap `body`; the receiver gets it back if it is dropped before hyper
/// polled it. None for a body that is empty from the start (nothing to
/// lose, and no channel to pay for on every GET).
pub fn wrap(body: Incoming) -> (Unsent, Option<oneshot::Receiver<Incoming>>) {
    if body.is_end_stream() {
        let unsent = Unsent {
            inner: Some(body),
            back: None,
        };
        return (unsent, None);
    }
    let (tx, rx) = oneshot::channel();
    let unsent = Unsent {
        inner: Some(body),
        back: Some(tx),
    };
    (unsent, Some(rx))
}

impl Body for Unsent {
    type Data = bytes::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        // Polled: the upstream takes it, and the tee records it.
        self.back = None;
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}

impl Drop for Unsent {
    fn drop(&mut self) {
        if let (Some(back), Some(inner)) = (self.back.take(), self.inner.take()) {
            let _ = back.send(inner);
        }
    }
}

/// A request body's tee: past the cap, its length in runs (a request is
/// not a stream of events whose frames' times anyone reads).
pub(super) fn request_tee<B: Body>(
    body: B,
    id: ExchangeId,
    recorder: Recorder,
    started: Instant,
    idle_limit: Option<Duration>,
) -> Tee<B> {
    let cap = recorder.limits().max_body_capture_bytes;
    Tee::new(body, Side::Request, id, recorder, started, cap, idle_limit).lengths_in_runs_past_cap()
}

/// Record the body the upstream never took, up to the capture cap and for
/// at most [`READ_LIMIT`]; past the cap nothing more is read.
pub async fn capture(
    back: Option<oneshot::Receiver<Incoming>>,
    id: ExchangeId,
    recorder: &Recorder,
    started: Instant,
) {
    let Some(Ok(body)) = back.map(|mut rx| rx.try_recv()) else {
        return;
    };
    let cap = recorder.limits().max_body_capture_bytes;
    let tee = request_tee(body, id, recorder.clone(), started, None);
    let mut tee = std::pin::pin!(tee);
    let read = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = tee.frame().await {
            seen += frame.data_ref().map_or(0, bytes::Bytes::len);
            if seen >= cap {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(READ_LIMIT, read).await;
}
